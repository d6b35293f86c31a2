"""The audit store: a SQLite file (``store.db``) or a PostgreSQL server (``store.pg``).

This runs before any of the store's modules: it loads peewee without its PostgreSQL driver
(``store.pg_driver``), which a ``paper`` run or a report on a SQLite file never uses and which
cost every such start ~85 ms of CPU.
"""

from tui_trader.store.pg_driver import import_peewee

import_peewee()
