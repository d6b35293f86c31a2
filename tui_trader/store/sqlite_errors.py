"""What a SQLite failure of the audit database means, and the one line a user reads for it.

A full disk, a lock held past the busy timeout, a read-only file and a refused write each stop
trading in their own plain words (``session``, ``cli``); this module tells them apart from
SQLite's result codes (or their messages, where a wrapper kept only the text), however deep in
a chain of causes the error sits.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from peewee import DatabaseError

SQLITE_FULL = 13
"""SQLite's result code for "database or disk is full"."""
SQLITE_BUSY = 5
"""SQLite's result code for "database is locked" (past the busy timeout)."""
SQLITE_READONLY = 8
"""SQLite's result code for "attempt to write a readonly database"."""
SQLITE_IOERR = 10
"""SQLite's result code for "disk I/O error": a write or sync the system refused for another
reason than a full disk (a file-size limit, a disk quota, a failing disk)."""


def is_disk_full(exc: BaseException) -> bool:
    """True if ``exc`` (or what caused it) is SQLite's "database or disk is full"."""
    return _caused_by(exc, SQLITE_FULL, "disk is full")


def _caused_by(exc: BaseException, code: int, text: str) -> bool:
    """True if ``exc`` or anything that caused it is a SQLite error with primary result
    ``code`` (extended codes included), or whose message holds ``text``."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        err = stack.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        if (getattr(err, "sqlite_errorcode", None) or 0) & 0xFF == code:
            return True
        if isinstance(err, sqlite3.Error | DatabaseError) and text in str(err):
            return True
        stack += [err.__cause__, err.__context__]
        stack += [arg for arg in err.args if isinstance(arg, BaseException)]
    return False


def is_locked(exc: BaseException) -> bool:
    """True if ``exc`` (or what caused it) is SQLite's "database is locked": another program
    held the write lock past the busy timeout."""
    return _caused_by(exc, SQLITE_BUSY, "database is locked")


def is_read_only(exc: BaseException) -> bool:
    """True if ``exc`` (or what caused it) is SQLite's "attempt to write a readonly database":
    the file, its folder or its file system cannot be written (or became so)."""
    return _caused_by(exc, SQLITE_READONLY, "readonly database")


def is_io_error(exc: BaseException) -> bool:
    """True if ``exc`` (or what caused it) is SQLite's "disk I/O error". A file-size limit
    (``ulimit -f``) or an exceeded disk quota gives this, not "disk is full": SQLite reports a
    full disk only for ENOSPC."""
    return _caused_by(exc, SQLITE_IOERR, "disk I/O error")


def io_error_message(path: Path | str) -> str:
    """The one line a user reads when the system refused a write to the audit trail."""
    return (
        f"the audit trail at {path} could not be written (disk I/O error: a file-size limit, "
        "a disk quota or a failing disk): trading stopped, no order sent without its row"
    )


def read_only_message(path: Path | str, running: bool = True) -> str:
    """The one line a user reads when the audit database cannot be written to at all."""
    why = "the file's or its folder's permissions, or a read-only file system"
    if not running:
        return f"cannot write the audit database {path}: it is read-only ({why})"
    return (
        f"the audit database {path} became read-only ({why}): trading stopped, no order sent "
        "without its row"
    )


def disk_full_message(path: Path | str) -> str:
    """The one line a user reads when the audit trail cannot be written for lack of space."""
    return f"disk full writing the audit trail at {path}"
