"""``tui-trader db backup|verify|restore``: consistent, verified copies of the audit database
(``db prune``, trimming the learning history: ``cli.db_prune``).

``backup`` copies while a session writes (SQLite's online backup API) and prints the verified
file's path; Ctrl+C or SIGTERM end it with its unfinished copy deleted (exit 130 or 143).
``verify`` checks a file; ``restore`` puts a backup in place, refusing while a session runs on
the database and keeping the replaced file aside; it asks first (``restore`` typed in full) and,
off a terminal, is refused without ``--yes``. A check or a copy that fails is one line and
exit 1. A FILE that does not exist, or (for restore) is no whole tui-trader database, is input to
fix (one line, exit 2, nothing touched), and a PostgreSQL store is refused the same way:
``pg_dump``/``pg_restore`` are the tools for it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tui_trader.cli.common import (
    UsageError,
    add_db_option,
    file_arg,
    folder_arg,
    resolve_db,
)
from tui_trader.cli.db_prune import register as prune_register
from tui_trader.cli.numbers import non_negative_int
from tui_trader.core.shown import shown_path

if TYPE_CHECKING:
    from tui_trader.ops.backup import Verified


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``db backup``, ``db verify``, ``db restore`` and ``db prune``."""
    db = subparsers.add_parser("db", help="back up, verify, restore and prune the audit database")
    actions = db.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    backup = actions.add_parser("backup", help="a verified copy, named by UTC time")
    add_db_option(backup)
    backup.add_argument(
        "--to",
        type=folder_arg,
        default=None,
        metavar="DIR",
        help="folder (default: backups/ beside it)",
    )
    backup.add_argument(
        "--keep", type=non_negative_int, default=0, metavar="N", help="keep the newest N (0: all)"
    )
    backup.set_defaults(handler=run_backup)
    verify = actions.add_parser("verify", help="integrity check and row counts of a file")
    verify.add_argument("file", type=file_arg, metavar="FILE")
    verify.set_defaults(handler=run_verify)
    restore = actions.add_parser("restore", help="replace the database with a backup")
    restore.add_argument("file", type=file_arg, metavar="FILE")
    add_db_option(restore)
    restore.add_argument(
        "--yes", action="store_true", help="do not ask before replacing the database (scripts)"
    )
    restore.set_defaults(handler=run_restore)
    prune_register(actions)


def _sqlite_only(db: Path | object) -> Path:
    """``db`` if it is a SQLite file; a PostgreSQL store is refused in one line (exit 2): its
    backups are pg_dump's job (a consistent dump of a live shared server, matched to its
    version), and replacing a database other machines' desks write to is the DBA's call."""
    from tui_trader.cli.ops_options import PG_BACKUPS

    if not isinstance(db, Path):
        raise UsageError(PG_BACKUPS)
    return db


def run_backup(args: argparse.Namespace) -> int:
    """Copy, verify, rotate, print the path."""
    from tui_trader.cli.stop_signals import Stopped, stopped_raised
    from tui_trader.ops.backup import BackupError, backup_database, default_backup_dir, rotate

    db = _sqlite_only(resolve_db(args.db, must_exist=True))
    folder = args.to or default_backup_dir(db)
    try:
        with stopped_raised():  # the copy deletes its unfinished file as the signal ends it
            copy = backup_database(db, folder)
    except BackupError as exc:
        return _failed(str(exc))
    except Stopped as stop:
        import sys

        print("interrupted: no backup was made (its unfinished copy was deleted)", file=sys.stderr)
        return stop.exit_code
    removed = rotate(folder, db, args.keep)
    print(
        f"backup verified: {copy.path} ({_orders(copy.counts)}, "
        f"{sum(copy.counts.values())} rows in {len(copy.counts)} tables)"
    )
    if removed:
        parts = sum(path.suffix == ".part" for path in removed)
        if len(removed) > parts:
            print(f"removed {len(removed) - parts} older backup(s) (--keep {args.keep})")
        if parts:
            print(f"removed {parts} unfinished copy(ies) left by a backup that was killed")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """Check one file and print what it holds."""
    from tui_trader.ops.backup import BackupError, verify_database

    try:
        checked = verify_database(_named_file(args.file))
    except BackupError as exc:
        return _failed(str(exc))
    print(f"ok: {checked.path} passes integrity_check ({_orders(checked.counts)})")
    for table, count in checked.counts.items():
        print(f"  {table:28} {count:>10,}")
    sessions, orders = checked.dead_local
    if sessions:
        print(
            f"note: {sessions} local session(s) died without ending, {orders} of their orders "
            "still recorded working; the next session started on this database records them "
            "canceled (a simulated account ends with its session)"
        )
    return 0


def run_restore(args: argparse.Namespace) -> int:
    """Put the backup in place; say where the replaced database went."""
    from tui_trader.ops.backup import BackupError, UnusableBackup, restore_database

    db = _sqlite_only(resolve_db(args.db))
    confirm = None if args.yes else _confirm_restore(db, args.file)
    try:
        aside = restore_database(_named_file(args.file), db, confirm=confirm)
    except UnusableBackup as exc:  # the FILE typed is no backup: input to fix, nothing touched
        raise UsageError(f"{exc}; nothing was restored") from None
    except BackupError as exc:
        return _failed(str(exc))
    print(f"restored {db} from {args.file}")
    if aside is not None:
        print(f"the replaced database was kept as {aside}")
    return 0


def _confirm_restore(db: Path, backup: Path) -> Callable[[Verified], None]:
    """The question asked before an existing database is replaced (its audit trail since the
    backup leaves the place sessions and reports read): 'restore' typed in full goes on;
    anything else stops with nothing changed (exit 2); off a terminal, without ``--yes``, it
    is refused."""
    from tui_trader.cli.questions import confirmed_by_typing

    def confirm(source: Verified) -> None:
        if not confirmed_by_typing(
            "restore",
            f"This replaces the audit database {shown_path(db)} with the backup "
            f"{shown_path(backup)} ({_orders(source.counts)}, "
            f"{sum(source.counts.values()):,} rows); the database now there is kept beside it "
            f"as {shown_path(db.stem)}.replaced-<UTC time>.db.",
            "Type 'restore' to replace it: ",
            f"refusing to replace {shown_path(db)} without confirmation: run in a terminal or "
            "pass --yes",
        ):
            raise UsageError("not restored: nothing was changed")

    return confirm


def _named_file(path: Path) -> Path:
    """``path`` if it names a file; a mistyped name is the user's to fix (one line, exit 2),
    not a check that failed (exit 1). A name the system cannot even look up (longer than it
    allows) raised ``OSError`` here: exit 1, a crash.log and the 5,000 characters quoted; a
    pipe was called "no such file"."""
    try:
        if path.is_file():
            return path
        if path.is_dir():
            what = "a folder, not a database file"
        elif path.exists():
            what = "not a regular file (a device, pipe or socket): not a database"
        else:
            what = "no such file"
    except OSError as exc:
        what = f"cannot be looked up ({exc.strerror})"
    raise UsageError(f"{path}: {what}")


def _orders(counts: dict[str, int]) -> str:
    """``N live_orders`` for messages."""
    return f"{counts.get('live_orders', 0):,} live_orders"


def _failed(message: str) -> int:
    """One line on stderr, exit 1."""
    import sys

    print(f"tui-trader: error: {message}", file=sys.stderr)
    return 1
