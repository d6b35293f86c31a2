"""The app's one binding of the audit database: opened once, shared by every screen.

``open_database`` rebinds the models' shared proxy; doing that while a session writes would move
the session's queries onto another connection. Screens call ``ensure_database`` instead, which
reuses the binding when it already points at the same store (the same SQLite file, or the same
PostgreSQL URL).
"""

from __future__ import annotations

from pathlib import Path

from tui_trader.store.db import open_database
from tui_trader.store.models import database
from tui_trader.store.peewee_names import Database, SqliteDatabase
from tui_trader.store.pg import PgAuditDatabase
from tui_trader.store.pg_url import PgUrl


def ensure_database(path: Path | PgUrl) -> Database:
    """The bound database if it is ``path``, else open (and bind) ``path``."""
    current = database.obj
    if isinstance(path, PgUrl):
        if isinstance(current, PgAuditDatabase) and current.url.dsn == path.dsn:
            return current
    elif isinstance(current, SqliteDatabase) and Path(current.database) == Path(path):
        return current
    return open_database(path)
