"""Is this PostgreSQL database ours, and at our schema? Ownership and migrations on the server.

SQLite keeps its marks in the file header (``store.ownership``); here they are two rows of
``tui_trader_meta``: ``application_id`` (``TTRD``) and ``schema_version``. ``check_pg`` decides
before anything is written: an empty database (no tables in its schema) becomes ours; one with
our mark is ours unless a newer program wrote it; anything else (other tables, no mark) is
another program's and is left untouched. ``migrate_pg`` then creates or completes the tables in
one transaction under an advisory lock (two desks starting on a new database wait for each
other instead of racing), with the same generic step as SQLite's (add the columns the models
have and the tables lack), adds the server's own columns (``SERVER_COLUMNS``), gives the store
its identity (a ``store_id`` row beside the marks: ``store.store_identity``), and writes the
marks.

An upgrade changes tables that desks of an older release may be writing to at that moment. It
takes every one of our existing tables at once or none (``NOWAIT``), and tries again while they
are in use: a migration that waited for one table while holding another deadlocked with an older
desk's transaction, and the server ended the older desk's (it halted, exit 1). Now the older
desk never waits on the upgrade for more than the upgrade's own few statements; after
``UPGRADE_WAIT_S`` of tables always in use the newer process refuses in one line.
"""

from __future__ import annotations

import threading
import time

from peewee import OperationalError

from tui_trader.store.migrations import ALL_MODELS, MigrationError, add_missing_columns
from tui_trader.store.ownership import APPLICATION_ID, OUR_TABLES, SCHEMA_VERSION
from tui_trader.store.pg import META_TABLE, MIGRATION_LOCK, PgAuditDatabase
from tui_trader.store.store_identity import ensure_store_id, store_tag
from tui_trader.store.upgraded import read_version, unreadable

_MARK = f"{APPLICATION_ID:08x}"
_VIEW = "CREATE OR REPLACE VIEW live_risks_events AS SELECT * FROM live_risk_events"
SERVER_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("live_fills", "xact", "xid8", "pg_current_xact_id()"),
    ("live_account_snapshots", "xact", "xid8", "pg_current_xact_id()"),
    ("live_account_snapshots", "fills_seen", "TEXT", "(pg_current_snapshot())::text"),
)
"""Columns only the server has (table, column, type, default), filled by their defaults: no
statement names them, so SQLite's rows and statements stay as they are. A sequence gives ids
in insert order, not commit order (a fill inserted first can commit after a snapshot that
noted a higher id); these say which transaction wrote a fill and which transactions a
snapshot saw, for start-up reconciliation's "fills after the snapshot" (``store.lost_rows``).
Added without the default first, then given it: existing rows stay NULL (they committed
before any snapshot that notes what it saw)."""
UPGRADE_WAIT_S = 10.0
"""Seconds an upgrade keeps trying to take the tables other connections are writing to (the
same as SQLite's ``busy_timeout``) before it refuses in one line."""
_RETRY_PAUSE_S = 0.02
_LOCK_NOT_AVAILABLE = "55P03"
BUSY = (
    "its tables stayed in use for {wait:g} s (desks of an older release still writing?), so "
    "they were not upgraded: stop those desks, start this one once, then restart them with it"
)
"""Why an upgrade was given up (``pg_problem`` puts the URL before it and keeps 200 chars)."""
SERVER_INDEX = 'CREATE INDEX IF NOT EXISTS "live_fills_xact" ON "live_fills" ("xact")'
"""A broker-backed session's snapshot looks for the fills of transactions its marker did not
see (``store.statements.PG_JUDGED_SNAPSHOT_SQL``): a few, at the newest transactions."""


def _marks(
    db: PgAuditDatabase, tables: set[str] | None = None
) -> tuple[str | None, int | None, str]:
    """The database's application mark, schema version and the version's text (``None``, 0,
    "" without a meta table; the version ``None`` when it is not a plain number:
    ``store.upgraded.read_version``).

    ``tables``: the database's tables as already listed, so that the decision reads one
    listing (see ``check_pg``)."""
    if META_TABLE not in (set(db.get_tables()) if tables is None else tables):
        return None, 0, ""
    rows = dict(db.execute_sql(f'SELECT "key", "value" FROM "{META_TABLE}"').fetchall())
    text = str(rows.get("schema_version") or "")
    return rows.get("application_id"), read_version(text), text


