"""The Yahoo options a trading session shares with ``tui-trader data``.

``paper --data yahoo`` and the ``data`` commands take the same ``--timeout``, ``--cache-dir``,
``--adjusted`` and ``--offline``, checked here once; a session command loads this module, not
the whole ``data`` command.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from tui_trader.cli.common import UsageError, folder_arg
from tui_trader.cli.numbers import MAX_TIMEOUT, timeout_arg
from tui_trader.core.shown import shown_path
from tui_trader.market.cache_dir import CACHE_ENV, default_cache_dir

if TYPE_CHECKING:
    from tui_trader.market.yahoo import YahooOptions

DEFAULT_TIMEOUT = 8.0
"""Seconds per request to Yahoo (the same default as the adapter's)."""


def add_yahoo_options(parser: argparse.ArgumentParser) -> None:
    """``--timeout``, ``--cache-dir``, ``--adjusted`` and ``--offline`` for a session command."""
    add_timeout(parser)
    add_cache_dir(parser)
    parser.add_argument(
        "--adjusted", action="store_true", help="Yahoo prices adjusted for splits and dividends"
    )
    parser.add_argument(
        "--offline", action="store_true", help="never ask Yahoo: trade on the cached bars only"
    )


def yahoo_options(args: argparse.Namespace) -> YahooOptions:
    """The ``YahooOptions`` the options of ``add_yahoo_options`` describe."""
    from tui_trader.market.yahoo import YahooOptions

    return YahooOptions(
        cache_dir=cache_dir(args),
        timeout=args.timeout,
        adjusted=bool(getattr(args, "adjusted", False)),
        offline=bool(getattr(args, "offline", False)),
    )


def add_timeout(parser: argparse.ArgumentParser) -> None:
    """``--timeout SECONDS``: our deadline for each request to Yahoo."""
    parser.add_argument(
        "--timeout",
        type=timeout_arg,  # the same bound as an Alpaca session's (``timeout`` in a file)
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up on a request to Yahoo after this long, at most {MAX_TIMEOUT:g} "
        f"(default {DEFAULT_TIMEOUT:g})",
    )


def add_cache_dir(parser: argparse.ArgumentParser) -> None:
    """``--cache-dir DIR``: where the Parquet cache lives."""
    parser.add_argument(
        "--cache-dir",
        type=folder_arg,
        default=None,
        metavar="DIR",
        help=f"bar cache directory (default ${CACHE_ENV} or {default_cache_dir()})",
    )


def cache_dir(args: argparse.Namespace) -> Path:
    """The cache directory the user chose, or the default; refused if it is a file or a name
    the system cannot look up (``$TUI_TRADER_CACHE_DIR`` is held to ``--cache-dir``'s rule)."""
    if args.cache_dir is None:
        try:
            folder_arg(str(default_cache_dir()))
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"${CACHE_ENV}: {exc}") from None
    path: Path = (args.cache_dir or default_cache_dir()).expanduser()
    try:
        is_file = path.exists() and not path.is_dir()
    except OSError as exc:  # a name longer than the file system allows, a loop of links
        raise UsageError(f"--cache-dir {shown_path(path)}: {exc.strerror or exc}") from None
    if is_file:
        raise UsageError(f"--cache-dir {path} is a file, not a directory")
    return path
