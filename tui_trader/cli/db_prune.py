"""``tui-trader db prune --before DATE``: trim the learning history written before a date.

A desk writes ~50 learning rows a cycle, running or halted (~400,000 an hour at the desk's
0.5 s pace, 95% of its rows); nothing reads them back but the latest cycle of each strategy set
(``store.learning_prune``). This deletes the older ones and nothing else: orders, fills,
trades, snapshots, risk events, risk state, halts and sessions are never pruned.

Safe beside a running desk: rows of the last day are never touched (DATE is today at the
latest, midnight UTC), the latest cycle of each strategy set is kept whatever its date, and the
rows go in batches of 5,000, each its own short transaction. A SQLite database is backed up
first (a verified copy, as ``db backup``): a backup that fails deletes nothing (exit 1). Ctrl+C
or SIGTERM stops it between batches (exit 130 or 143), saying how many rows went. ``--vacuum``
then rewrites the file without its free pages (refused up front while a session runs on it,
and on PostgreSQL). A PostgreSQL store has no backup of tui-trader's (``pg_dump`` is the
server's tool): the question says so. It asks first (``prune`` typed in full); off a terminal
it needs ``--yes``. A DATE that is no date or lies in the future, a file that is not there: one
line, exit 2, nothing touched.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

from tui_trader.cli.common import UsageError, add_db_option, folder_arg, resolve_db
from tui_trader.core.shown import shown_path

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def day_arg(text: str) -> date:
    """``--before``: a ``YYYY-MM-DD`` date (``20261207`` or ``2026-12-7`` are refused: a date
    that deletes is typed in one unmistakable form)."""
    try:
        if _DATE.fullmatch(text.strip()):
            return date.fromisoformat(text.strip())
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text.strip()[:40]!r}")


def register(actions: argparse._SubParsersAction) -> None:
    """Add ``db prune`` to ``db``'s actions."""
    prune = actions.add_parser(
        "prune", help="delete learning history written before a date (never the audit trail)"
    )
    prune.add_argument(
        "--before",
        type=day_arg,
        required=True,
        metavar="YYYY-MM-DD",
        help="delete learning rows written before this day (UTC; today at the latest)",
    )
    add_db_option(prune)
    prune.add_argument(
        "--backup-dir",
        type=folder_arg,
        default=None,
        metavar="DIR",
        help="where the backup taken first goes (default: backups/ beside the database)",
    )
    prune.add_argument(
        "--vacuum",
        action="store_true",
        help="then give the freed space back to the disk (SQLite, no desk running on it)",
    )
    prune.add_argument("--yes", action="store_true", help="do not ask first (scripts)")
    prune.set_defaults(handler=run_prune)


def run_prune(args: argparse.Namespace, today: date | None = None) -> int:
    """Check the date, count, ask, back up (SQLite), delete, say what went."""
    from tui_trader.cli.common import open_existing_db
    from tui_trader.cli.questions import confirmed_by_typing
    from tui_trader.cli.stop_signals import Stopped, stopped_raised
    from tui_trader.security.redact import describe
    from tui_trader.store.learning_prune import count_older, kept_cycles, prune_older
    from tui_trader.store.peewee_names import PeeweeException

    today = today or datetime.now(UTC).date()
    if args.before > today:
        raise UsageError(
            f"--before {args.before} is in the future (today is {today} UTC): it would delete "
            "the learning the desk writes now; name today or an earlier day"
        )
    where = resolve_db(args.db, must_exist=True)
    if not isinstance(where, Path) and args.backup_dir is not None:
        raise UsageError(
            "--backup-dir is for a SQLite file: back a PostgreSQL store up with pg_dump"
        )
    if args.vacuum:
        _vacuum_allowed(where)
    db = open_existing_db(where)
    try:
        before = datetime.combine(args.before, time())
        kept = kept_cycles()
        counts = count_older(before, kept)
        total = sum(counts.values())
        listed = ", ".join(f"{count:,} {table}" for table, count in counts.items())
        if not total:
            print(f"nothing to prune: no learning rows written before {args.before}")
            db.close()  # (again in ``finally``: a no-op) VACUUM wants the file to itself
            return _vacuumed(where) if args.vacuum else 0
        shown = shown_path(str(where)) if isinstance(where, Path) else "the PostgreSQL store"
        backup = (
            "a verified backup is taken first"
            if isinstance(where, Path)
            else "tui-trader takes no backup of a PostgreSQL store: pg_dump it first"
        )
        if not args.yes and not confirmed_by_typing(
            "prune",
            f"This deletes {total:,} learning rows written before {args.before} 00:00 UTC from "
            f"{shown} ({listed}); the latest learning of each strategy set is kept, and no "
            f"order, fill, trade, snapshot, risk event or halt is touched; {backup}.",
            "Type 'prune' to delete them: ",
            "refusing to prune without confirmation: run in a terminal or pass --yes",
        ):
            raise UsageError("not pruned: nothing was deleted")
        if isinstance(where, Path):
            copy = _backed_up(where, args.backup_dir)
            if copy is None:
                return 1
            print(f"backup verified: {copy}")
        pruned: dict[str, int] = {}
        try:
            with stopped_raised():  # the batch under way rolls back; those done stay done
                deleted = prune_older(db, before, kept, pruned.__setitem__)
        except KeyboardInterrupt as stop:  # Ctrl+C, SIGTERM, SIGHUP
            print(
                f"interrupted: {sum(pruned.values()):,} learning rows pruned before the stop "
                "(whole batches); the others are still there: run it again to finish",
                file=sys.stderr,
            )
            return stop.exit_code if isinstance(stop, Stopped) else 130
        except (PeeweeException, sqlite3.Error) as exc:
            if not any(pruned.values()):
                raise  # nothing deleted: the store's own one line says so (locked, read-only)
            print(
                f"tui-trader: error: the prune stopped after {sum(pruned.values()):,} learning "
                f"rows (whole batches): {describe(exc)}; the others are still there: run it "
                "again to finish",
                file=sys.stderr,
            )
            return 1
    finally:
        db.close()
    said = ", ".join(f"{count:,} {table}" for table, count in deleted.items())
    print(f"pruned {sum(deleted.values()):,} learning rows written before {args.before}: {said}")
    if kept.sets:
        print(f"kept the latest learning of {kept.sets} strategy set(s): what a start restores")
    if args.vacuum:
        return _vacuumed(where)
    if isinstance(where, Path):
        print(
            "the file keeps its size: new rows reuse the freed pages (to shrink it, with no desk "
            "running: --vacuum)"
        )
    return 0


