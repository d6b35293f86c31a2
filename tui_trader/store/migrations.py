"""Bringing an audit database to the schema this program writes, explicitly and in one place.

``check_database`` has already said the file is ours (marked, or an unmarked file from before the
marks, or new). ``migrate`` then runs, in one ``BEGIN IMMEDIATE`` transaction (so two processes
opening one old file never migrate it twice, and a failed step leaves it as it was):

1. the ordered ``MIGRATIONS`` above the file's ``user_version``;
2. generic, safe steps every open checks: add the columns the models have and the tables
   lack (a nullable column, or one with a constant default: what a new field of a model is), then
   create the missing tables and indexes, and the store's identity (``store.store_identity``)
   if it has none;
3. the marks: ``application_id`` and ``user_version = SCHEMA_VERSION``.

A file already at the current version with every table, column and index is only read (no write
lock), so report commands and sessions opening a shared file never queue behind each other here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from peewee import Field, SqliteDatabase

from tui_trader.store.learning_models import LEARNING_MODELS
from tui_trader.store.models import MODELS, BaseModel
from tui_trader.store.ownership import APPLICATION_ID, SCHEMA_VERSION
from tui_trader.store.pg import META_TABLE
from tui_trader.store.store_identity import ensure_store_id

ALL_MODELS: tuple[type[BaseModel], ...] = MODELS + LEARNING_MODELS

_UNUSED_INDEXES = (
    "live_orders_timestamp",
    "live_orders_broker_order_id",
    "live_fills_timestamp",
    "live_trades_timestamp",
    "live_account_snapshots_timestamp",
    "live_risk_events_timestamp",
    "learning_weights_timestamp",
    "learning_regimes_timestamp",
    "learning_shadow_timestamp",
)
"""Indexes earlier versions made that no query reads: rows are found by session, id, symbol,
status or bar time, never by the wall time they were written at or the broker's order id. Each
cost every insert a B-tree update (a replay wrote ~25% faster without them, issue 8)."""

_VIEWS = ("CREATE VIEW IF NOT EXISTS live_risks_events AS SELECT * FROM live_risk_events",)
"""``live_risks_events`` is the Phase 4 document's spelling; the view makes its SQL work too."""


class MigrationError(Exception):
    """A step cannot bring the file to the current schema (the transaction rolls back)."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One step: what it does to a file at ``version - 1`` to make it ``version``."""

    version: int
    what: str
    apply: Callable[[SqliteDatabase], None]


def _to_v1(db: SqliteDatabase) -> None:
    """Unmarked files (from before the marks, or new): drop the indexes no query reads."""
    for index in _UNUSED_INDEXES:
        db.execute_sql(f'DROP INDEX IF EXISTS "{index}"')


def _to_v2(db: SqliteDatabase) -> None:
    """Schema 2: ``risk_state.halt_id``, ``live_account_snapshots.fills_through`` and
    ``unsettled`` (on PostgreSQL also ``xact`` and ``fills_seen``, ``store.pg_schema``). The
    generic step has added them already; the version is what changes, so that a release of
    schema 1 refuses the file instead of writing rows without them (its halts failed on the
    not-null ``halt_id`` and left a session marked running)."""


def _to_v4(db: SqliteDatabase) -> None:
    """Schema 4: the ``symbol_claims`` table (``store.symbol_claims``), made by the generic
    step. The version is what changes: a desk of schema 3 takes no claims, so two desks of one
    account could again both act on one reading; it stops once the store is upgraded under it
    (``store.upgraded``) and refuses the file after."""


def _to_v5(db: SqliteDatabase) -> None:
    """Schema 5: ``halt_requests.taken_by`` (``store.kill_requests``), added by the generic
    step. The version is what changes: a desk of schema 4 takes a kill request without claiming
    it, so it and a newer desk could both act on one press; it stops once the store is upgraded
    under it (``store.upgraded``) and refuses the file after."""


