"""A local Alpaca-compatible sandbox: Trading API v2, Market Data API v2 and both websocket
streams, backed by an in-memory matching engine priced by the simulated market, with fault
switches. Tests point the real alpaca-py clients at it; users run ``tui-trader sandbox``.
"""

from tui_trader.sandbox.app import Sandbox
from tui_trader.sandbox.config import DEFAULT_KEY_ID, DEFAULT_SECRET, SandboxConfig
from tui_trader.sandbox.faults import FaultSettings, FaultSpecError, parse_faults

__all__ = [
    "DEFAULT_KEY_ID",
    "DEFAULT_SECRET",
    "FaultSettings",
    "FaultSpecError",
    "Sandbox",
    "SandboxConfig",
    "parse_faults",
]
