"""``tui-trader report``: one session's performance, in the terminal and as an HTML page.

Reads the audit database only (it may run while a session writes). The figures and their
definitions live in ``tui_trader.reporting.metrics``; this module picks the session, prints the
rich tables and charts, and writes the page with ``--html FILE`` (owner-only, 0600).
"""

from __future__ import annotations

import argparse
import shutil
from typing import TYPE_CHECKING

from rich.console import Console

from tui_trader.cli.common import (
    UsageError,
    add_db_option,
    key_arg,
    output_file_arg,
    resolve_db,
)
from tui_trader.cli.shown_console import ShownConsole
from tui_trader.store.db import StoreError, open_database
from tui_trader.store.models import SessionRow
from tui_trader.store.queries import find_session

if TYPE_CHECKING:
    from tui_trader.reporting.metrics import PerformanceReport


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``report``."""
    parser = subparsers.add_parser(
        "report",
        help="a session's performance: return, Sharpe, drawdown, trades, charts (--html FILE)",
        description="Performance of one session from the audit database: return, CAGR, Sharpe, "
        "Sortino, max drawdown and its duration, exposure, trade figures by symbol and "
        "strategy, turnover, costs, and equity and drawdown charts.",
    )
    add_db_option(parser)
    parser.add_argument(
        "--session", type=key_arg, default=None, help="session key or id (default: the latest)"
    )
    parser.add_argument(
        "--html",
        type=output_file_arg,
        default=None,
        metavar="FILE",
        help="also write a self-contained HTML page with interactive charts (works offline)",
    )
    parser.set_defaults(handler=show_report)


def session_title(session: SessionRow) -> str:
    """The report's title line."""
    return (
        f"Report: session {session.key} ({session.mode}, {session.data_source}, {session.status})"
    )


def print_session_report(console: Console, session: SessionRow) -> PerformanceReport:
    """Print one session's report (the database must be open); returns it."""
    from tui_trader.reporting.load import session_report
    from tui_trader.reporting.terminal import report_renderable

    session = SessionRow.get_by_id(session.id)  # fresh: a session just ended says so
    report = session_report(session)
    width = max(20, min(100, (console.width or shutil.get_terminal_size().columns) - 14))
    console.print(report_renderable(report, session_title(session), width), soft_wrap=False)
    return report


def show_report(args: argparse.Namespace) -> int:
    """Print the report; write the HTML page when asked."""
    db = resolve_db(args.db, must_exist=True)
    if args.html is not None and not args.html.parent.is_dir():
        raise UsageError(f"--html: no folder {args.html.parent}")
    try:
        open_database(db)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    session = find_session(args.session)
    if session is None:
        raise UsageError(
            f"no session {args.session!r} in {db}" if args.session else f"no sessions in {db} yet"
        )
    console = ShownConsole(highlight=False)  # stored names and the page's name, as written
    report = print_session_report(console, session)
    title = session_title(session)
    if args.html is not None:
        from tui_trader.reporting.html import write_html

        try:
            write_html(report, title, args.html)
        except OSError as exc:
            raise UsageError(f"--html: cannot write {args.html}: {exc.strerror}") from None
        console.print(f"HTML report written to {args.html}")
    return 0