def _to_v6(db: SqliteDatabase) -> None:
    """Schema 6: the learning journal writes a weight or shadow row only when its value changed
    (``store.learning_window``), no column added. The version is what changes: a release of
    schema 5 restores the latest cycle's rows alone, which are now only the keys that changed
    that cycle: the other regimes' weights from scratch, the other strategies' at the floor,
    and positions sized by those; it refuses the file instead. Rows written before read the
    same way now (their last cycle is whole)."""


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "mark the file; drop the wall-time and broker-id indexes", _to_v1),
    Migration(2, "halt ids, snapshot fill marks; releases of schema 1 refuse the file", _to_v2),
    Migration(3, "a store identity, whose tag new session keys carry", ensure_store_id),
    Migration(4, "symbol claims; releases of schema 3 refuse the file", _to_v4),
    Migration(5, "who took a kill request; releases of schema 4 refuse the file", _to_v5),
    Migration(6, "learning rows as changes; releases of schema 5 refuse the file", _to_v6),
)
"""Every schema step, oldest first; the last one's ``version`` is ``SCHEMA_VERSION``."""


def migrate(db: SqliteDatabase) -> list[str]:
    """Bring the open database to ``SCHEMA_VERSION``; returns what was done (empty: nothing)."""
    if not _needs_work(db):
        return []
    done: list[str] = []
    with db.atomic("IMMEDIATE"):
        application_id, version = _marks(db)
        if application_id not in (0, APPLICATION_ID) or version > SCHEMA_VERSION:
            raise MigrationError(
                f"the file changed while it was opened (application_id 0x{application_id:08x}, "
                f"schema version {version})"
            )
        done += add_missing_columns(db)
        for step in MIGRATIONS:
            if step.version > version:
                step.apply(db)
                done.append(f"schema {step.version}: {step.what}")
        db.create_tables(ALL_MODELS, safe=True)
        ensure_store_id(db)  # a current file whose identity was deleted by hand gets one
        for view in _VIEWS:
            db.execute_sql(view)
        db.execute_sql(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return done


def add_missing_columns(db: SqliteDatabase) -> list[str]:
    """Add to each existing table the columns its model has and it lacks; returns them as
    ``table.column``. Only a column SQLite can add to a table with rows is added: nullable, or
    with a constant default; anything else is a ``MigrationError`` (write a ``Migration``)."""
    tables = set(db.get_tables())
    added: list[str] = []
    for model in ALL_MODELS:
        table = model._meta.table_name
        if table not in tables:
            continue
        have = {column.name for column in db.get_columns(table)}
        for field in model._meta.sorted_fields:
            if field.column_name not in have:
                db.execute_sql(_add_column_sql(db, table, field))
                added.append(f"{table}.{field.column_name}")
    return added


def _add_column_sql(db: SqliteDatabase, table: str, field: Field) -> str:
    """``ALTER TABLE ... ADD COLUMN`` for ``field``, with its default written into the DDL."""
    where = f"{table}.{field.column_name}"
    if field.primary_key or field.unique:
        raise MigrationError(f"cannot add the key or unique column {where} to existing rows")
    ctx = db.get_sql_context()
    ddl, _params = ctx.sql(field.ddl(ctx)).query()
    if not field.null and "DEFAULT" not in ddl.upper():
        default = field.default
        if default is None or callable(default):
            raise MigrationError(f"cannot add {where}: not nullable and no constant default")
        ddl += f" DEFAULT {_literal(field.db_value(default))}"
    return f'ALTER TABLE "{table}" ADD COLUMN {ddl}'


def _literal(value: object) -> str:
    """A constant as SQL text (the default of an added column)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("'", "''")
    return f"'{text}'"


def _marks(db: SqliteDatabase) -> tuple[int, int]:
    """The file's ``application_id`` and ``user_version``."""
    application_id = db.execute_sql("PRAGMA application_id").fetchone()[0] & 0xFFFFFFFF
    version = db.execute_sql("PRAGMA user_version").fetchone()[0]
    return application_id, version


def _needs_work(db: SqliteDatabase) -> bool:
    """True unless the file is marked current and has every table, column and index."""
    if _marks(db) != (APPLICATION_ID, SCHEMA_VERSION):
        return True
    rows = db.execute_sql(
        "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'index', 'view')"
    ).fetchall()
    names = {name for _kind, name in rows}
    for model in ALL_MODELS:
        table = model._meta.table_name
        if table not in names:
            return True
        have = {column.name for column in db.get_columns(table)}
        if any(field.column_name not in have for field in model._meta.sorted_fields):
            return True
        if any(index._name not in names for index in model._meta.fields_to_index()):
            return True
    return "live_risks_events" not in names or META_TABLE not in names
