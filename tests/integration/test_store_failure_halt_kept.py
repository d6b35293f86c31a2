"""A session stopped by its store's failure leaves its account halted, as its event says.

When the audit store fails mid-session (an SQLite file locked past the busy timeout or turned
read-only, a PostgreSQL server gone or refusing a write), the session halts, and its one more
attempt writes a ``session_error`` event saying "halted trading until reset". The account's risk
state was not written with it: once the store was back, the next start on the account read an
active account and traded, contradicting the event. Now the event and the account's halted
state are written in one commit. (A full SQLite disk writes neither: nothing fits.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import peewee
import psycopg
import pytest

from tests.conftest import Flipper, file_rows, make_session
from tests.integration.lock_helpers import paper_under_a_held_lock
from tui_trader.engine.records import SessionRecords
from tui_trader.engine.session import TradingSession
from tui_trader.session.runner import SessionRunner
from tui_trader.session.store_endings import AUDIT_FULL, SESSION_ERROR
from tui_trader.store.db import open_database
from tui_trader.store.models import database
from tui_trader.store.pg_url import PgUrl, parse_db_url
from tui_trader.store.statements import load_risk_state

ACCOUNT = "alpaca:PA-store-failure"


def _wrapped(error: Exception) -> Exception:
    """``error`` as peewee hands it to the session (the driver's error wrapped)."""
    try:
        with peewee.__exception_wrapper__:
            raise error
    except peewee.DatabaseError as wrapped:
        return wrapped
    raise AssertionError("peewee did not wrap the error")


def _raise(error: Callable[[], Exception]) -> Callable[[Any], None]:
    """A failure raised as the store answers a cycle's write."""

    def fail(db: Any) -> None:
        raise error()

    return fail


def _terminate_own_connection(db: Any) -> None:
    """The server ends the session's connection (a restart, an administrator's
    ``pg_terminate_backend``): a real lost store; the one more attempt reconnects."""
    db.execute_sql("SELECT pg_terminate_backend(pg_backend_pid())")


FAILURES: dict[str, tuple[str, Callable[[Any], None], str]] = {
    "sqlite-locked": (
        "sqlite",
        _raise(lambda: _wrapped(sqlite3.OperationalError("database is locked"))),
        SESSION_ERROR,
    ),
    "sqlite-read-only": (
        "sqlite",
        _raise(lambda: _wrapped(sqlite3.OperationalError("attempt to write a readonly database"))),
        SESSION_ERROR,
    ),
    "postgresql-lost": ("postgresql", _terminate_own_connection, SESSION_ERROR),
    "postgresql-refused": (
        "postgresql",
        _raise(lambda: _wrapped(psycopg.errors.DiskFull("could not extend file"))),
        AUDIT_FULL,
    ),
}


@pytest.mark.parametrize("name", sorted(FAILURES))
def test_a_store_failure_s_halt_stops_the_account_s_next_start(
    name: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, fail, reason = FAILURES[name]
    store: Path | PgUrl = tmp_path / "audit.db"
    if engine == "postgresql":
        store = parse_db_url(request.getfixturevalue("pg_url"))
    snapshot = SessionRecords._snapshot

    def failing_at_the_third(self: TradingSession, *args: object) -> None:
        """The store fails as the third cycle writes its snapshot (once)."""
        if self.iteration == 3:
            monkeypatch.setattr(SessionRecords, "_snapshot", snapshot)
            fail(self.audit.db)
        snapshot(self, *args)

    monkeypatch.setattr(SessionRecords, "_snapshot", failing_at_the_third)
    session = make_session(
        store, commit_before_send=True, strategies=[Flipper()], account_key=ACCOUNT
    )
    result = SessionRunner(session, iterations=10).run()
    assert result.audit_failed and result.status == "failed", result
    session.audit.db.close()

    following = make_session(
        store, commit_before_send=True, strategies=[Flipper()], account_key=ACCOUNT
    )
    database.initialize(following.audit.db)
    state = load_risk_state(ACCOUNT)
    assert (state.halted, state.halt_reason) == (True, reason), "the halt was not kept"
    # the halt says the store's failure; the line adds the orders the desk cancelled at the
    # broker as it stopped (``engine.lost_store_cancels``)
    assert state.halt_detail and (result.error or "").startswith(state.halt_detail), result
    report = following.run_iteration()
    assert report is not None and report.orders_sent == 0, "the next start traded"
    following.audit.db.close()


def test_a_lock_held_past_the_busy_timeout_leaves_the_account_halted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real lock (another connection holding it), a ``paper`` session from the CLI: its
    account's row says halted, as its ``session_error`` event does."""
    path = tmp_path / "audit.db"
    open_database(path).close()
    code, taken = paper_under_a_held_lock(path, monkeypatch)
    database.obj.close()
    assert taken and code == 1
    assert file_rows(path, "SELECT event_type FROM live_risk_events") == [(SESSION_ERROR,)]
    assert file_rows(path, "SELECT state, halt_reason FROM risk_state") == [
        ("halted", SESSION_ERROR)
    ]
