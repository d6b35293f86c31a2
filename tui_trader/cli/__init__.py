"""The command line: ``tui-trader`` and its subcommands.

With no subcommand, ``tui-trader [--db PATH] [--enable-live]`` opens the full-screen app (Textual
is imported only then, so the headless commands stay fast). Each subcommand lives in its own
module with a ``register(subparsers)`` function that adds its parser and sets ``handler``. This
module only wires them together and owns the promise that a user never sees a traceback: bad
input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Sequence
from typing import Any

from tui_trader.cli.app_cmd import app_options_given, run_app
from tui_trader.cli.common import (
    EXIT_USAGE,
    UsageError,
    db_arg,
    fail,
    file_arg,
    warn_unreadable,
)
from tui_trader.cli.logs import report_crash
from tui_trader.cli.lost_store import refuse_lost_store
from tui_trader.cli.once import forget_given, register_once_actions

COMMANDS: dict[str, tuple[str, str]] = {
    "paper": (
        "tui_trader.cli.paper",
        "run a headless local paper session (simulated broker, offline)",
    ),
    "history": ("tui_trader.cli.reports", "closed trades (or orders) from the database"),
    "pnl": ("tui_trader.cli.reports", "profit and loss per day, with totals"),
    "status": ("tui_trader.cli.reports", "last account snapshot, positions, risk state"),
    "report": (
        "tui_trader.cli.report_cmd",
        "a session's performance: return, Sharpe, drawdown, trades, charts (--html FILE)",
    ),
    "risk": ("tui_trader.cli.risk_cmd", "show or reset an account's risk state"),
    "fleet": (
        "tui_trader.cli.fleet_cmd",
        "every session running on the database (and those ended lately); halt them",
    ),
    "live": ("tui_trader.cli.live", "Alpaca paper/live trading and the session monitor"),
    "data": ("tui_trader.cli.data", "market data cache: fetch, list, clear, export"),
    "sandbox": (
        "tui_trader.cli.sandbox",
        "run a local Alpaca-compatible sandbox (paper trading rehearsal, no account)",
    ),
    "learn": (
        "tui_trader.cli.learn",
        "the adaptive learning system: evaluate the weighting schemes",
    ),
    "serve": (
        "tui_trader.cli.serve",
        "serve the desk to a web browser (a link with a random token)",
    ),
    "alert": ("tui_trader.cli.alert_cmd", "check that alerts reach you"),
    "db": ("tui_trader.cli.db_cmd", "back up, verify, restore and prune the audit database"),
    "config": ("tui_trader.cli.config_cmd", "the settings file (tui-trader.toml)"),
}
"""Each subcommand's module and one-line help, in the order ``--help`` lists them. The top-level
``--help`` is printed from this table alone; a subcommand's module (and what it imports) loads
only when that subcommand is on the command line. A test holds the table equal to what the
modules' ``register`` functions add."""


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line and exit code 2, and which takes every
    option only as written out: argparse's default also took a prefix (``--enable`` for
    ``--enable-live``, the real-money switch; ``--max`` for whichever ``--max-*`` was the only
    one), so what a trader typed was not what ran, and a new option could change an old
    command line's meaning."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        register_once_actions(self)  # a single-value option given twice is refused

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """argparse's, without the once-only options' bookkeeping in the result."""
        parsed, extras = super().parse_known_args(args, namespace)
        forget_given(parsed)
        return parsed, extras

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print ``tui-trader: error: ...`` and exit 2, without the usage block; a mistyped
        command or choice gets the one it is closest to (``hist``: did you mean 'history'?)."""
        fail(f"{_with_suggestion(message)} (see '{self.prog} --help')", EXIT_USAGE)


_INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)$")


def _with_suggestion(message: str) -> str:
    """argparse's ``invalid choice: 'X' (choose from ...)`` with ``did you mean 'Y'?`` after X
    when one choice is a close match or the only one X begins (Python 3.14's argparse does
    this; 3.11 only listed every choice)."""
    import difflib

    found = _INVALID_CHOICE.search(message)
    if found is None:
        return message
    typed, listed = found.group(1), found.group(2)
    choices = re.findall(r"'([^']*)'", listed)
    starts = [c for c in choices if typed and c.startswith(typed.lower())]
    close = starts if len(starts) == 1 else difflib.get_close_matches(typed.lower(), choices, 1)
    if not close:
        return message
    return message.replace(f"'{typed}' (", f"'{typed}': did you mean '{close[0]}'? (", 1)


class _LazySubcommands(argparse._SubParsersAction):
    """Subcommands whose parsers are placeholders until the command is chosen: then its module
    is imported and its ``register`` replaces the placeholder with the real parser."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # type: ignore[override]
        """Load the chosen subcommand's module, then parse its arguments as argparse does."""
        if values:
            load_command(self, values[0])
        super().__call__(parser, namespace, values, option_string)


