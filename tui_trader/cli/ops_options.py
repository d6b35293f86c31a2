"""Options every trading command shares for operations: alerts, periodic backups, the config file.

``add_ops_options`` adds ``--alert URL`` (repeatable), ``--alert-slippage-bps``,
``--backup-every MINUTES``, ``--backup-keep N``, ``--backup-dir DIR`` and ``--config PATH``;
``running_ops`` attaches them to a started session for as long as it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from tui_trader.cli.common import UsageError, file_arg, folder_arg
from tui_trader.cli.numbers import (
    backup_every_arg,
    backups_kept,
    non_negative_float,
    non_negative_int,
    positive_float,
)
from tui_trader.ops.backup_keep import DEFAULT_BACKUP_KEEP

MAX_ALERT_DEADLINE = 86_400.0
"""The longest wait for one delivery attempt, a day (as ``--every``): 1e10 s, which the
number check let through, is past what a thread can wait (``threading.TIMEOUT_MAX``), and the
alert sender died with a traceback at the session's first alert or its end."""


def alert_deadline(text: str) -> float:
    """``--alert-deadline SECONDS``: greater than zero, at most ``MAX_ALERT_DEADLINE``."""
    value = positive_float(text)
    if value > MAX_ALERT_DEADLINE:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_ALERT_DEADLINE:,.0f} seconds (a day), got {text!r}"
        )
    return value


MAX_ALERT_RETRIES = 10
"""The most attempts after the first for one notice. A sender tries one notice at a time, with
a pause that grows by a second each attempt: at 10 a dead URL is given up on, said on stderr and
recorded within a minute of pauses (plus 11 deadlines); ``--alert-retries 1000000`` held its
first notice for weeks, so its failure was said only as the session ended, and every halt after
it waited behind it (dropped past 100 queued)."""


def alert_retries(text: str) -> int:
    """``--alert-retries N`` and the settings file's ``alert-retries``: 0 to
    ``MAX_ALERT_RETRIES``."""
    value = non_negative_int(text)
    if value > MAX_ALERT_RETRIES:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_ALERT_RETRIES} (each waits a second longer than the one before), "
            f"got {text!r}"
        )
    return value


def add_ops_options(parser: argparse.ArgumentParser) -> None:
    """Add the operations options to a trading command."""
    group = parser.add_argument_group("operations (README: Operations)")
    group.add_argument(
        "--alert",
        action="append",
        default=None,
        metavar="URL",
        help="send halts, reconciliation differences, the session's end and costly fills to "
        "this apprise URL (mailto://, json://, ntfy://, tgram://, ...); repeatable",
    )
    group.add_argument(
        "--alert-slippage-bps",
        type=non_negative_float,
        default=None,
        metavar="BPS",
        help="also alert on a fill whose slippage exceeds this many basis points",
    )
    group.add_argument(
        "--alert-deadline",
        type=alert_deadline,
        default=10.0,
        metavar="SECONDS",
        help="give up on one delivery attempt after this long (10)",
    )
    group.add_argument(
        "--alert-retries",
        type=alert_retries,
        default=2,
        metavar="N",
        help="attempts after the first before a delivery is recorded as failed (2; at most "
        f"{MAX_ALERT_RETRIES})",
    )
    group.add_argument(
        "--backup-every",
        type=backup_every_arg,
        default=0.0,
        metavar="MINUTES",
        help="back the database up in the background every MINUTES (0: never; at most 10080, "
        "a week)",
    )
    group.add_argument(
        "--backup-keep",
        type=backups_kept,
        default=DEFAULT_BACKUP_KEEP,
        metavar="N",
        help=f"keep the newest N periodic backups (default {DEFAULT_BACKUP_KEEP}; 'all' or 0: "
        "every one, the folder then grows by a whole copy of the database each time)",
    )
    group.add_argument(
        "--backup-dir",
        type=folder_arg,
        default=None,
        metavar="DIR",
        help="where periodic backups go (default: backups/ beside the database)",
    )
    group.add_argument(
        "--config",
        type=file_arg,
        default=None,
        metavar="PATH",
        help="settings file (default: ./tui-trader.toml, else your config folder); the "
        "command line wins over it",
    )
    parser.set_defaults(config_parser=parser)


PG_BACKUPS = (
    "backups of a PostgreSQL store are the server's job, not tui-trader's: "
    "pg_dump -Fc 'postgresql://USER@HOST:PORT/DB' -f desk.dump (restore: pg_restore -d URL "
    "desk.dump); --backup-every and db backup|restore work on SQLite files"
)
"""Why ``--backup-every`` and ``db backup|restore`` refuse a PostgreSQL store (exit 2)."""


def uses_postgres(args: argparse.Namespace) -> bool:
    """True if the command's audit store is a PostgreSQL URL (``--db`` or ``$TUI_TRADER_DB``)."""
    from tui_trader.cli.common import DB_ENV
    from tui_trader.store.pg_url import PgUrl, looks_like_url

    db = getattr(args, "db", None)
    if db is None:
        return looks_like_url(os.environ.get(DB_ENV, ""))
    return isinstance(db, PgUrl)


def ops_settings_from(args: argparse.Namespace):
    """``OpsSettings`` from the parsed options; a bad alert URL is one line and exit 2."""
    from tui_trader.ops.alerts import AlertPolicy, AlertURLError, check_alert_url
    from tui_trader.ops.session_ops import OpsSettings

    urls = tuple(u for u in (args.alert or ()) if u.strip())
    for url in urls:
        try:
            check_alert_url(url)
        except AlertURLError as exc:
            raise UsageError(str(exc)) from None
    if args.backup_every and uses_postgres(args):
        raise UsageError(PG_BACKUPS)
    return OpsSettings(
        alerts=urls,
        backup_every=args.backup_every,
        backup_keep=args.backup_keep,
        backup_dir=args.backup_dir,
        slippage_alert_bps=args.alert_slippage_bps,
        policy=AlertPolicy(deadline=args.alert_deadline, retries=args.alert_retries),
    )


def stderr_line(line: str) -> None:
    """One operations line on stderr."""
    print(f"tui-trader: {line}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def running_ops(settings, session, db: Path) -> Iterator[object]:
    """Alerts and backups (``OpsSettings``) for ``session`` while the block runs; the last
    alerts are sent after it."""
    if not settings.active:
        yield None
        return
    from tui_trader.ops.session_ops import attach_ops

    ops = attach_ops(session, settings, db, stderr_line)
    try:
        yield ops
    finally:
        ops.close()
