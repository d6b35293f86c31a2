"""Is this file our audit database, whole? Decided before anything writes to it.

Our files carry two marks in the SQLite header: ``PRAGMA application_id`` (``APPLICATION_ID``,
the bytes ``TTRD``) and ``PRAGMA user_version`` (the schema version, ``SCHEMA_VERSION`` today).
``check_database`` reads a file without changing a byte of it and says what is wrong, if
anything: not a SQLite file, another program's database, a schema newer than this program
knows, or a damaged file (``PRAGMA quick_check``). A missing or empty file is fine (it becomes
ours), and so is an unmarked file holding only the tables tui-trader made before the marks
existed (it is adopted and migrated by ``store.migrations``).

The header is read first with plain file reads, so another program's file is refused before
SQLite opens it. A file that may be ours is then opened read-only (``mode=ro``; an unmarked file
with no write-ahead log beside it ``immutable=1``, so that nothing, not even a ``-wal`` or
``-shm`` file, is created beside a file we may yet refuse).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from tui_trader.store.learning_models import LEARNING_MODELS
from tui_trader.store.models import MODELS
from tui_trader.store.pg import META_TABLE

APPLICATION_ID = 0x54545244
"""``PRAGMA application_id`` of every tui-trader database: the ASCII bytes ``TTRD``."""

SCHEMA_VERSION = 6
"""``PRAGMA user_version`` this program writes; ``store.migrations`` brings older files here.
Raised with every column a release adds: a release refuses a store of a higher version, and one
that wrote rows without a newer column's meaning (a halt without its ``halt_id``: not null, and
a resume lifts halts by it) failed mid-session or broke what the newer rows promise. Schema 3
adds the store's identity (``store.store_identity``), made by its migration step; schema 4 the
symbol claims (``store.symbol_claims``) every session of a shared account takes; schema 5 who
took a kill request (``halt_requests.taken_by``: ``store.kill_requests``); schema 6 the learning
rows written as changes (``store.learning_window``), which a release of schema 5 would restore
as a cycle's changed weights only."""

OUR_TABLES = frozenset(m._meta.table_name for m in MODELS + LEARNING_MODELS) | {META_TABLE}
"""Every table tui-trader makes (an unmarked file with other tables is not ours)."""

_LEGACY_SESSION_COLUMNS = frozenset(
    ("id", "key", "mode", "broker", "account_key", "started_at", "status")
)
"""Columns every version of our ``sessions`` table had: an unmarked file must show them."""

_MAGIC = b"SQLite format 3\x00"

_CHECK_MMAP = 256 * 1024 * 1024
"""``quick_check`` reads every page; through a memory map it took ~40% less time (74 MB file:
~0.35 s instead of ~0.6 s on a shared 2-core machine)."""


@dataclass(frozen=True, slots=True)
class Header:
    """What the first 100 bytes of a SQLite file say."""

    application_id: int
    user_version: int


def recovery_advice(path: Path) -> str:
    """What to do with a damaged database, in one clause."""
    return (
        f"restore it from a backup, or save what can be read with "
        f"'sqlite3 {path} .recover | sqlite3 recovered.db' and use --db recovered.db"
    )


def read_header(path: Path) -> Header | str | None:
    """The file's marks, a sentence if it is not a SQLite database, ``None`` if it is empty or
    absent. Plain reads: no lock, no file created."""
    try:
        if not stat.S_ISREG(path.stat().st_mode) and not path.is_dir():
            # a pipe would block the read below forever; a device is no database either
            return f"{path} is not a regular file (a device, pipe or socket): not a database"
        with path.open("rb") as fh:
            head = fh.read(100)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror}"
    if not head:
        return None
    if len(head) < 100 or not head.startswith(_MAGIC):
        return f"{path} is not a SQLite database (not written by tui-trader)"
    (user_version,) = struct.unpack(">i", head[60:64])
    (application_id,) = struct.unpack(">I", head[68:72])
    return Header(application_id, user_version)


def check_database(path: Path, quick_check: bool = True) -> str | None:
    """Why ``path`` must not be used as the audit database, or ``None`` if it may.

    Changes nothing in or beside the file. ``quick_check`` False skips the damage scan (the
    ownership answer alone)."""
    header = read_header(path)
    if header is None:
        return None
    if isinstance(header, str):
        return header
    if header.application_id not in (0, APPLICATION_ID):
        return (
            f"{path} belongs to another program (application_id "
            f"0x{header.application_id:08x}); tui-trader leaves it untouched"
        )
    wal = path.with_name(path.name + "-wal")
    if not wal.exists() and header.application_id == APPLICATION_ID:
        problem = _newer(path, header.user_version)  # no log: the header is the whole truth
        if problem:
            return problem
    immutable = header.application_id == 0 and not wal.exists()
    uri = f"file:{quote(str(path.resolve()))}?mode=ro" + ("&immutable=1" if immutable else "")
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=10.0)
    except sqlite3.Error as exc:
        return f"cannot open {path}: {exc}"
    try:
        return _check_open(conn, path, quick_check)
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc):
            return f"{path} is not a SQLite database (not written by tui-trader)"
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return f"cannot read {path}: {exc}"
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_CANTOPEN:
            return _cannot_open_beside(path)
        return f"{path} is damaged ({_one_line([str(exc)])}): {recovery_advice(path)}"
    except UnicodeDecodeError as exc:  # SQLite's complaint quotes the damaged bytes themselves
        return f"{path} is damaged ({_one_line([_undecoded(exc)])}): {recovery_advice(path)}"
    finally:
        conn.close()