def load_command(subparsers: argparse._SubParsersAction, name: str) -> None:
    """Replace ``name``'s placeholder (and those of its module's other commands) with the real
    parsers its module registers; nothing if already loaded or not a known command."""
    import importlib

    if name not in COMMANDS or name in _loaded(subparsers):
        return
    module = COMMANDS[name][0]
    names = {n for n, (m, _help) in COMMANDS.items() if m == module}
    for n in names:
        del subparsers._name_parser_map[n]
    subparsers._choices_actions[:] = [a for a in subparsers._choices_actions if a.dest not in names]
    importlib.import_module(module).register(subparsers)
    order = list(COMMANDS)
    subparsers._choices_actions.sort(key=lambda a: order.index(a.dest))
    _loaded(subparsers).update(names)


def _loaded(subparsers: argparse._SubParsersAction) -> set[str]:
    """The commands whose real parsers ``subparsers`` holds."""
    return subparsers.__dict__.setdefault("_tui_trader_loaded", set())


def command_action(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    """The top-level parser's subcommands action."""
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def build_parser(lazy: bool = False) -> argparse.ArgumentParser:
    """The parser; with ``lazy`` each subcommand's module loads only when it is chosen (what
    ``main`` uses, so ``--help`` imports none of them), else every subcommand is registered."""
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
        "postgresql://USER@HOST:PORT/DB (default: the settings file's db, else $TUI_TRADER_DB, "
        "else your user data folder)",
    )
    parser.add_argument(
        "--config",
        dest="app_config",
        type=file_arg,
        default=None,
        metavar="PATH",
        help="settings file the app's setup screen starts from (default: ./tui-trader.toml)",
    )
    parser.add_argument(
        "--enable-live",
        dest="app_enable_live",
        action="store_true",
        help="allow the app's setup screen to choose Alpaca live (real money; off by default)",
    )
    parser.add_argument(
        "--skip-readiness",
        dest="app_skip_readiness",
        action="store_true",
        help="let the app's Alpaca live start without a ready paper record (as 'live trading "
        "--skip-readiness'; written as a risk event)",
    )
    parser.register("action", "lazy_parsers", _LazySubcommands)
    subparsers = parser.add_subparsers(
        dest="command", parser_class=_Parser, metavar="COMMAND", action="lazy_parsers"
    )
    for name, (_module, help_text) in COMMANDS.items():
        subparsers.add_parser(name, help=help_text)
    if not lazy:
        for name in COMMANDS:
            load_command(subparsers, name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    from tui_trader.cli.std_streams import encode_what_the_terminal_cannot, reopen_closed_streams

    reopen_closed_streams()  # before any file is opened: none may land on fd 0, 1 or 2
    encode_what_the_terminal_cannot()
    from tui_trader.cli.closed_output import watch_stdout

    watch_stdout(session=False)  # 'fleet | head -1': no BrokenPipeError, the command finishes
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(lazy=True)
    try:  # an option's reader failing unforeseen is a crash line too, never a traceback
        if args_list[:2] == ["config", "show"] and args_list[2:3] not in (["-h"], ["--help"]):
            args = parser.parse_args(args_list[:2])  # the rest is a trading command's options
            args.command_line = args_list[2:]
        else:
            args = parser.parse_args(args_list)
    except SystemExit as done:  # '--help' printed, then argparse ended: was it written?
        if done.code not in (0, None):
            raise
        raise SystemExit(_printed(0)) from None
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        return report_crash(exc)
    handler = getattr(args, "handler", None)
    if handler is None:
        handler = run_app
    elif misplaced := app_options_given(args):
        # Silently ignored, they would send a session's audit to another database or trade
        # without the settings file the user named.
        fail(
            f"{misplaced} before a command is the full-screen app's option; put it after the "
            f"command: tui-trader {args.command} {misplaced} ...",
            EXIT_USAGE,
        )
    try:
        if getattr(args, "config_parser", None) is not None:
            from tui_trader.cli.config_cmd import merge_config

            def load_trading_commands() -> None:  # a settings file may set any trading option
                for name in ("paper", "live"):
                    load_command(command_action(parser), name)

            args.config_sources = merge_config(args, args_list, parser, load_trading_commands)
        return _printed(int(handler(args) or 0))
    except UsageError as exc:
        fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: never a traceback on screen
        _refuse_unwritable(exc, getattr(args, "db", None))
        _refuse_unreadable(exc)
        _refuse_undecodable(exc, getattr(args, "db", None))
        refuse_lost_store(exc, args)
        return report_crash(exc)
    finally:
        warn_unreadable()
    return 0


def _printed(code: int) -> int:
    """``code`` once what was printed is flushed: a reader gone is found here, by the guard
    (``cli.closed_output``), not at the interpreter's last flush, which said nothing and
    exited 0 (``--help > /dev/full``)."""
    sys.stdout.flush()
    return _output_lost(code)


def _output_lost(code: int) -> int:
    """``code``, or when standard output could not be written (``> /dev/full``, a full disk, a
    file-size limit): exit 2 for a command, said in one line; exit 1 for a session, which said
    it as it stopped (it ran, and stopped on what happened to its output: not bad input)."""
    from tui_trader.cli.closed_output import ClosedOutputGuard

    guard = sys.stdout
    if not isinstance(guard, ClosedOutputGuard) or not guard.write_error:
        return code
    if guard.session:
        return 1
    with contextlib.suppress(OSError):
        print(
            f"tui-trader: error: cannot write to standard output ({guard.write_error}): "
            "what was printed is incomplete",
            file=sys.stderr,
        )
    return EXIT_USAGE


def _refuse_unreadable(exc: BaseException) -> None:
    """A money path (the risk state a session starts from) met a hand-edited value nobody can
    read (an equity of ``inf``, text or ``1e308``, a state, day or count no session writes): one
    plain line naming the row, exit 2, not a crash report. Returns only for any other
    exception."""
    numbers = sys.modules.get("tui_trader.store.stored_numbers")
    if numbers is not None and isinstance(exc, numbers.UnreadableValue):
        fail(str(exc), EXIT_USAGE)


_UNDECODABLE = re.compile(r"Could not decode to UTF-8 column '([^']*)'")


def _refuse_undecodable(exc: BaseException, db: object) -> None:
    """A text column of the database holds bytes that are not UTF-8 (another program wrote it,
    or a hand edit): SQLite's reader raised on the row and every report ended with a crash
    line that quoted the bytes. One plain line naming the column instead, exit 2; nothing is
    read from such a store (a key read with its bytes replaced would miss its own row).
    Returns only for any other exception."""
    import sqlite3

    where = str(db) if db else "the audit database"
    fields = sys.modules.get("tui_trader.store.stored_fields")
    if fields is not None and isinstance(exc, fields.BinaryValue):  # a BLOB, not text at all
        fail(f"{where}: {exc}", EXIT_USAGE)
    found = _UNDECODABLE.search(str(exc)) if isinstance(exc, sqlite3.OperationalError) else None
    if found is None:
        return
    fail(
        f"{where}: column {found.group(1)!r} holds text that is not UTF-8 (not written by "
        "tui-trader: a hand edit or another program)",
        EXIT_USAGE,
    )


def _refuse_unwritable(exc: BaseException, db: object) -> None:
    """A command that writes the audit database (``risk reset``, the fleet's halts) found it
    read-only, or locked by another program past the busy timeout, or its PostgreSQL server
    refusing the write (``store.pg_refusals``): one plain line, not a crash report. Returns only
    for any other exception."""
    from tui_trader.store.db import locked_message
    from tui_trader.store.models import database
    from tui_trader.store.pg_refusals import refusal
    from tui_trader.store.sqlite_errors import is_locked, is_read_only, read_only_message

    refused = refusal(database.obj, exc, "nothing was changed")
    if refused is not None:  # a server read-only, out of disk space, locked or cancelling
        fail(refused.message, 1 if refused.locked else EXIT_USAGE)
    where = str(db) if db else "(the default)"
    if is_read_only(exc):
        fail(read_only_message(where, running=False) + "; nothing was changed", EXIT_USAGE)
    if is_locked(exc):
        holders = ""
        if db and "://" not in str(db):  # a SQLite file: a frozen desk of ours may hold it
            from tui_trader.store.lock_holders import frozen_holders

            holders = frozen_holders(str(db))
        fail(locked_message(where, "nothing was changed", holders), 1)
