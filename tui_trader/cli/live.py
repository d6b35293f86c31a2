"""``tui-trader live ...``: the commands that follow or trade a real (or sandboxed) account.

Each action lives in its own module with ``register_live(actions)``; this module only groups
them under ``live``.
"""

from __future__ import annotations

import argparse
import importlib

_LIVE_ACTION_MODULES: tuple[str, ...] = (
    "tui_trader.cli.live_alpaca",
    "tui_trader.cli.live_monitor",
    "tui_trader.cli.live_readiness",
)
"""Modules adding ``live`` actions (monitor, paper, trading, status, ...)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``live`` group and every registered action."""
    live = subparsers.add_parser("live", help="Alpaca paper/live trading and the session monitor")
    actions = live.add_subparsers(dest="live_action", metavar="ACTION", required=True)
    for name in _LIVE_ACTION_MODULES:
        importlib.import_module(name).register_live(actions)