def _undecoded(exc: UnicodeDecodeError) -> str:
    """SQLite's error message that Python could not decode, its bad bytes written as escapes.

    A flipped byte in a table's stored schema makes SQLite quote it ("unknown column
    "ses\\x8cion_id" in foreign key definition"); Python's sqlite3 then raises
    ``UnicodeDecodeError`` instead of ``DatabaseError``, and every command died with exit 1 and a
    crash log instead of calling the file damaged."""
    raw = exc.object if isinstance(exc.object, bytes) else b""
    text = raw.decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text) or "unreadable"


def _cannot_open_beside(path: Path) -> str:
    """Why SQLite could not open a database it was given (SQLITE_CANTOPEN): not damage, but
    the ``-wal`` and ``-shm`` files it must open or create beside it, which a read-only folder
    (a mounted backup disk, a snapshot) refuses. It was called damaged, with advice to restore
    a whole file from a backup."""
    folder = path.resolve().parent
    if not os.access(folder, os.W_OK):
        return (
            f"cannot open {path}: its folder {folder} is read-only, and SQLite must create "
            f"{path.name}-wal and {path.name}-shm beside it to read it; copy it to a writable "
            "folder and pass that copy with --db"
        )
    return (
        f"cannot open {path}: SQLite could not open or create {path.name}-wal or "
        f"{path.name}-shm beside it (the database file itself was not read); check those two "
        "names in its folder"
    )


def _check_open(conn: sqlite3.Connection, path: Path, quick_check: bool) -> str | None:
    """``check_database`` on the read-only connection (SQLite errors propagate)."""
    application_id = conn.execute("PRAGMA application_id").fetchone()[0] & 0xFFFFFFFF
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if application_id == APPLICATION_ID:
        problem = _newer(path, version)
        if problem:
            return problem
    elif application_id != 0:
        return f"{path} belongs to another program (application_id 0x{application_id:08x})"
    else:
        problem = _not_legacy(conn, path)
        if problem:
            return problem
    if quick_check:
        conn.execute(f"PRAGMA mmap_size = {_CHECK_MMAP}")
        rows = [r[0] for r in conn.execute("PRAGMA quick_check(1)").fetchall()]
        if rows != ["ok"]:
            return f"{path} is damaged ({_one_line(rows)}): {recovery_advice(path)}"
    return None


def _newer(path: Path, version: int) -> str | None:
    """Why a file of schema ``version`` is refused (a newer program wrote it), or ``None``."""
    if version <= SCHEMA_VERSION:
        return None
    return (
        f"{path} was written by a newer tui-trader (schema version {version}; this one knows "
        f"up to {SCHEMA_VERSION}): upgrade tui-trader to use it"
    )


def _one_line(rows: list[str]) -> str:
    """``quick_check``'s first complaint on one short line."""
    lines = [line.strip() for row in rows for line in str(row).splitlines()]
    found = [line for line in lines if line and not line.startswith("***")]
    text = found[0] if found else "quick_check failed"
    return text if len(text) <= 120 else text[:117] + "..."


def _not_legacy(conn: sqlite3.Connection, path: Path) -> str | None:
    """Why an unmarked file is not one of ours from before the marks, or ``None``."""
    objects = conn.execute(
        "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
    ).fetchall()
    if not objects:
        return None  # an empty SQLite database: nothing in it to lose, it becomes ours
    tables = {name for kind, name in objects if kind == "table"}
    foreign = sorted(tables - OUR_TABLES)
    if foreign or "sessions" not in tables:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        return (
            f"{path} is not a tui-trader database (it holds "
            f"{'tables ' + shown if foreign else 'no sessions table'}); "
            f"tui-trader leaves it untouched"
        )
    columns = {row[1] for row in conn.execute('PRAGMA table_info("sessions")')}
    if not columns >= _LEGACY_SESSION_COLUMNS:
        return (
            f"{path} is not a tui-trader database (its sessions table is another program's); "
            f"tui-trader leaves it untouched"
        )
    return None
