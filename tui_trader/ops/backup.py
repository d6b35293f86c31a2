"""Backups of the audit database: consistent copies taken while a session writes, verified.

A copy is made with SQLite's online backup API (``sqlite3.Connection.backup``) from inside one
read transaction, so it is the database as of one instant even while a session commits, and the
same transaction counts the source's rows: the copy must pass ``integrity_check`` and hold
exactly those counts, or it is deleted and the backup fails. Files are named by UTC time
(``tui_trader-20261204T214500123456Z.db``) and written under a temporary name first, so a
half-written copy is never mistaken for a backup; a backup interrupted (Ctrl+C, SIGTERM) deletes
its own unfinished copy at once. A restore refuses while a session runs on the
target and keeps the file it replaces aside. Copies of the owner-only database are owner-only too:
a backup, the folder made for it and the file a restore sets aside (``security.private_files``).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tui_trader.ops.liveness import running_sessions
from tui_trader.security.private_files import create_private_file, make_private_dir
from tui_trader.store.dead_local import dead_left_working

REQUIRED_TABLES = ("sessions", "live_orders")
"""A file without these is not a tui-trader audit database."""


class BackupError(Exception):
    """A backup, verification or restore that did not succeed, in plain words."""


class UnusableBackup(BackupError):
    """The file given to restore is no whole tui-trader database (not SQLite, damaged, another
    program's): the user's to fix by naming another file; nothing was touched."""


@dataclass(frozen=True, slots=True)
class Verified:
    """A database file that passed the checks, and what it holds."""

    path: Path
    counts: dict[str, int]
    """Rows per table."""
    dead_local: tuple[int, int] = (0, 0)
    """Local sessions that died without ending and their orders still recorded working
    (``store.dead_local``: the next session's start records them ended)."""


def backup_name(db: Path, now: datetime | None = None) -> str:
    """The file name of a backup of ``db`` taken at ``now`` (UTC)."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{db.stem}-{stamp}.db"


def default_backup_dir(db: Path) -> Path:
    """Where backups go unless ``--to`` says otherwise: ``backups/`` beside the database."""
    return db.parent / "backups"


def backup_database(db: Path, to_dir: Path, now: datetime | None = None) -> Verified:
    """Copy ``db`` into ``to_dir`` consistently, verify the copy, and return it."""
    if not db.is_file():
        raise BackupError(f"no database at {db}")
    try:
        make_private_dir(to_dir)
    except OSError as exc:
        raise BackupError(f"cannot create the backup folder {to_dir}: {exc.strerror}") from None
    final = to_dir / backup_name(db, now)
    part = final.with_name(final.name + ".part")
    try:
        create_private_file(part)  # a copy of an owner-only database is owner-only too
        with _connect(db, "rw") as src, _connect(part) as dst:
            src.execute("BEGIN")  # one read snapshot for the copy and the counts
            counts = table_counts(src)
            src.backup(dst, pages=COPY_STEP_PAGES, progress=_copying)
            src.execute("COMMIT")
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal/-shm
        copy = verify_database(part)
        if copy.counts != counts:
            raise BackupError(f"the copy's row counts differ from {db}'s: {_diff(counts, copy)}")
        part.replace(final)
    except BaseException as exc:  # Ctrl+C or SIGTERM too: no unverified copy is left behind
        for leftover in (part, part.with_name(part.name + "-journal")):
            with contextlib.suppress(OSError):
                leftover.unlink()
        if isinstance(exc, sqlite3.Error | OSError):
            raise BackupError(f"backup of {db} to {to_dir} failed: {exc}") from None
        if isinstance(exc, UnicodeDecodeError):
            raise BackupError(f"backup of {db} failed: it is damaged: {NOT_TEXT}") from None
        raise
    return Verified(final, counts)


COPY_STEP_PAGES = 1024
"""Pages copied per step of the online backup (4 MB at SQLite's default page size)."""


def _copying(status: int, remaining: int, total: int) -> None:
    """Called between two steps of the copy, so a stop signal lands while it runs.

    Python runs a signal's handler between two of its own bytecodes, never inside a C call:
    copied in one step, a large database left the command deaf to Ctrl+C and SIGTERM until the
    whole copy was written. Nothing to do here: being Python code is the point."""


NOT_TEXT = "SQLite's report of the damage quotes bytes that are not text"
"""Why a file is called damaged when Python's sqlite3 could not decode SQLite's error message
(``UnicodeDecodeError`` instead of ``DatabaseError``: a crash with exit 1 and a crash log)."""


def verify_database(path: Path) -> Verified:
    """Check that ``path`` is a whole tui-trader database: ``integrity_check`` and its tables.

    It reads only, but opens the file read-write (never creating it): on a database in
    write-ahead-log mode a read-only connection could not fold the log back in on closing and
    would leave ``-wal``/``-shm`` files beside it."""
    if not path.is_file():
        raise BackupError(f"no file at {path}")
    try:
        with _connect(path, "rw") as conn:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if result != ["ok"]:
                raise BackupError(f"{path} is damaged: {'; '.join(result[:3])}")
            counts = table_counts(conn)
            dead = dead_left_working(conn) if "sessions" in counts else (0, 0)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from None
    except UnicodeDecodeError:  # SQLite quoted damaged bytes (a flipped byte in the schema)
        raise BackupError(f"{path} is damaged: {NOT_TEXT}") from None
    missing = [t for t in REQUIRED_TABLES if t not in counts]
    if missing:
        raise BackupError(f"{path} is not a tui-trader database (no {', '.join(missing)} table)")
    return Verified(path, counts, dead)


def restore_database(
    backup: Path,
    db: Path,
    now: datetime | None = None,
    confirm: Callable[[Verified], None] | None = None,
) -> Path | None:
    """Replace ``db`` with the verified ``backup``; returns where the old file was kept.

    Refuses while a session runs on ``db``. ``confirm`` is called with what the backup holds
    once it is verified and before an existing ``db`` is touched (it raises to stop: the
    command's question); the running sessions are looked for again after it, as one may have
    started while the user answered. The old database is first copied aside (with the backup
    API, so its write-ahead log comes along) as ``<name>.replaced-<UTC>.db``.
    """
    try:
        source = verify_database(backup)
    except BackupError as exc:
        raise UnusableBackup(str(exc)) from None
    aside: Path | None = None
    if db.exists():
        _refuse_while_running(db)
        if confirm is not None:
            confirm(source)
            _refuse_while_running(db)
        stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        aside = db.with_name(f"{db.stem}.replaced-{stamp}.db")
        create_private_file(aside)
        with _connect(db, "rw") as src, _connect(aside) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
    create_private_file(db)  # a new file only: an existing one keeps the mode its owner gave it
    with _connect(backup, "ro") as src, _connect(db) as dst:
        src.backup(dst)
    restored = verify_database(db)
    if restored.counts != source.counts:
        differs = _diff(source.counts, restored)
        raise BackupError(f"the restored {db} differs from {backup}: {differs}")
    return aside


def _refuse_while_running(db: Path) -> None:
    """``BackupError`` if a session may be running on ``db``."""
    with _connect(db, "rw") as conn:
        running = running_sessions(conn)
    if running:
        raise BackupError(
            f"a session is running on {db} ({', '.join(running)}): stop it before restoring"
        )


STALE_PART_S = 3600.0
"""Age after which a backup's unfinished copy (``.part``) is a killed backup's leftover: a
copy being written is touched far more often than that, and a stale one was never verified."""


def rotate(to_dir: Path, db: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups of ``db`` in ``to_dir`` (none when ``keep``
    is 0: keep all), and the unfinished copies killed backups left (``.part``, untouched for
    ``STALE_PART_S``: never taken for a backup, they only filled the disk); returns the
    deleted."""
    backups = sorted(to_dir.glob(f"{db.stem}-*Z.db"), key=lambda p: p.name)
    doomed = backups[:-keep] if keep >= 1 else []
    limit = time.time() - STALE_PART_S
    for part in sorted(to_dir.glob(f"{db.stem}-*Z.db.part")):
        with contextlib.suppress(OSError):
            if part.stat().st_mtime < limit:
                doomed.append(part)
    for path in doomed:
        with contextlib.suppress(OSError):
            path.unlink()
    return doomed


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows in every table of the database (not views, not SQLite's own)."""
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


@contextlib.contextmanager
def _connect(path: Path, mode: str = "rwc") -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection in autocommit mode (``ro``, ``rw``, or ``rwc`` to create),
    closed afterwards."""
    uri = f"{path.resolve().as_uri()}?mode={mode}"
    conn = sqlite3.connect(uri, uri=True, timeout=10.0, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def _diff(expected: dict[str, int], other: object) -> str:
    """Which tables' counts differ, for messages."""
    counts = other.counts if isinstance(other, Verified) else {}
    bad = [f"{t} {n} vs {counts.get(t)}" for t, n in expected.items() if counts.get(t) != n]
    return ", ".join(bad[:3]) or "different tables"
