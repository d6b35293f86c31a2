"""Which PostgreSQL database a store is, as its server says, whatever the URL's spelling.

A halt kept on disk while the store was lost (``store.halt_markers``) must be found by the
account's next start on that database. Named after the URL, it was missed by a start spelling
the same server another way: ``localhost`` or ``127.0.0.1`` or the host's name, the default
port written or not, a unix socket folder (``?host=/run/postgresql``); that start traded after
a drawdown kill. So once connected the desk asks the server which database it reached: the
cluster's ``system_identifier`` (``pg_control_system()``: made by ``initdb``, kept by a restart,
a physical backup and a standby promoted), the database's name and the schema the desk's tables
live in (``current_schema()``). The answer is remembered for the store object: a desk that has
lost its server keeps its halt under the identity it read at its start.

A server that does not let the user read ``pg_control_system()`` (or answers no such function)
gives no identity: the URL's spelling names the store then, as before. Nothing here is a secret:
no password, no host.
"""

from __future__ import annotations

import re
import weakref
from typing import Any

_KNOWN: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
"""The identity each store object's server gave ('' when it does not say), asked once."""
_ALLOWED = (
    "SELECT has_function_privilege(to_regprocedure('pg_control_system()')::oid, 'EXECUTE'), "
    "current_database(), current_schema()"
)
"""May the user read the cluster's identity (NULL when there is no such function: never an
error, which would abort the desk's open transaction), and which database and schema."""
_SYSTEM = "SELECT system_identifier FROM pg_control_system()"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def server_identity(db: Any, ask: bool = True) -> str | None:
    """The database the PostgreSQL store ``db`` reaches, as its server names it
    (``system <id> database <name> schema <schema>``); ``None`` for a SQLite store,
    a server that does not say, or a server that cannot be asked now. Asked once a store
    object, and only with ``ask`` (a desk whose server is gone uses what it read at start,
    never waiting on a connection)."""
    if not getattr(db, "is_postgres", False):
        return None
    try:
        known = _KNOWN.get(db)
    except TypeError:  # (a stand-in object that cannot be remembered)
        return None
    if known is not None or not ask or not hasattr(db, "execute_sql"):
        return known or None
    try:
        allowed, database, schema = db.execute_sql(_ALLOWED).fetchone()
        system = db.execute_sql(_SYSTEM).fetchone()[0] if allowed else None
    except Exception:  # the server cannot be asked now: the spelling names the store
        return None
    identity = "" if system is None else f"system {system} database {database} schema {schema}"
    _KNOWN[db] = _CONTROL.sub("?", identity)  # '': it does not say (asked once); one line
    return _KNOWN[db] or None
