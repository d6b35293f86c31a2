"""A halt the audit store could not take, kept in a small file until the store takes it.

A desk whose store is lost (its SQLite file deleted or replaced, a PostgreSQL server gone past
``store.pg.RECONNECT_WITHIN``, a disk or server that takes no more writes) stops trading, but a
halt it held (the drawdown kill switch, the daily-loss limit, ctrl+k, the store's own failure)
lived only in the stopped process: the next start, the store back, read an active account and
traded. Now the ending writes that halt here (``session.store_endings``), and the account's next
start on that store writes it to the store as an ordinary halt, and only then removes the file
(``engine.kept_halts``). Fail closed: a file that cannot be read as one is a halt too.

Where: a SQLite store's beside its file's real path (``desk.db.halt-<account>-<session>.json``,
each a digest); a PostgreSQL store's in the user's state folder
(``halts/pg-<store>-<account>-<session>.json``). A PostgreSQL halt is the database's the server
says it is (``store.server_identity``: its cluster, database and schema), so a start through
any spelling of the URL (``localhost``, ``127.0.0.1``, the host's name, a socket folder, the
default port or not) finds it; it is the URL's too (user, host, port and database as libpq fills
them in, never the password), for a server that does not say which it is. One file a session:
desks of one account stopping at once keep every halt. The file holds no secret: the account
key, the store (its path, or its URL without password; the database as its server named it),
the halt's reason and words, when and which session. Written atomically (a private temporary file
of a name no one can guess, fsync, rename, the folder fsynced).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tui_trader.security.private_files import read_small_file, replace_privately
from tui_trader.store.server_identity import server_identity

VERSION = 1
"""The marker's format; another number is a marker this release cannot read (a halt)."""
UNREADABLE = "halt_marker_unreadable"
"""The halt reason of a marker that cannot be read as one (corrupt, hand-edited, not a file)."""
MAX_BYTES = 16_384
"""A marker is a few hundred bytes; more is not one this release wrote."""
_REASON = re.compile(r"[a-z][a-z0-9_]{0,39}")
_SESSION = re.compile(r"[A-Za-z0-9_.:-]{0,100}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SESSION_TAIL = re.compile(r"-[0-9a-f]{16}\.json")
_PG_MARKER = re.compile(r"pg-([0-9a-f]{16})-([0-9a-f]{16})(?:-[0-9a-f]{16})?\.json")
"""A PostgreSQL store's marker: its store's digest, its account's, its session's."""
_PG_PLACE = frozenset({"host", "hostaddr", "port", "dbname", "user", "service"})
"""A PostgreSQL URL's query parameters that say which database it is (libpq's)."""


@dataclass(frozen=True, slots=True)
class KeptHalt:
    """One account's halt as its marker holds it."""

    account_key: str
    store: str
    """The store it was decided on: the SQLite file's absolute path, or the URL's shape."""
    reason: str
    detail: str
    decided_at: str
    """When the desk kept it (ISO 8601, UTC)."""
    session_key: str
    """The session that decided it ('' if unknown)."""
    server: str = ""
    """The PostgreSQL database as its server named it (``store.server_identity``); '' for a
    SQLite store or a server that did not say."""


@dataclass(frozen=True, slots=True)
class FoundMarker:
    """A marker found on disk: its halt (``UNREADABLE`` when it cannot be read, ``why`` says
    why in a few words) and where it is."""

    path: Path
    halt: KeptHalt
    why: str = ""


def store_name(db: Any) -> str | None:
    """The store as markers name it: a SQLite file's real path (symlinks and ``..`` resolved,
    so every spelling of one file finds its markers), or the PostgreSQL database a URL reaches
    (``_pg_name``); ``None`` for a store with no place on disk (``:memory:``)."""
    if getattr(db, "is_postgres", False):
        return _pg_name(db.url.dsn)
    name = str(getattr(db, "database", "") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return os.path.realpath(name)  # (never raises: a link loop is left as it is)


def _pg_name(dsn: str) -> str:
    """The user, host, port and database a PostgreSQL URL connects to, as libpq fills them in
    (a parameter in the query over the URL's own part; no user: ``$PGUSER``, else the login
    name; no port: ``$PGPORT``, else 5432), and the query's other parameters that choose the
    server (``_PG_PLACE``). So ``postgresql://db/desk`` with ``PGUSER=trader`` finds the halt
    kept by ``postgresql://trader@db:5432/desk``; a connection setting (``sslmode``) is the
    same database, and none of them (``sslpassword``) is written."""
    parts = urlsplit(dsn)
    query = {k.lower(): v for k, v in parse_qsl(parts.query) if k.lower() in _PG_PLACE}
    user = query.pop("user", "") or unquote(parts.username or "") or os.environ.get("PGUSER", "")
    if not user:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no login name: the same on every start of this user
            user = ""
    host = query.pop("host", "") or (parts.hostname or "")
    try:
        port = query.pop("port", "") or parts.port or os.environ.get("PGPORT", "") or 5432
    except ValueError:
        port = 0
    database = query.pop("dbname", "") or unquote(parts.path.lstrip("/"))
    tail = "".join(f"&{k}={v}" for k, v in sorted(query.items())).replace("&", "?", 1)
    return f"postgresql://{user}@{host}:{port}/{database}{tail}"


def _digest(text: str) -> str:
    """A short stable name for ``text`` (an account key, a store)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _folder_and_prefix(db: Any, place: str = "") -> tuple[Path, str] | None:
    """Where the store's markers live and how their names begin (a PostgreSQL store's: named
    after ``place``, the database as its server named it, else after its URL)."""
    store = store_name(db)
    if store is None:
        return None
    if getattr(db, "is_postgres", False):
        from platformdirs import user_state_dir

        folder = Path(user_state_dir("tui-trader", appauthor=False)) / "halts"
        return folder, f"pg-{_digest(place or store)}-"
    path = Path(store)
    return path.parent, f"{path.name}.halt-"


def marker_path(db: Any, account_key: str, session_key: str = "", server: str = "") -> Path | None:
    """The file that keeps the halt ``session_key`` decided for ``account_key`` on the store
    ``db`` (``None``: no place); ``server``: the PostgreSQL database as its server named it
    (``KeptHalt.server``). One file a session: two desks of the account stopping at once
    each keep their own halt, neither written over by the other (the last writer's reason,
    a store failure, hid the first's, a drawdown kill)."""
    where = _folder_and_prefix(db, server)
    if where is None:
        return None
    folder, prefix = where
    tail = f"-{_digest(session_key)}" if session_key else ""
    return folder / f"{prefix}{_digest(account_key)}{tail}.json"


def keep_halt(db: Any, halt: KeptHalt) -> Path:
    """Write ``halt`` to its marker atomically; the path. ``OSError`` if it cannot be written
    (a full or read-only disk), ``ValueError`` for a store with no place on disk."""
    path = marker_path(db, halt.account_key, halt.session_key, halt.server)
    if path is None:
        raise ValueError("an in-memory store has no place to keep a halt")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"version": VERSION, **asdict(halt)}, indent=1)
    replace_privately(path, text + "\n", durable=True)
    return path


