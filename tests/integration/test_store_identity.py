"""Every store has a random identity, kept in the store, whose tag its session keys carry: a
halt tells a session of its own store whose row was lost (a restore from an older backup) from
another database's by it (``test_halt_after_restore.py``)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_session
from tui_trader.cli import main
from tui_trader.core.order_ids import key_tag
from tui_trader.store.db import open_database
from tui_trader.store.models import SessionRow
from tui_trader.store.pg import META_TABLE
from tui_trader.store.pg_url import PgUrl
from tui_trader.store.store_identity import STORE_ID, store_tag


def _session_tag(where: Path | PgUrl) -> str | None:
    """The tag a new session's key on ``where`` carries (the session then finished)."""
    session = make_session(where)
    try:
        return key_tag(session.audit.session.key)
    finally:
        session.finish("completed")


def _tag_of(where: Path | PgUrl) -> str | None:
    """The store's own tag, as a session starting on it reads it."""
    db = open_database(where)
    try:
        return store_tag(db)
    finally:
        db.close()


def test_each_store_tags_its_sessions_with_its_own_identity(
    store: Path | PgUrl, tmp_path: Path
) -> None:
    tag = _session_tag(store)
    assert tag is not None and len(tag) == 6
    assert _session_tag(store) == tag == _tag_of(store)  # one identity for every session
    other = _session_tag(tmp_path / "another.db")
    assert other is not None and other != tag


def test_a_backup_and_its_restore_keep_the_stores_identity(tmp_path: Path) -> None:
    """The identity lives in the file: a restored store still knows its sessions' tag."""
    db = tmp_path / "desk.db"
    tag = _session_tag(db)
    assert main(["db", "backup", "--db", str(db), "--to", str(tmp_path / "bk")]) == 0
    (backup,) = (tmp_path / "bk").iterdir()
    assert _tag_of(backup) == tag
    db.unlink()
    assert main(["db", "restore", str(backup), "--db", str(db), "--yes"]) == 0
    assert _session_tag(db) == tag


def test_a_store_of_the_previous_schema_gets_an_identity_when_opened(
    store: Path | PgUrl,
) -> None:
    """A store written before identities (schema 2, untagged keys) is given one by the
    migration; its sessions' keys stay as they were, new ones carry the tag."""
    make_session(store).finish("completed")
    db = open_database(store)
    SessionRow.update(key="1a2b3c4d").execute()  # an untagged key, as schema 2 made them
    if isinstance(store, PgUrl):
        db.execute_sql(f'DELETE FROM "{META_TABLE}" WHERE "key" = %s', (STORE_ID,))
        db.execute_sql(
            f'UPDATE "{META_TABLE}" SET "value" = \'2\' WHERE "key" = \'schema_version\''
        )
    else:
        db.execute_sql(f'DROP TABLE "{META_TABLE}"')
        db.execute_sql("PRAGMA user_version = 2")
    db.close()
    tag = _session_tag(store)
    assert tag is not None and tag == _tag_of(store)
    assert [key_tag(row.key) for row in SessionRow.select().order_by(SessionRow.id)] == [None, tag]