def _vacuum_allowed(db: Path | object) -> None:
    """Refuse ``--vacuum`` up front, before anything is backed up or deleted: on a PostgreSQL
    store (its autovacuum reuses the space; ``VACUUM FULL`` is the DBA's call), and while a
    session runs on the file (VACUUM rewrites all of it, holding it for as long: the desk's
    next commit would wait past its busy timeout and halt it)."""
    if not isinstance(db, Path):
        raise UsageError(
            "--vacuum is for a SQLite file: a PostgreSQL server's autovacuum reuses the space "
            "(VACUUM FULL, which gives it back, is the DBA's call)"
        )
    running = _running(db)
    if running:
        raise UsageError(
            f"a session is running on {shown_path(str(db))} ({', '.join(running)}): --vacuum "
            "rewrites the whole file and needs it to itself; stop the desk first, or prune "
            "without --vacuum (nothing was deleted)"
        )


def _running(db: Path) -> list[str]:
    """Keys of the sessions that may be running on the file (``ops.liveness``)."""
    from tui_trader.ops.liveness import running_sessions

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return running_sessions(conn)
    finally:
        conn.close()


def _vacuumed(db: Path | object) -> int:
    """Rewrite the file without its free pages; say how big it was and is (exit 0), or why
    not in one line (exit 1: the rows stay pruned either way)."""
    assert isinstance(db, Path)  # _vacuum_allowed refused any other
    from tui_trader.security.redact import describe

    running = _running(db)  # again: a desk may have started during the prune
    if running:
        print(
            f"tui-trader: error: not vacuumed: a session started on the file meanwhile "
            f"({', '.join(running)}); the rows stay pruned",
            file=sys.stderr,
        )
        return 1
    was = db.stat().st_size + _wal_size(db)
    try:
        conn = sqlite3.connect(db, timeout=10, isolation_level=None)
        try:
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        print(f"tui-trader: error: not vacuumed: {describe(exc)}", file=sys.stderr)
        return 1
    now = db.stat().st_size + _wal_size(db)
    print(f"vacuumed: {shown_path(str(db))} is {now / 1e6:,.1f} MB (it was {was / 1e6:,.1f} MB)")
    return 0


def _wal_size(db: Path) -> int:
    """Bytes of the file's write-ahead log (0 if none)."""
    wal = db.with_name(db.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def _backed_up(db: Path, folder: Path | None) -> Path | None:
    """A verified backup of ``db`` taken before anything is deleted, or ``None`` after one line
    on stderr (the prune does not go on without it)."""
    from tui_trader.cli.stop_signals import stopped_raised
    from tui_trader.ops.backup import BackupError, backup_database, default_backup_dir

    try:
        with stopped_raised():  # Ctrl+C: the unfinished copy deleted, nothing pruned
            return backup_database(db, folder or default_backup_dir(db)).path
    except BackupError as exc:
        print(f"tui-trader: error: {exc}; nothing was pruned", file=sys.stderr)
        return None
