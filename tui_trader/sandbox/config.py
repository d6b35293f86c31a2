"""The sandbox's settings: one frozen value built by the CLI or by the test helper."""

from __future__ import annotations

from dataclasses import dataclass, field

from tui_trader.market.sim import DEFAULT_SYMBOLS
from tui_trader.sandbox.faults import FaultSettings

DEFAULT_KEY_ID = "PKSANDBOX0000000000000"
"""The well-known key id the sandbox accepts unless told otherwise (it guards nothing real)."""
DEFAULT_SECRET = "sandbox-secret-0000000000000000000000000"
"""The well-known secret paired with ``DEFAULT_KEY_ID``."""
HOURS_MODES = ("24h", "real")
MAX_SPEED = 100_000.0
"""The fastest pace (about 28 simulated hours a wall second; 1,667 one-minute bars). At 1e12 the
simulated clock passed Python's last date within a second and the pacer thread died with a
traceback, leaving a market that no longer moved."""

MAX_SYMBOLS = 100
"""The most symbols one sandbox simulates. Each costs about 1 MB and 20 ms to start (its market
and history): 3,000 symbols took 900 MB and had not started after 20 s; a desk's universe fits."""


def check_speed(speed: float) -> float:
    """``speed`` if it is a pace the sandbox can keep (0 to ``MAX_SPEED``), else ``ValueError``
    (the command line and ``POST /admin/speed`` share it)."""
    if not 0 <= speed <= MAX_SPEED:
        raise ValueError(f"speed must be from 0 to {MAX_SPEED:,.0f}, got {speed:g}")
    return speed


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """Everything a sandbox needs to start: where, how fast, with what money, market and faults.

    ``port`` 0 picks a free port (REST and both streams share it, as on Alpaca's hosts).
    ``speed`` is simulated time per wall-clock time
    (0 pauses the market: it then moves only when stepped). ``hours`` is ``24h`` (always open) or
    ``real`` (weekdays 09:30-16:00 New York, exchange holidays included).
    """

    host: str = "127.0.0.1"
    port: int = 0
    speed: float = 1.0
    cash: float = 100_000.0
    seed: int = 7
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS
    interval: str = "1m"
    history: str = "5d"
    minute_days: int = 30
    """Days of intraday history the market data API serves (the live warm-up, then bars made
    backwards on request); 0 serves the warm-up only. Daily history reaches 800 days further."""
    hours: str = "24h"
    slippage_bps: float = 2.0
    spread_bps: float = 2.0
    key_id: str = DEFAULT_KEY_ID
    secret: str = DEFAULT_SECRET
    faults: FaultSettings = field(default_factory=FaultSettings)
    rate_window_s: float = 60.0
    """The window the ``rate_limit`` fault counts requests over: Alpaca's minute. A test
    shortens it so that a wait for the key's next minute takes seconds, not a minute."""
    untradable: tuple[str, ...] = ("OLDCO",)
    """Symbols listed as assets with ``tradable: false`` (orders for them are refused)."""
