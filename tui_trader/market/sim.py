"""The simulated market: seeded, correlated, regime-switching bars for any interval.

This is the offline default and the price source of the Alpaca sandbox. One market factor moves
through four regimes (bull, bear, sideways, crash) as a Markov chain counted in trading days; each
symbol follows the factor with its own beta plus noise of its own. Everything is drawn from one
``random.Random(seed)`` in a fixed order, so the same seed gives the same bars on every machine.
The true regime is kept so that the learning system can be scored against it. The days are the
exchange's trading days (``sim_days``): no bars on holidays, none after an early close.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tui_trader.core.domain import Bar
from tui_trader.core.timeframes import Interval, Period
from tui_trader.market.sim_days import SimDay, SimDays

DEFAULT_SYMBOLS = ("SPY", "QQQ", "IWM")
DEFAULT_START = date(2024, 1, 2)
"""First trading day of the simulated history: fixed so runs never depend on today's date."""


@dataclass(frozen=True, slots=True)
class Regime:
    """Annualized drift and volatility of the market factor, and how long the regime lasts."""

    name: str
    drift: float
    vol: float
    mean_days: float


REGIMES: dict[str, Regime] = {
    "bull": Regime("bull", drift=0.30, vol=0.12, mean_days=60),
    "bear": Regime("bear", drift=-0.30, vol=0.24, mean_days=35),
    "sideways": Regime("sideways", drift=0.0, vol=0.10, mean_days=40),
    "crash": Regime("crash", drift=-4.0, vol=0.55, mean_days=8),
}

_NEXT_REGIME: dict[str, tuple[tuple[str, float], ...]] = {
    "bull": (("sideways", 0.55), ("bear", 0.35), ("crash", 0.10)),
    "bear": (("sideways", 0.45), ("bull", 0.40), ("crash", 0.15)),
    "sideways": (("bull", 0.55), ("bear", 0.40), ("crash", 0.05)),
    "crash": (("bear", 0.50), ("sideways", 0.30), ("bull", 0.20)),
}


@dataclass(frozen=True, slots=True)
class SymbolProfile:
    """How one symbol follows the market: beta, its own volatility, price and volume scale."""

    beta: float
    idio_vol: float
    start_price: float
    daily_volume: float


KNOWN_PROFILES: dict[str, SymbolProfile] = {
    "SPY": SymbolProfile(1.00, 0.03, 470.0, 80e6),
    "QQQ": SymbolProfile(1.20, 0.06, 400.0, 45e6),
    "IWM": SymbolProfile(1.10, 0.08, 200.0, 30e6),
    "DIA": SymbolProfile(0.90, 0.04, 375.0, 4e6),
}


def profile_for(symbol: str) -> SymbolProfile:
    """A known ETF's profile, or a stable made-up one derived from the symbol's letters."""
    if symbol in KNOWN_PROFILES:
        return KNOWN_PROFILES[symbol]
    rng = random.Random(f"profile:{symbol}")
    return SymbolProfile(
        beta=round(rng.uniform(0.6, 1.6), 2),
        idio_vol=round(rng.uniform(0.10, 0.35), 2),
        start_price=round(rng.uniform(20, 500), 2),
        daily_volume=round(rng.uniform(1e6, 20e6), -3),
    )


