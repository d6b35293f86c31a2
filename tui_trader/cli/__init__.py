"""The command line: ``tui-trader`` and its subcommands.

With no subcommand, ``tui-trader [--db PATH] [--enable-live]`` opens the full-screen app (Textual
is imported only then, so the headless commands stay fast). Each subcommand lives in its own
module with a ``register(subparsers)`` function that adds its parser and sets ``handler``. This
module only wires them together and owns the promise that a user never sees a traceback: bad
input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tui_trader.cli.common import EXIT_USAGE, UsageError, db_arg, fail, report_crash

_COMMAND_MODULES = (
    "tui_trader.cli.paper",
    "tui_trader.cli.reports",
    "tui_trader.cli.report_cmd",
    "tui_trader.cli.risk_cmd",
    "tui_trader.cli.fleet_cmd",
    "tui_trader.cli.live",
    "tui_trader.cli.data",
    "tui_trader.cli.sandbox",
    "tui_trader.cli.learn",
    "tui_trader.cli.serve",
    "tui_trader.cli.alert_cmd",
    "tui_trader.cli.db_cmd",
    "tui_trader.cli.config_cmd",
)
"""Subcommand modules, in the order ``--help`` lists them."""


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print ``tui-trader: error: ...`` and exit 2, without the usage block."""
        fail(f"{message} (see '{self.prog} --help')", EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every subcommand registered."""
    import importlib

    parser = _Parser(
        prog="tui-trader",
        description="A terminal trading desk for US equities: simulated, Alpaca paper or live.",
    )
    parser.add_argument(
        "--db",
        dest="app_db",
        type=db_arg,
        default=None,
        metavar="PATH|URL",
        help="audit database for the full-screen app: a SQLite file or "
        "postgresql://USER@HOST:PORT/DB (default: $TUI_TRADER_DB, else your user data folder)",
    )
    parser.add_argument(
        "--config",
        dest="app_config",
        type=Path,
        default=None,
        metavar="PATH",
        help="settings file the app's setup screen starts from (default: ./tui-trader.toml)",
    )
    parser.add_argument(
        "--enable-live",
        action="store_true",
        help="allow the app's setup screen to choose Alpaca live (real money; off by default)",
    )
    subparsers = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def run_app(args: argparse.Namespace) -> int:
    """No subcommand: open the full-screen app (Textual is imported only now)."""
    from tui_trader.cli.common import resolve_db

    db = resolve_db(args.app_db)
    from tui_trader.cli.config_cmd import setup_defaults

    defaults = setup_defaults(args.app_config)
    from tui_trader.tui.app import make_app

    extra = {"setup_defaults": defaults} if defaults is not None else {}
    make_app(db, live_enabled=args.enable_live, **extra).run()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if args_list[:2] == ["config", "show"] and args_list[2:3] not in (["-h"], ["--help"]):
        args = parser.parse_args(args_list[:2])  # the rest is a trading command's options
        args.command_line = args_list[2:]
    else:
        args = parser.parse_args(args_list)
    handler = getattr(args, "handler", None)
    if handler is None:
        handler = run_app
    try:
        if getattr(args, "config_parser", None) is not None:
            from tui_trader.cli.config_cmd import merge_config

            args.config_sources = merge_config(args, args_list, parser)
        return int(handler(args) or 0)
    except UsageError as exc:
        fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: never a traceback on screen
        return report_crash(exc)
    return 0
