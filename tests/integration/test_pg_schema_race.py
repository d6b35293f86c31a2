"""Two desks starting at once on a new PostgreSQL database both open it.

The ownership check listed the tables twice: once for the marks, once for what else the
database held. A desk that created the store between the two listings (its tables and marks
arrive in one commit) made the other see tables and no mark and refuse the store as another
program's: one of two desks exited 2 (``test_two_paper_desks_at_once_on_one_postgresql_store``
failed so under load). Here the other desk creates the store at exactly that moment.
"""

from __future__ import annotations

import pytest

from tui_trader.store.pg import PgAuditDatabase
from tui_trader.store.pg_open import open_pg
from tui_trader.store.pg_schema import check_pg
from tui_trader.store.pg_url import parse_db_url


def test_a_store_created_by_another_desk_during_the_check_is_ours(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = parse_db_url(pg_url)
    listed = PgAuditDatabase.get_tables
    other_started = []

    def the_other_desk_creates_it_meanwhile(self: PgAuditDatabase, *args, **kwargs):
        tables = listed(self, *args, **kwargs)
        if not other_started:  # right after the first desk's first look: an empty database
            other_started.append(True)
            open_pg(url).close()  # the other desk, on its own connection, creates the store
        return tables

    monkeypatch.setattr(PgAuditDatabase, "get_tables", the_other_desk_creates_it_meanwhile)
    first = PgAuditDatabase(url)
    first.connect()
    try:
        assert check_pg(first) is None  # ours (empty when looked at), not another program's
    finally:
        first.close()
    assert other_started
    db = open_pg(url)  # and the first desk then opens it like any created store
    try:
        assert check_pg(db) is None and "tui_trader_meta" in db.get_tables()
    finally:
        db.close()
