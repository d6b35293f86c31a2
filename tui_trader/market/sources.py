"""Choosing a market data source from the words of ``--data``.

``sim`` (the default) is the seeded simulated market; ``replay:FILE`` replays a CSV or Parquet
bar file; ``yahoo`` downloads from Yahoo Finance through the local cache. Alpaca market data is
opened by the Alpaca session, which owns the credentials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tui_trader.core.timeframes import Interval, Period
from tui_trader.market import MarketData, MarketDataError

if TYPE_CHECKING:
    from tui_trader.market.yahoo import YahooOptions


@dataclass(frozen=True, slots=True)
class DataSpec:
    """A parsed ``--data`` value: the kind of source and, for replay, the file."""

    kind: str
    path: Path | None = None

    @property
    def label(self) -> str:
        """How headers name the source."""
        return f"replay {self.path}" if self.kind == "replay" else self.kind


def is_recorded(data_label: str) -> bool:
    """Whether a session's data source as labelled (``DataSpec.label``: the session row's
    ``data_source``) replays recorded bars, ``replay FILE`` or ``yahoo``: their times are the
    past's on their own hours, so no live market session or countdown describes them."""
    return data_label.startswith(("replay ", "yahoo"))


def parse_data_spec(text: str) -> DataSpec:
    """``sim``, ``yahoo`` or ``replay:FILE``; raise ``MarketDataError`` on anything else."""
    raw = text.strip()
    if raw in ("sim", "yahoo"):
        return DataSpec(raw)
    if raw.startswith("replay:") and raw[len("replay:") :].strip():
        return DataSpec("replay", Path(raw[len("replay:") :].strip()).expanduser())
    raise MarketDataError(f"unknown data source {text!r} (use sim, yahoo or replay:FILE)")


def open_market(
    spec: DataSpec,
    symbols: tuple[str, ...] | None,
    interval: Interval,
    period: Period,
    seed: int = 7,
    *,
    iterations: int | None = None,
    yahoo: YahooOptions | None = None,
    report: Callable[[str], None] | None = None,
) -> MarketData:
    """Open the source a spec names; symbols ``None`` means the defaults (or all in a file).
    ``report`` receives one-line notes about the data (for ``sim``: days that fall outside the
    exchange calendar it follows); without it they go to stderr.

    For ``yahoo``: ``iterations`` bounds how many bars are downloaded to trade after the warm-up
    (default: another ``period``), ``yahoo`` carries cache dir, timeout, adjusted and offline
    settings, and ``report`` its notes (dropped rows, an offline fallback and the age of its
    data).
    """
    if spec.kind == "sim":
        from tui_trader.market.sim import DEFAULT_SYMBOLS, SimMarket

        return SimMarket(
            symbols or DEFAULT_SYMBOLS, interval, period, seed=seed, report=report or _stderr_line
        )
    if spec.kind == "replay":
        from tui_trader.market.replay import ReplayMarket

        assert spec.path is not None
        market = ReplayMarket.from_file(
            spec.path, symbols, interval, period, report=report or _stderr_line
        )
        market.check_fit()
        return market
    if spec.kind == "yahoo":
        from tui_trader.market.yahoo import open_yahoo_market

        return open_yahoo_market(
            symbols or ("SPY", "QQQ", "IWM"),
            interval,
            period,
            iterations=iterations,
            options=yahoo,
            report=report or _stderr_line,
        )
    raise MarketDataError(f"unknown data source {spec.kind!r}")


def _stderr_line(message: str) -> None:
    """Print a data source's note as one line on stderr."""
    import sys

    print(f"tui-trader: {message}", file=sys.stderr)
