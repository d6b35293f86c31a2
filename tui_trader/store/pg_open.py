"""Opening the audit store on a PostgreSQL server, or saying in one line why it cannot be.

Connects (libpq reads ``PGPASSWORD`` and ``~/.pgpass`` when the URL has no password), decides
the database is ours (``store.pg_schema.check_pg``), brings it to the current schema and binds
the models. Every failure is a ``StoreError`` whose message names the URL with its password
masked and says what went wrong: the server is unreachable, the password is wrong, the
database does not exist or belongs to another program.
"""

from __future__ import annotations

import logging

from peewee import DatabaseError

from tui_trader.security.redact import redact
from tui_trader.store.models import database
from tui_trader.store.pg import PgAuditDatabase
from tui_trader.store.pg_refusals import END_LOCK, is_lock_timeout, lock_held
from tui_trader.store.pg_url import PgUrl


def _quiet_driver() -> None:
    """Keep psycopg's own warnings off the terminal.

    When the server goes away while a pipeline is open, psycopg logs "error ignored
    terminating <psycopg.Pipeline [BAD]>" as it unwinds; with no handler configured Python
    prints it on stderr, a second line beside the store's own "lost the audit store" (and
    over the desk's screen). A handler on psycopg's logger stops that last-resort print;
    handlers an application sets up (a log file) still receive the record."""
    driver = logging.getLogger("psycopg")
    if not any(isinstance(h, logging.NullHandler) for h in driver.handlers):
        driver.addHandler(logging.NullHandler())


def pg_problem(url: PgUrl, exc: BaseException) -> str:
    """A driver's complaint as one line a user can act on (the password never in it)."""
    text = " ".join(str(exc).split())
    low = text.lower()
    if "password authentication failed" in low or "no password supplied" in low:
        why = "the server refused the password (check PGPASSWORD or ~/.pgpass)"
    elif "does not exist" in low and "database" in low:
        why = "that database does not exist on the server (create it: createdb)"
    elif is_lock_timeout(exc):  # not unreachable: "canceling statement due to lock timeout"
        why = f"it {lock_held()}; {END_LOCK}"
    elif "connection refused" in low or "timeout" in low or "could not translate" in low:
        why = "the server cannot be reached (is PostgreSQL running there?)"
    else:
        why = text.split(" DETAIL:")[0][:200] or type(exc).__name__
    return redact(f"cannot open the database {url}: {why}").replace(url.dsn, str(url))


def open_pg(url: PgUrl, create: bool = True, durable: bool = False) -> PgAuditDatabase:
    """Open the PostgreSQL audit store at ``url`` (create or migrate its tables; with
    ``create`` False an empty database is not made ours, while a store of ours written by an
    older release is still brought up to date, so a newer monitor can read it) and bind the
    models; ``StoreError`` if it cannot be used.
    ``durable``: ``synchronous_commit`` is kept on for every connection (``PgAuditDatabase``)."""
    from tui_trader.store.db import StoreError
    from tui_trader.store.migrations import MigrationError
    from tui_trader.store.pg_schema import check_pg, migrate_pg

    _quiet_driver()
    db = PgAuditDatabase(url, durable=durable)
    try:
        db.connect(reuse_if_open=True)
    except Exception as exc:  # psycopg's and peewee's errors alike: one line, no traceback
        raise StoreError(pg_problem(url, exc)) from None
    try:
        problem = check_pg(db)
        if problem:
            raise StoreError(problem)
        database.initialize(db)
        if create or db.get_tables():  # check_pg said any tables there are ours
            migrate_pg(db)
    except StoreError:
        db.close()
        raise
    except (DatabaseError, MigrationError) as exc:
        db.close()
        raise StoreError(pg_problem(url, exc)) from None
    return db