def check_pg(db: PgAuditDatabase) -> str | None:
    """Why this database must not be used as the audit store, or ``None`` if it may."""
    where = f"the database {db.url}"
    # One listing for the whole decision. Read twice, a desk creating the store between the
    # two reads (its tables and marks arrive in one commit) made this one see tables and no
    # mark, and refuse the store as another program's: one of two desks started at once on a
    # new database exited 2. One listing sees either the empty database or the whole schema.
    listed = set(db.get_tables())
    mark, version, text = _marks(db, listed)
    if mark is None:
        tables = sorted(listed - {META_TABLE})
        if not tables:
            return None
        foreign = sorted(set(tables) - OUR_TABLES)
        shown = ", ".join((foreign or tables)[:3]) + (", ..." if len(tables) > 3 else "")
        return (
            f"{where} is not a tui-trader database (it holds tables {shown} and no tui-trader "
            "mark); tui-trader leaves it untouched"
        )
    if mark != _MARK:
        return f"{where} belongs to another program (application_id {mark}); left untouched"
    if version is None:
        return f"{where}: {unreadable(text)}; left untouched"
    if version > SCHEMA_VERSION:
        return (
            f"{where} was written by a newer tui-trader (schema version {version}; this one "
            f"knows up to {SCHEMA_VERSION}): upgrade tui-trader to use it"
        )
    return None


def _needs_work(db: PgAuditDatabase) -> bool:
    """True unless the database is marked current and has its identity, every table, column
    and index (an index a release adds reaches a store by itself, as on SQLite)."""
    if _marks(db)[:2] != (_MARK, SCHEMA_VERSION) or store_tag(db) is None:
        return True
    tables = set(db.get_tables())
    for model in ALL_MODELS:
        table = model._meta.table_name
        if table not in tables:
            return True
        have = {column.name for column in db.get_columns(table)}
        if any(field.column_name not in have for field in model._meta.sorted_fields):
            return True
        if any(t == table and column not in have for t, column, _, _ in SERVER_COLUMNS):
            return True
    if not _index_names() <= _indexes(db):
        return True
    return "live_risks_events" not in {view.name for view in db.get_views()}


def _index_names() -> set[str]:
    """Every index the models and the server's columns make."""
    names = {index._name for model in ALL_MODELS for index in model._meta.fields_to_index()}
    return names | {"live_fills_xact"}


def _indexes(db: PgAuditDatabase) -> set[str]:
    """The indexes of the store's schema, in one round trip."""
    rows = db.execute_sql(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    ).fetchall()
    return {name for (name,) in rows}


def migrate_pg(db: PgAuditDatabase) -> list[str]:
    """Create or bring the database to ``SCHEMA_VERSION``; what was done (empty: nothing).
    ``MigrationError`` if our tables stayed in use by others for ``UPGRADE_WAIT_S``."""
    if not _needs_work(db):
        return []
    wait = UPGRADE_WAIT_S
    deadline = time.monotonic() + wait
    pause = threading.Event()
    while True:
        try:
            return _migrate_once(db)
        except OperationalError as exc:
            if getattr(getattr(exc, "orig", None), "sqlstate", None) != _LOCK_NOT_AVAILABLE:
                raise
            if time.monotonic() >= deadline:
                raise MigrationError(BUSY.format(wait=wait)) from None
        pause.wait(_RETRY_PAUSE_S)


def _migrate_once(db: PgAuditDatabase) -> list[str]:
    """One try of ``migrate_pg``: ``OperationalError`` (lock not available, nothing done) if
    another connection holds one of our tables."""
    done: list[str] = []
    with db.atomic():
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        problem = check_pg(db)  # another desk may have changed it while we waited
        if problem:
            raise MigrationError(problem)
        if not _needs_work(db):
            # another desk created it meanwhile and may be writing already: even a no-op
            # CREATE INDEX IF NOT EXISTS takes a table lock that deadlocked with its writes
            return []
        ours = sorted(OUR_TABLES & set(db.get_tables()))
        if ours:
            # all at once or none: waiting for one while holding others deadlocked with an
            # older desk's transaction that held the one and then wanted the others
            names = ", ".join(f'"{table}"' for table in ours)
            db.execute_sql(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE NOWAIT")
        ensure_store_id(db)  # creates META_TABLE too
        done += add_missing_columns(db)
        db.create_tables(ALL_MODELS, safe=True)
        for table, column, kind, default in SERVER_COLUMNS:
            db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN IF NOT EXISTS "{column}" {kind}')
            db.execute_sql(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET DEFAULT {default}')
        db.execute_sql(SERVER_INDEX)
        db.execute_sql(_VIEW)
        for key, value in (("application_id", _MARK), ("schema_version", str(SCHEMA_VERSION))):
            db.execute_sql(
                f'INSERT INTO "{META_TABLE}" ("key", "value") VALUES (%s, %s) '
                'ON CONFLICT ("key") DO UPDATE SET "value" = EXCLUDED."value"',
                (key, value),
            )
        done.append(f"schema {SCHEMA_VERSION}")
    return done
