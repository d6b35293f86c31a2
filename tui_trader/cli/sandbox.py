"""``tui-trader sandbox``: run the local Alpaca-compatible sandbox until Ctrl+C.

It prints every URL and the ``export`` line for the other terminal. Keys default to fixed,
well-known sandbox keys (they guard nothing); ``--key-id``/``--secret`` or the environment
variables ``TUI_TRADER_SANDBOX_KEY_ID``/``TUI_TRADER_SANDBOX_SECRET`` override them, and a secret
chosen by the user is never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
import threading
from typing import Any

from tui_trader.cli.common import UsageError, quoted, symbols_arg
from tui_trader.cli.numbers import cash_arg, non_negative_float, non_negative_int, slippage_bps
from tui_trader.market.sim import DEFAULT_SYMBOLS

DEFAULT_PORT = 8765
KEY_ENV = "TUI_TRADER_SANDBOX_KEY_ID"
SECRET_ENV = "TUI_TRADER_SANDBOX_SECRET"


def faults_arg(text: str) -> Any:
    """A fault SPEC (``latency=0.2,error_rate=0.1``) checked at the command line."""
    from tui_trader.sandbox.faults import FaultSpecError, parse_faults

    try:
        return parse_faults(text)
    except FaultSpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def speed_arg(text: str) -> float:
    """``--speed``: simulated time per wall-clock time, 0 to ``MAX_SPEED``."""
    from tui_trader.sandbox.config import check_speed

    try:
        return check_speed(non_negative_float(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def sandbox_symbols(text: str) -> tuple[str, ...]:
    """``--symbols``: a symbol list (``symbols_arg``) of at most ``MAX_SYMBOLS``; a longer one (a
    pasted universe) started for minutes and ran the memory up instead of serving."""
    from tui_trader.sandbox.config import MAX_SYMBOLS

    symbols = symbols_arg(text)
    if len(symbols) > MAX_SYMBOLS:
        raise argparse.ArgumentTypeError(
            f"the sandbox simulates at most {MAX_SYMBOLS} symbols, got {len(symbols):,}"
        )
    return symbols


def port_arg(text: str) -> int:
    """A TCP port number (0 picks a free one)."""
    value = non_negative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return value


def key_id_arg(text: str) -> str:
    """``--key-id``: not blank, no blank or control character. An empty one (an unset shell
    variable) fell back to the well-known key, and one holding an escape sequence or a ``;``
    after a space was printed raw into the ``export`` line the user pastes into a shell."""
    problem = _key_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"{problem}: {quoted(text)}")
    return text


def secret_arg(text: str) -> str:
    """``--secret``: held to ``key_id_arg``'s rule; the refusal never quotes it."""
    problem = _key_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"{problem} (the secret is not shown)")
    return text


def _key_problem(text: str) -> str | None:
    """What is wrong with a key id or secret typed for the sandbox, if anything."""
    if not text.strip():
        return "is empty"
    if not text.isprintable() or any(ch.isspace() for ch in text):
        return "holds a space or a control character"
    return None


def _from_env(name: str, check: Any) -> str | None:
    """A sandbox key from the environment (unset or empty: ``None``), checked as the option."""
    value = os.environ.get(name)
    if not value:
        return None
    try:
        return check(value)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"${name} {exc}") from None


def interval_arg(text: str) -> str:
    """A bar interval the simulated market understands (``1m``, ``5m``, ``1h``, ``1d``)."""
    from tui_trader.core.timeframes import TimeframeError, parse_interval

    try:
        return parse_interval(text).text
    except TimeframeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers: Any) -> None:
    """Add the ``sandbox`` subcommand."""
    parser = subparsers.add_parser(
        "sandbox",
        help="run a local Alpaca-compatible sandbox (paper trading rehearsal, no account)",
        description="Serve Alpaca's Trading API, Market Data API and streams on 127.0.0.1, "
        "backed by the simulated market, until Ctrl+C.",
    )
    parser.add_argument(
        "--port", type=port_arg, default=DEFAULT_PORT, help="REST and stream port (8765)"
    )
    parser.add_argument(  # deprecated: the streams moved onto --port, as on Alpaca's hosts
        "--stream-port", type=port_arg, default=None, help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--speed",
        type=speed_arg,
        default=1.0,
        help="simulated time per wall-clock time: 60 with 1m bars is a bar a second; 0 pauses",
    )
    parser.add_argument("--interval", type=interval_arg, default="1m", help="bar interval (1m)")
    parser.add_argument(
        "--faults",
        type=faults_arg,
        default=None,
        metavar="SPEC",
        help="e.g. latency=0.2,error_rate=0.1",
    )
    parser.add_argument("--cash", type=cash_arg, default=100_000.0, help="starting cash")
    parser.add_argument("--seed", type=non_negative_int, default=7, help="market and fault seed")
    parser.add_argument(
        "--symbols",
        type=sandbox_symbols,
        default=DEFAULT_SYMBOLS,
        help=f"simulated symbols, at most 100 ({','.join(DEFAULT_SYMBOLS)})",
    )
    parser.add_argument(
        "--hours",
        choices=("24h", "real"),
        default="24h",
        help="24h (always open) or real NYSE hours",
    )
    parser.add_argument(
        "--slippage-bps", type=slippage_bps, default=2.0, help="market order slippage (2)"
    )
    parser.add_argument(
        "--key-id", type=key_id_arg, default=None, help=f"API key id to accept (env {KEY_ENV})"
    )
    parser.add_argument(
        "--secret", type=secret_arg, default=None, help=f"API secret to accept (env {SECRET_ENV})"
    )
    parser.set_defaults(handler=run_sandbox)


