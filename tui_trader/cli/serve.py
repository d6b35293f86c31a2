"""``tui-trader serve``: the desk in a web browser, behind a random token.

Each browser connection runs its own desk process (``tui-trader --db PATH``) through
textual-serve; the link printed at start carries the token without which every request is
refused (403). Only loopback by default: another address needs ``--allow-remote`` and gets a
warning, since the kill switch (and, with ``--enable-live``, live trading) is behind that token.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys
from pathlib import Path

from rich.console import Console

from tui_trader.cli.common import UsageError, add_db_option, quoted, resolve_db
from tui_trader.cli.shown_console import shown_markup
from tui_trader.store.pg_url import PgUrl

DEFAULT_PORT = 8780
"""Not 8765: that is the sandbox's port (REST and streams), so both run side by side."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``serve``."""
    parser = subparsers.add_parser(
        "serve",
        help="serve the desk to a web browser (a link with a random token)",
        description="Serve the full-screen desk to a web browser with textual-serve. The link "
        "printed at start carries a random token; requests without it are refused.",
    )
    parser.add_argument(
        "--host", type=_host, default="127.0.0.1", help="address to listen on (127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"port to listen on ({DEFAULT_PORT})"
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow an address other than loopback (the token is then all that guards the desk)",
    )
    parser.add_argument(
        "--enable-live",
        action="store_true",
        help="let the served desk's setup choose Alpaca live (real money; off by default)",
    )
    parser.add_argument(
        "--skip-readiness",
        action="store_true",
        help="with --enable-live: let the served desks' Alpaca live start without a ready paper "
        "record (as 'live trading --skip-readiness'; written as a risk event)",
    )
    parser.add_argument(
        "--desk-quit-seconds",
        type=_quit_seconds,
        default=None,
        help=argparse.SUPPRESS,  # for tests: a frozen desk's SIGTERM and SIGKILL come sooner
    )
    add_db_option(parser)
    parser.set_defaults(handler=run_serve)


def _quit_seconds(text: str) -> float:
    """``--desk-quit-seconds`` (hidden, for tests): how long a desk asked to quit may take
    before SIGTERM, then SIGKILL (``web.desk_service.QUIT_SECONDS`` by default)."""
    from tui_trader.cli.numbers import positive_float

    value = positive_float(text)
    if value > 60:
        raise argparse.ArgumentTypeError(f"at most 60 seconds, got {quoted(text)}")
    return value


def _host(text: str) -> str:
    """``--host``: not blank (an empty host listens on every address of the machine) and no
    control character (it was printed raw in the refusal and in the remote warning)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty: name an address (127.0.0.1 by default)")
    if not text.isprintable():
        raise argparse.ArgumentTypeError(f"holds a control character: {quoted(text)}")
    return text


def _port(text: str) -> int:
    """A TCP port number, in ASCII digits as every number option (``cli.numbers.integer``):
    ``int()`` alone took ``８７８０`` and ``1_000`` and listened on ports 8780 and 1000."""
    from tui_trader.cli.numbers import integer

    value = integer(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 1-65535, not {value}")
    return value


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def not_an_address(host: str) -> str | None:
    """Why ``host`` is no address to listen on (neither an IP address nor a name this machine
    resolves), or ``None``. ``--host nan`` was refused as "reachable from other machines", and
    with ``--allow-remote`` the warning about the world reaching the desk came first; the name
    is looked up as the server would look it up to listen."""
    import socket

    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    try:
        socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return (
            f"--host {quoted(host)} is not an address: no IP address, and no name this machine "
            "can resolve (127.0.0.1 by default)"
        )
    return None


def desk_command(db: Path | PgUrl, enable_live: bool, skip_readiness: bool = False) -> str:
    """The shell command textual-serve runs for each browser connection (a PostgreSQL URL as
    given: ``run_serve`` has refused one that holds a password, which ``ps`` would show), with
    ``serve``'s ``--enable-live`` and ``--skip-readiness`` passed on as the desk's own.
    ``exec``: the shell becomes the desk, so the signal that stops a desk reaches it (it
    reached only ``/bin/sh``, and the desk ran on, orphaned)."""
    target = db.dsn if isinstance(db, PgUrl) else str(db.resolve())
    parts = [sys.executable, "-m", "tui_trader", "--db", target]
    if enable_live:
        parts.append("--enable-live")
    if skip_readiness:
        parts.append("--skip-readiness")
    return "exec " + shlex.join(parts)


def run_serve(args: argparse.Namespace) -> int:
    """Check the address, then serve until Ctrl+C."""
    console = Console(highlight=False, soft_wrap=True)
    remote = not is_loopback(args.host)
    if args.skip_readiness and not args.enable_live:
        from tui_trader.ops.readiness import SKIP_ALONE

        raise UsageError(SKIP_ALONE)
    unknown = remote and not_an_address(args.host)
    if unknown:
        raise UsageError(unknown)
    if remote and not args.allow_remote:
        raise UsageError(
            f"--host {args.host} is reachable from other machines: add --allow-remote if you "
            "mean it (the kill switch and trading are then behind the token alone)"
        )
    db = resolve_db(args.db)
    from tui_trader.cli.config_cmd import setup_defaults

    setup_defaults(None)  # each desk reads ./tui-trader.toml: a broken one is refused here
    if isinstance(db, PgUrl) and db.has_password:
        raise UsageError(
            "serve starts a desk process per browser with --db on its command line, where any "
            "user could read a password: put it in PGPASSWORD or ~/.pgpass, not in the URL"
        )
    from tui_trader.web.guarded_server import GuardedServer, new_token

    if remote:
        live = " and LIVE TRADING (real money)" if args.enable_live else ""
        console.print(
            f"[bold red]WARNING:[/] serving on {args.host}: anyone who can reach this port and "
            f"has the link below gets the desk, its kill switch{live}. The token is the only "
            "guard; the connection is not encrypted (use an SSH tunnel or a TLS proxy)."
        )

    def announce(url: str) -> None:
        """Print the link, once (it holds the token: don't paste it anywhere shared)."""
        console.print(f"Serving the desk on {url}")
        console.print(
            f"Database: {shown_markup(db)}. Each browser connection opens its own desk; "
            "Ctrl+C stops."
        )
        sys.stdout.flush()

    def report(text: str) -> None:
        """A desk's standard error (its one-line refusal, a crash's note), as written."""
        for line in text.splitlines():
            print(f"desk: {line}", file=sys.stderr, flush=True)

    server = GuardedServer(
        desk_command(db, args.enable_live, args.skip_readiness),
        args.host,
        args.port,
        new_token(),
        announce,
        report,
        **({} if args.desk_quit_seconds is None else {"quit_seconds": args.desk_quit_seconds}),
    )
    try:
        server.serve()
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    return 0