def find_markers(db: Any, account_key: str, ask: bool = True) -> list[FoundMarker]:
    """``account_key``'s markers for the store ``db`` (one a session that kept a halt), the
    earliest decided first (the halt that stands, as ``risk.state.standing_halt`` says), those
    that cannot be read last. A PostgreSQL store's are those kept for the database its server
    says it is, or for the same URL (``_same_store``), whatever their names. A file named as
    this store's marker for that account that is not one this release wrote for them is a
    halt all the same (``UNREADABLE``): it may have held one. ``ask`` False: the server is
    not asked which database it is (``store.server_identity``; from a thread not the desk's)."""
    where = _folder_and_prefix(db)
    if where is None:
        return []
    folder, prefix = where
    # asked first, folder or not: a desk losing its server later keeps its halt under it
    store, server = store_name(db) or "", server_identity(db, ask) or ""
    try:
        names = sorted(os.listdir(folder))
    except OSError:  # no folder (yet): no marker
        return []
    ours = {_digest(store), _digest(server)} if server else {_digest(store)}
    read, unread = [], []
    for name in names:
        named = _named(db, name, prefix, account_key, ours)
        if named is None:
            continue
        path = folder / name
        try:
            halt = _parse(_read(path))
            if halt.account_key != account_key or not _same_store(halt, store, server):
                raise ValueError("it names another account or store")
            if path != marker_path(db, account_key, halt.session_key, halt.server):
                raise ValueError("it names another session")
            read.append(FoundMarker(path, halt))
        except (OSError, ValueError, RecursionError) as exc:
            if named:  # named as this store's: it may have held this store's halt
                halt = KeptHalt(account_key, store, UNREADABLE, "", "", "")
                unread.append(FoundMarker(path, halt, _why(exc)))
    read.sort(key=_decided)
    return read + unread


