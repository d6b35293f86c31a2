"""peewee's names for the modules outside the store, which take them from here.

Importing any of the store's modules runs the store package first, and it loads peewee without
its PostgreSQL driver (``store.pg_driver``, ~85 ms of CPU that a SQLite store never uses). A
module that imported peewee itself before any of the store's loaded peewee with the driver, as
the desk's ``tui/dbaccess.py``, ``tui/handles.py``, ``tui/monitor.py`` and ``reporting/load.py``
did: whether a command paid for psycopg then hung on which of its modules happened to be
imported first. So nothing outside ``tui_trader/store`` imports peewee directly
(``tests/unit/test_store_owns_peewee.py`` reads every import statement of the package).
"""

from peewee import (
    JOIN,
    Database,
    InterfaceError,
    OperationalError,
    PeeweeException,
    SqliteDatabase,
    fn,
)

__all__ = [
    "JOIN",
    "Database",
    "InterfaceError",
    "OperationalError",
    "PeeweeException",
    "SqliteDatabase",
    "fn",
]
