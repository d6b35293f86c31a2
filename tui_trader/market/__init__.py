"""Market data: the port the engine reads bars through, and its adapters.

Adapters (``sim``, ``replay``, and the ones that talk to Yahoo or Alpaca) import their SDKs
lazily, inside the adapter, so that importing this package stays cheap and the core stays pure.
"""

from __future__ import annotations

from typing import Protocol

from tui_trader.core.domain import Bar
from tui_trader.core.timeframes import Interval


class MarketDataError(Exception):
    """Bars could not be had: a bad file, an unreachable service, an unknown symbol."""


class MarketData(Protocol):
    """A source of completed bars for a fixed set of symbols at one interval.

    ``warmup`` gives the history before the first decision (the ``--period``); each call of
    ``next_bars`` gives the next completed bar of every symbol that has one, an empty dict when
    no new bar has completed yet (a live source between bars), or ``None`` when the data has
    ended (a replay file's last bar).
    """

    symbols: tuple[str, ...]
    interval: Interval

    def warmup(self) -> dict[str, list[Bar]]:
        """History per symbol, oldest first, that strategies may learn from before trading."""
        ...

    def next_bars(self) -> dict[str, Bar] | None:
        """The next completed bar per symbol; ``{}`` if none yet; ``None`` at the end of data."""
        ...

    def close(self) -> None:
        """Release connections or files."""
        ...
