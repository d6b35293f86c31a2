"""A PostgreSQL server that still answers but refuses the audit trail's writes: its disk full,
the server read-only, a statement cancelled, or a lock another connection held too long. Each
stops trading in its own plain words.

The server's disk fills (``could not extend file ...: No space left on device``, SQLSTATE
53100), or the server takes no writes any more (``cannot execute INSERT in a read-only
transaction``, 25006: a failover left the desk on a standby, an administrator switched
``default_transaction_read_only`` on for maintenance), or it cancels a statement (57014: a
``statement_timeout`` set on the server or the role, an administrator's or a tool's
``pg_cancel_backend``), or gives up a statement's wait for a lock another connection holds
(55P03: ``store.pg.LOCK_WAIT``). The connection stays up, so this is not a lost store
(``store.pg.store_lost``). Before, the session died with the driver's text and a crash log,
its row left ``running``, no halt said: a fault of the server read as a bug of the desk. Now it
halts and ends in one line that names the store and what to do, as a full or read-only SQLite
file does (``store.sqlite_errors``). The statement that failed rolled its transaction back with
it: an order whose row was not committed was never sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui_trader.store import pg
from tui_trader.store.pg import is_postgres

DISK_FULL = "53100"
"""SQLSTATE ``disk_full``: the server could not extend a table or its log."""
READ_ONLY = "25006"
"""SQLSTATE ``read_only_sql_transaction``: the server (or the database, or the role) takes no
writes."""
LOCKED = "55P03"
"""SQLSTATE ``lock_not_available``: a statement waited ``store.pg.LOCK_WAIT`` for a lock that
another connection holds (the server's ``lock_timeout``)."""
CANCELLED = "57014"
"""SQLSTATE ``query_canceled``: a statement timeout, or a cancel request from another
connection."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the server refused a write, in the words a user reads."""

    full: bool
    """The server's disk is full (else: the server is read-only, locked or cancelling)."""
    message: str
    """The one line: the store, what happened, what it means for orders."""
    locked: bool = False
    """Another connection held a table or row of the store past ``store.pg.LOCK_WAIT``: the
    server is fine, and a command says it with exit 1, as a locked SQLite file."""


def _sqlstates(exc: BaseException) -> set[str]:
    """Every SQLSTATE in ``exc`` and what caused it (peewee keeps the driver's error as an
    argument and as the cause)."""
    found: set[str] = set()
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        err = stack.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        state = getattr(err, "sqlstate", None)
        if isinstance(state, str):
            found.add(state)
        stack += [err.__cause__, err.__context__, getattr(err, "orig", None)]
        stack += [arg for arg in err.args if isinstance(arg, BaseException)]
    return found


def lock_held() -> str:
    """What a statement that gave up waiting for a lock (SQLSTATE 55P03) met, in words."""
    return (
        f"stayed locked by another connection for more than {pg.LOCK_WAIT:g} s (a transaction "
        "holding its tables or rows: a psql session left inside LOCK TABLE, a VACUUM FULL or an "
        "ALTER TABLE)"
    )


END_LOCK = (
    "end that transaction (pg_locks and pg_stat_activity on the server name it), then try again"
)
"""What to do about a lock held too long."""


def is_lock_timeout(exc: BaseException) -> bool:
    """True if ``exc`` is itself (or wraps, as peewee does) a statement the server cancelled
    after ``store.pg.LOCK_WAIT`` spent waiting for a lock; not an error raised while handling
    one (an upgrade that gave up after its ``NOWAIT`` tries says so in its own words)."""
    own = [exc, getattr(exc, "orig", None), *(a for a in exc.args if isinstance(a, BaseException))]
    return any(getattr(err, "sqlstate", None) == LOCKED for err in own)


TRADING_STOPPED = "trading stopped, no order sent without its row"
"""What a refusal mid-session means for orders (the default ``outcome``)."""


def refusal(db: object, exc: BaseException, outcome: str = TRADING_STOPPED) -> Refusal | None:
    """What ``exc`` means if it is the PostgreSQL store ``db`` refusing a write (a full disk, a
    read-only server, a cancelled statement); ``None`` for any other failure. ``outcome``: what
    it meant for the command (said after what happened, before what to do)."""
    if not is_postgres(db):
        return None
    states = _sqlstates(exc)
    url = getattr(db, "url", "the PostgreSQL store")
    if DISK_FULL in states:
        return Refusal(
            True,
            f"the PostgreSQL server of the audit store {url} is out of disk space: {outcome}; "
            "free space on the server, then try again",
        )
    if READ_ONLY in states:
        return Refusal(
            False,
            f"the audit store {url} takes no writes (the server is read-only: a standby after "
            f"a failover, or default_transaction_read_only is on): {outcome}; point --db at "
            "the primary server, or switch writes back on",
        )
    if LOCKED in states:
        return Refusal(
            False, f"the audit store {url} {lock_held()}: {outcome}; {END_LOCK}", locked=True
        )
    if CANCELLED in states:
        return Refusal(
            False,
            f"the PostgreSQL server of the audit store {url} cancelled a statement (a "
            "statement_timeout set on the server or its role, or pg_cancel_backend): "
            f"{outcome}; try again, with any statement_timeout for the desk's role off or above "
            "30 s",
        )
    return None