def _named(db: Any, name: str, prefix: str, account_key: str, ours: set[str]) -> bool | None:
    """Whether the file ``name`` is named as a marker of ``account_key`` for this store
    (``True``), for the account on another PostgreSQL store or URL (``False``: it is this
    store's only if it says so), or is no marker of the account (``None``)."""
    if not getattr(db, "is_postgres", False):
        return True if _is_accounts(name, prefix, account_key) else None
    match = _PG_MARKER.fullmatch(name)
    if match is None or match.group(2) != _digest(account_key):
        return None
    return match.group(1) in ours


def _same_store(halt: KeptHalt, store: str, server: str) -> bool:
    """True if ``halt`` was kept for this store: the same SQLite file (its real path, or the
    same file by device and inode: the folder seen through a bind mount), the same database
    as its server named it, or the same URL (a server that did not say which it is; or
    another cluster started at the place of a lost one: the halt is honoured, failing
    closed). Not the same URL that the same cluster says is another database or schema: a
    URL's name leaves out ``options`` (``-csearch_path=bob``), and a start on schema bob took
    the halt kept for schema alice, whose next start then traded."""
    if server and halt.server == server:
        return True
    if halt.store == store:
        return not _told_apart(halt.server, server)
    if server or halt.server or not os.path.isabs(halt.store):
        return False
    try:
        return os.path.samefile(halt.store, store)
    except (OSError, ValueError):  # one of them gone (a file not restored yet): not known
        return False


def _told_apart(kept: str, now: str) -> bool:
    """True if the server identities ``kept`` and ``now`` (``store.server_identity``) are one
    cluster's (``system <id> ...``) naming two databases or schemas: not one store, whatever
    the URLs say."""
    if not kept or not now or kept == now:
        return False
    return kept.split(" ", 2)[:2] == now.split(" ", 2)[:2]


def _decided(found: FoundMarker) -> datetime:
    """When the kept halt was decided (one without a zone is taken as UTC, as the desk writes
    it), so that the markers sort."""
    when = datetime.fromisoformat(found.halt.decided_at)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def find_marker(db: Any, account_key: str) -> FoundMarker | None:
    """``account_key``'s standing kept halt for the store ``db`` (``find_markers``' first), or
    ``None`` when it has none."""
    found = find_markers(db, account_key)
    return found[0] if found else None


