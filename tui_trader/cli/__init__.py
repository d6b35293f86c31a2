"""The command line: ``tui-trader`` and its subcommands.

Each subcommand lives in its own module with a ``register(subparsers)`` function that adds its
parser and sets ``handler``. This module only wires them together and owns the promise that a
user never sees a traceback: bad input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tui_trader.cli.common import EXIT_USAGE, UsageError, fail, report_crash

_COMMAND_MODULES = (
    "tui_trader.cli.paper",
    "tui_trader.cli.reports",
    "tui_trader.cli.risk_cmd",
    "tui_trader.cli.live",
    "tui_trader.cli.data",
    "tui_trader.cli.sandbox",
    "tui_trader.cli.learn",
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
    subparsers = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(args_list)
    handler = getattr(args, "handler", None)
    if handler is None:
        args = parser.parse_args(["paper", *args_list])
        handler = args.handler
    try:
        return int(handler(args) or 0)
    except UsageError as exc:
        fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: never a traceback on screen
        return report_crash(exc)
    return 0
