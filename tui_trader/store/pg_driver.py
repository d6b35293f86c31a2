"""peewee without its PostgreSQL driver until a PostgreSQL store is used.

peewee imports psycopg when it loads: the driver's C module, and asyncio and ssl with it, ~85 ms
of CPU (issue 17's whole-process figure: a tenth of a benchmark replay's fixed cost), in every
process that opens a SQLite file and never speaks to a server. ``import_peewee`` (run by the
store package before any of its modules) loads peewee with psycopg hidden: peewee takes the
branch it takes when the driver is not installed and sets its psycopg names to ``None``. Nothing
outside the store imports peewee itself (``store.peewee_names`` hands its names on), so no
command's import order can load peewee first, with the driver.
``load_psycopg``, run before a PostgreSQL store is built (``store.pg_deadline``, which
``store.pg`` imports when a ``PgAuditDatabase`` is made), imports the driver and sets the names
peewee would have set. ``tests/unit/test_pg_driver.py`` holds peewee loaded this way equal,
name by name, to peewee loaded at once; a peewee that takes more from psycopg fails it.
"""

from __future__ import annotations

import sys


def import_peewee() -> None:
    """Load peewee without psycopg, unless either is loaded already (nothing to save then)."""
    if "peewee" in sys.modules or "psycopg" in sys.modules:
        return
    sys.modules["psycopg"] = None  # type: ignore[assignment]  # ``import psycopg`` fails
    try:
        import peewee  # noqa: F401
    finally:
        if "psycopg" in sys.modules and sys.modules["psycopg"] is None:
            del sys.modules["psycopg"]


def load_psycopg() -> None:
    """Give peewee its psycopg 3 driver, as its own import does when psycopg is installed: the
    module and three of its names in peewee's namespace, the transaction states in
    ``Psycopg3Adapter``'s class body. Once; the module's name last, since peewee tests it."""
    import peewee

    if peewee.psycopg is not None:
        return
    import psycopg
    from psycopg.pq import TransactionStatus
    from psycopg.types.json import Json, Jsonb

    peewee.TransactionStatus = TransactionStatus
    peewee.Json_pg3 = Json
    peewee.Jsonb_pg3 = Jsonb
    adapter = peewee.Psycopg3Adapter
    adapter.txn_idle = TransactionStatus.IDLE
    adapter.txn_inerror = TransactionStatus.INERROR
    adapter.txn_unknown = TransactionStatus.UNKNOWN
    peewee.psycopg = psycopg