def store_markers(db: Any) -> list[FoundMarker]:
    """Every marker kept for the store ``db`` (``fleet`` lists them), read as the account's
    next start reads it; one named as this store's that names no account readably is listed
    by its file."""
    where = _folder_and_prefix(db)
    if where is None or not where[0].is_dir():
        return []
    folder, prefix = where
    store, server = store_name(db) or "", server_identity(db) or ""
    ours = {_digest(store), _digest(server)} if server else {_digest(store)}
    found: list[FoundMarker] = []
    accounts: set[str] = set()
    for name in sorted(os.listdir(folder)):  # (not a glob: 'desk[1].db' is a name)
        if getattr(db, "is_postgres", False):
            match = _PG_MARKER.fullmatch(name)
            if match is None:
                continue
            named = match.group(1) in ours
        elif name.startswith(prefix) and name.endswith(".json"):
            named = True
        else:
            continue
        path = folder / name
        try:
            raw = json.loads(_read(path))
            key = raw.get("account_key") if isinstance(raw, dict) else None
            if not isinstance(key, str) or _CONTROL.search(key):
                raise ValueError("it names no account of its own")
            if _named(db, name, prefix, key, ours) is None:
                raise ValueError("it names no account of its own")
        except (OSError, ValueError, RecursionError) as exc:
            if named:
                halt = KeptHalt("?", store, UNREADABLE, "", "", "")
                found.append(FoundMarker(path, halt, _why(exc)))
            continue
        if key not in accounts:  # read as that account's next start reads them
            accounts.add(key)
            found.extend(find_markers(db, key))
    return found


def _is_accounts(name: str, prefix: str, account_key: str) -> bool:
    """True if the file ``name`` is where a halt of ``account_key`` is kept (its own name, or
    one of a session's)."""
    head = f"{prefix}{_digest(account_key)}"
    return name == f"{head}.json" or (
        name.startswith(head) and _SESSION_TAIL.fullmatch(name[len(head) :]) is not None
    )


def drop_marker(found: FoundMarker) -> None:
    """Remove a marker once its halt is in the store; an unreadable one is moved aside
    (``.unreadable``), not lost, for a person to look at. Gone already (another start of the
    account took it): nothing to do."""
    path = found.path
    try:
        if found.halt.reason == UNREADABLE:
            os.replace(path, path.with_name(path.name + ".unreadable"))
        else:
            path.unlink()
    except FileNotFoundError:
        return


def _why(exc: BaseException) -> str:
    """Why a marker could not be read, in a few words (never its content at length)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, RecursionError):
        return "nested too deep"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON ({exc.msg})"
    return _CONTROL.sub(" ", str(exc))[:120] or type(exc).__name__


def _read(path: Path) -> str:
    """The marker's text: a regular file, never followed through a link nor waited on (a
    pipe or a device put there would hang the start or feed it forever)."""
    return read_small_file(path, MAX_BYTES).decode("utf-8")


def _parse(text: str) -> KeptHalt:
    """The marker's halt, checked field by field; ``ValueError`` names the first wrong one."""
    raw = json.loads(text)
    if not isinstance(raw, dict):
        raise ValueError("not a JSON object")
    if raw.get("version") != VERSION:
        raise ValueError(f"not format {VERSION}")
    raw.setdefault("server", "")  # (a SQLite store's, or a marker kept before servers said)
    fields = {}
    for name in ("account_key", "store", "reason", "detail", "decided_at", "session_key", "server"):
        value = raw.get(name)
        if not isinstance(value, str) or (name != "detail" and _CONTROL.search(value)):
            raise ValueError(f"its {name} is not one line of text")
        fields[name] = value
    if not _REASON.fullmatch(fields["reason"]):
        raise ValueError("its reason is not a halt reason")
    if not _SESSION.fullmatch(fields["session_key"]):
        raise ValueError("its session is not a session key")
    if len(fields["detail"]) > 2000:
        raise ValueError("its detail is too long")
    fields["detail"] = _CONTROL.sub(" ", fields["detail"])
    datetime.fromisoformat(fields["decided_at"])  # ValueError if it is not a time
    return KeptHalt(**fields)
