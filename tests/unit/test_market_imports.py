"""The calendar stays pure and the Yahoo adapter imports yfinance only when it downloads."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import tui_trader.market.calendar, tui_trader.market.yahoo, tui_trader.market.cache
import tui_trader.cli.data
heavy = [m for m in ("yfinance", "textual", "alpaca", "exchange_calendars", "pandas")
         if m in sys.modules]
print(",".join(heavy))
"""


def test_importing_market_data_modules_pulls_in_no_sdk() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