def run_sandbox(args: argparse.Namespace) -> int:
    """Start the sandbox, print where it is, wait for Ctrl+C, stop cleanly.

    Standard output that cannot be written (``> /dev/full``, a log file on a full disk) stops
    it at once with one line and exit 2: a sandbox whose address and keys nobody can read
    (its port picked with ``--port 0``) serves no one, and it served on silently until Ctrl+C.
    A reader that left (``| head -3``) is not that: the sandbox serves on, as other commands
    finish their work when their reader goes away."""
    from rich.console import Console

    from tui_trader.cli.stop_signals import ctrl_c
    from tui_trader.sandbox import DEFAULT_KEY_ID, DEFAULT_SECRET, FaultSettings, Sandbox
    from tui_trader.sandbox.config import SandboxConfig

    key_id = args.key_id or _from_env(KEY_ENV, key_id_arg) or DEFAULT_KEY_ID
    secret = args.secret or _from_env(SECRET_ENV, secret_arg) or DEFAULT_SECRET
    if args.stream_port is not None:
        print(
            "tui-trader sandbox: --stream-port is deprecated and ignored: the streams are served "
            "on --port (/stream and /v2/iex), as Alpaca serves them",
            file=sys.stderr,
        )
    config = SandboxConfig(
        port=args.port,
        speed=args.speed,
        cash=args.cash,
        seed=args.seed,
        symbols=args.symbols,
        interval=args.interval,
        hours=args.hours,
        slippage_bps=args.slippage_bps,
        key_id=key_id,
        secret=secret,
        faults=args.faults or FaultSettings(),
    )
    try:
        sandbox = Sandbox(config).start()
    except OSError as exc:
        raise UsageError(
            f"cannot listen on 127.0.0.1 port {args.port}: {exc.strerror} "
            "(choose another with --port)"
        ) from None
    stop = threading.Event()
    unwritable = ""
    shown_secret = secret if secret == DEFAULT_SECRET else "<the secret you chose>"
    try:
        with ctrl_c(stop.set, Console(stderr=True), doing="stopping the sandbox"):
            print(
                f"tui-trader sandbox: {','.join(config.symbols)} {config.interval} bars at "
                f"speed {config.speed:g}, hours {config.hours}, cash {config.cash:,.2f}, "
                f"seed {config.seed}, faults {config.faults.describe()}\n"
                f"  REST (Trading + Market Data API): {sandbox.base_url}\n"
                f"  trading stream:                   {sandbox.trading_stream_url}\n"
                f"  market data stream:               {sandbox.data_stream_url}\n"
                f"  admin (needs the keys below):     {sandbox.base_url}/admin/state\n"
                f"In the other terminal:\n"
                f"  export APCA_API_KEY_ID={shlex.quote(key_id)} "
                f"APCA_API_SECRET_KEY={shown_secret} "
                f"APCA_API_BASE_URL={sandbox.base_url}\n"
                f"Press Ctrl+C to stop.",
                flush=True,
            )
            unwritable = getattr(sys.stdout, "write_error", "")  # ``cli.closed_output``
            if not unwritable:
                stop.wait()
    finally:
        sandbox.stop()
    if unwritable:
        raise UsageError(
            f"cannot write to standard output ({unwritable}): the sandbox stopped (its address "
            "and keys could not be printed)"
        )
    with contextlib.suppress(OSError):  # the reader of a pipe may have quit: stopped all the same
        print("sandbox stopped", file=sys.stderr)
    return 0
