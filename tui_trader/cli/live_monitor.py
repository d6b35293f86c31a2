"""``tui-trader live monitor``: the dashboard on a session that runs in another process.

The monitor follows the session's audit database as it is written; its kill switch writes a
``halt_requests`` row, which the session picks up at its next iteration. By default it follows
the newest session that is alive, and refuses (exit 2) when the newest running one has died.
``--all`` opens the Fleet screen instead: every session on the database, halted by account.
"""

from __future__ import annotations

import argparse

from tui_trader.cli.common import UsageError, add_db_option, key_arg, resolve_db


def register_live(actions: argparse._SubParsersAction) -> None:
    """Add ``live monitor``."""
    parser = actions.add_parser(
        "monitor",
        help="open the dashboard on a session running in another process",
        description="Follow a running session through its database; ctrl+k halts it.",
    )
    add_db_option(parser)
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--session",
        type=key_arg,
        default=None,
        metavar="KEY",
        help="session key or id (default: newest running)",
    )
    which.add_argument(
        "--all",
        action="store_true",
        help="the Fleet screen: every session on the database; ctrl+k halts a row's account",
    )
    parser.set_defaults(handler=run_monitor)


def run_monitor(args: argparse.Namespace) -> int:
    """Open the monitor app (Textual is imported only now)."""
    db = resolve_db(args.db, must_exist=True)
    from tui_trader.store.db import StoreError, open_database
    from tui_trader.tui.app import make_app

    if args.all:
        try:
            open_database(db, create=False)  # say at once when the file is not ours
        except StoreError as exc:
            raise UsageError(str(exc)) from None
        make_app(db, fleet_only=True).run()
        return 0
    from tui_trader.tui.monitor import DbFollower, MonitorError
    from tui_trader.tui.monitor_handle import MonitorHandle

    follower = DbFollower(db, args.session)
    try:
        follower.open()  # say at once, on the command line, when there is nothing alive
    except (MonitorError, StoreError) as exc:
        raise UsageError(str(exc)) from None
    make_app(db, monitor=MonitorHandle(follower)).run()
    return 0