class SimMarket:
    """A seeded market that produces the next bar of every symbol on demand, forever.

    ``schedule`` forces the opening regimes (for example ``[("bull", 60), ("crash", 20)]`` in
    bars) before the Markov chain takes over; tests and demos use it to stage a crash.
    ``report`` receives the note said when the days leave the exchange calendar the market
    follows (see ``SimDays``).
    """

    def __init__(
        self,
        symbols: Iterable[str] = DEFAULT_SYMBOLS,
        interval: Interval | None = None,
        period: Period | None = None,
        seed: int = 7,
        start: date = DEFAULT_START,
        schedule: Iterable[tuple[str, int]] = (),
        initial_regime: str = "bull",
        report: Callable[[str], None] | None = None,
    ) -> None:
        from tui_trader.core.timeframes import parse_interval, parse_period

        self.symbols = tuple(symbols)
        self.interval = interval or parse_interval("1d")
        self.period = period or parse_period("60d")
        self.seed = seed
        self._rng = random.Random(seed)
        self._profiles = [profile_for(s) for s in self.symbols]
        self._closes = [p.start_price for p in self._profiles]
        self._schedule = [(name, n) for name, n in schedule if n > 0]
        for name, _ in self._schedule:
            if name not in REGIMES:
                raise ValueError(f"unknown regime {name!r}")
        self.regime = REGIMES[self._schedule[0][0] if self._schedule else initial_regime]
        self._left_in_schedule = self._schedule[0][1] if self._schedule else 0
        self.days = SimDays(report)
        """The trading days the bars fall on."""
        self._start = start
        self._day = start
        self._bar_in_day = 0
        self._day_bars = 0
        self._day_open_utc = datetime.min
        self._warmed = False
        self.bars_emitted = 0

    # -- the MarketData port -------------------------------------------------------------------

    def warmup(self) -> dict[str, list[Bar]]:
        """The ``period`` of history before trading starts (generated once, on first call)."""
        history: dict[str, list[Bar]] = {s: [] for s in self.symbols}
        if self._warmed:
            return history
        self._warmed = True
        self._enter(self.days.first(self._start))
        for _ in range(self.period.bars(self.interval)):
            for bar in self._step():
                history[bar.symbol].append(bar)
        return history

    def next_bars(self) -> dict[str, Bar]:
        """The next bar of every symbol; a simulated market never ends."""
        if not self._warmed:
            self.warmup()
        return {bar.symbol: bar for bar in self._step()}

    def close(self) -> None:
        """Nothing to release."""

    # -- generation ----------------------------------------------------------------------------

    def _step(self) -> list[Bar]:
        """Advance one bar: maybe switch regime, draw returns, build each symbol's bar."""
        rng = self._rng
        interval = self.interval
        self._advance_regime(rng)
        regime = self.regime
        dt = interval.year_fraction
        sqrt_dt = math.sqrt(dt)
        market_z = rng.gauss(0.0, 1.0)
        market_ret = (regime.drift - 0.5 * regime.vol**2) * dt + regime.vol * sqrt_dt * market_z
        timestamp = self._timestamp()
        bars = []
        for i, symbol in enumerate(self.symbols):
            prof = self._profiles[i]
            prev = self._closes[i]
            idio = prof.idio_vol * sqrt_dt * rng.gauss(0.0, 1.0)
            sym_vol = math.hypot(prof.beta * regime.vol, prof.idio_vol) * sqrt_dt
            gap = (
                rng.gauss(0.0, 0.25 * sym_vol)
                if interval.is_daily or self._bar_in_day == 0
                else 0.0
            )
            open_ = prev * math.exp(gap)
            close = open_ * math.exp(prof.beta * market_ret + idio - gap)
            high = max(open_, close) * math.exp(abs(rng.gauss(0.0, 0.5 * sym_vol)))
            low = min(open_, close) * math.exp(-abs(rng.gauss(0.0, 0.5 * sym_vol)))
            surprise = abs(math.log(close / prev)) / sym_vol if sym_vol else 0.0
            volume = (
                prof.daily_volume
                / interval.bars_per_day
                * math.exp(rng.gauss(0.0, 0.3))
                * (1.0 + 0.5 * surprise)
            )
            self._closes[i] = close
            bars.append(
                Bar(
                    symbol,
                    timestamp,
                    round(open_, 4),
                    round(high, 4),
                    round(low, 4),
                    round(close, 4),
                    float(round(volume)),
                )
            )
        self._advance_time()
        self.bars_emitted += 1
        return bars

    def _advance_regime(self, rng: random.Random) -> None:
        """Count down a scripted regime, or let the Markov chain switch with a per-bar hazard."""
        u = rng.random()
        if self._schedule:
            self._left_in_schedule -= 1
            if self._left_in_schedule < 0:
                self._schedule.pop(0)
                if self._schedule:
                    self.regime = REGIMES[self._schedule[0][0]]
                    self._left_in_schedule = self._schedule[0][1] - 1
            return
        days_per_bar = 1.0 / self.interval.bars_per_day
        hazard = 1.0 - math.exp(-days_per_bar / self.regime.mean_days)
        if u < hazard:
            pick = rng.random()
            acc = 0.0
            for name, p in _NEXT_REGIME[self.regime.name]:
                acc += p
                if pick <= acc:
                    self.regime = REGIMES[name]
                    break

    def _timestamp(self) -> datetime:
        """The open time (UTC) of the bar about to be emitted."""
        return self._day_open_utc + timedelta(minutes=self._bar_in_day * self.interval.minutes)

    def _advance_time(self) -> None:
        """Move to the next bar slot, rolling over to the next trading day after the close."""
        self._bar_in_day += 1
        if self._bar_in_day >= self._day_bars:
            self._bar_in_day = 0
            self._enter(self.days.after(self._day))

    def _enter(self, day: SimDay) -> None:
        """Start trading day ``day``: its open, and how many bars start before its close (one
        for daily bars; on an early close fewer, the last maybe shorter, like 1h's 15:30)."""
        self._day = day.day
        self._day_open_utc = day.open_utc
        if self.interval.is_daily:
            self._day_bars = 1
        else:
            self._day_bars = max(-(-day.minutes // self.interval.minutes), 1)
