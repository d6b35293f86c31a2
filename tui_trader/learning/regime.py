"""Online regime detection from bars alone: trend direction and volatility level per symbol.

For each symbol the detector keeps exponentially weighted averages of two measures:

- the **trend t**: the EWMA log return over ``trend_halflife`` bars, as a t-statistic against
  the symbol's long-run volatility of close-to-close returns (free of the interval and scale);
- the **volatility ratio**: short-run over long-run volatility, both measured on the bar's *true
  range* (high to low, stretched to the previous close so that gaps count; Parkinson's estimator).
  A bar's range carries several times the information of its close-to-close return, so the
  short-run average can be fast (``vol_short_halflife`` 5 bars) without being noisy.

Two logistic scores turn these into probabilities: ``p_bad``, that the market is in a falling,
volatile regime (the simulator's bear or crash), and ``p_bull``, that a market which is not is
rising rather than going sideways (that is, its trend t is above 0.3). Their coefficients
(``BAD_MODEL``, ``BULL_MODEL``) were fitted on simulated seeds 101-120, never on the evaluation
seeds. The direction is ``bear`` when ``p_bad > 0.5`` or the trend t is below -``bear_t`` (a
steady, calm decline), else ``bull`` when ``p_bull > 0.5``, else ``sideways``. The level is
``volatile`` when the volatility ratio exceeds ``volatile_ratio`` (a rising or flat market can be
volatile too), or when ``p_bad > 0.5`` and the ratio is above ``BEAR_VOLATILE_RATIO`` (the fitted
``p_bad`` leans on the trend too, and a steady, quiet decline is a calm bear market), else
``calm``. All six combinations can be called; on the
simulator, whose bear markets are the volatile ones, ``bear/volatile``, ``bull/calm`` and
``sideways/calm`` are by far the most frequent. The confidence is the probability of the called
direction. O(1) per bar.

Mapping from the simulated market's true regimes (for scoring): bull -> bull/calm, sideways ->
sideways/calm, bear -> bear/volatile, crash -> bear/volatile (``SIM_TRUTH``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from tui_trader.core.domain import Bar

DIRECTIONS = ("bull", "bear", "sideways")
LEVELS = ("calm", "volatile")
REGIME_KEYS: tuple[str, ...] = tuple(f"{d}/{v}" for d in DIRECTIONS for v in LEVELS)
"""Every regime label the detector can give, ``direction/level``."""
UNKNOWN = "warming"
"""The label while a symbol has too few bars."""

SIM_TRUTH: dict[str, tuple[str, str]] = {
    "bull": ("bull", "calm"),
    "sideways": ("sideways", "calm"),
    "bear": ("bear", "volatile"),
    "crash": ("bear", "volatile"),
}
"""The simulator's regimes as (direction, level): a crash is a volatile bear market."""

BAD_MODEL: tuple[float, float, float] = (-1.28, -0.46, 9.05)
"""Logistic coefficients (intercept, trend t, log volatility ratio) of ``p_bad``."""
BULL_MODEL: tuple[float, float, float] = (-0.19, 0.63, 0.0)
"""Logistic coefficients (intercept, trend t, log volatility ratio) of ``p_bull``: above 0.5
when t > 0.3. A fit with a free intercept called a flat market ``bull`` (the simulator's bull
markets are the more common), for 1-2 points of agreement; a trader wants a flat market
called sideways, so only the slope on t is fitted."""
BEAR_VOLATILE_RATIO = 1.1
"""Volatility ratio above which a likely bear market (``p_bad > 0.5``) is called volatile."""
_BEAR_VOLATILE_LOG = math.log(BEAR_VOLATILE_RATIO)
_PARKINSON = 1.0 / (4.0 * math.log(2.0))
log = math.log
exp = math.exp
sqrt = math.sqrt


class RegimeCall(NamedTuple):
    """One symbol's regime now: direction, volatility level, confidence, the bear probability.

    A named tuple rather than a frozen dataclass: one is made per symbol and bar, and a tuple
    is several times cheaper to build."""

    direction: str
    level: str
    confidence: float
    trend_t: float = 0.0
    vol_ratio: float = 1.0
    p_bad: float = 0.0
    """Probability of a falling, volatile market: what the allocator's defensive rule reads."""

    @property
    def label(self) -> str:
        """``direction/level``, or ``warming`` before the detector has enough bars."""
        return f"{self.direction}/{self.level}" if self.direction != UNKNOWN else UNKNOWN


WARMING = RegimeCall(UNKNOWN, UNKNOWN, 0.0)
_LABELS = {(d, v): f"{d}/{v}" for d in DIRECTIONS for v in LEVELS}

Found = tuple[str, str, float, float, float, float]
"""A classification before rounding: direction, level, confidence, trend t, log volatility
ratio, bear probability (``_SymbolState.found``); ``call_of`` makes it a ``RegimeCall``."""
_WARMING_FOUND: Found = (UNKNOWN, UNKNOWN, 0.0, 0.0, 0.0, 0.0)


@dataclass(slots=True)
class _SymbolState:
    """Running averages for one symbol."""

    last_close: float = math.nan
    bars: int = 0
    mean: float = 0.0
    var_ret: float = 0.0
    range_short: float = 0.0
    range_long: float = 0.0
    call: RegimeCall | None = WARMING
    """The latest call, or ``None`` until someone asks for it (then built from ``found``)."""
    found: Found = _WARMING_FOUND
    """The latest classification: direction, level, unrounded confidence, trend t, log
    volatility ratio, bear probability."""
    label: str = UNKNOWN
    """The latest call's label (read for every bar)."""

    def current(self) -> RegimeCall:
        """The latest call, built the first time it is asked for."""
        call = self.call
        if call is None:
            call = self.call = call_of(self.found)
        return call


def call_of(found: Found) -> RegimeCall:
    """The regime call of a classification (rounded as calls are shown and saved)."""
    direction, level, confidence, t, log_ratio, p_bad = found
    return RegimeCall(
        direction,
        level,
        round(confidence, 3),
        round(t, 3),
        round(math.exp(log_ratio), 3),
        round(p_bad, 4),
    )


def bias_divisors(a: float) -> list[float]:
    """``1 - (1 - a) ** n`` for n = 0, 1, ... until it rounds to exactly 1.0 (as it stays after):
    the bias correction of an EWMA that started at zero, looked up instead of a ``pow`` a bar."""
    out = []
    n = 0
    while True:
        d = 1.0 - (1.0 - a) ** n
        if d == 1.0:
            return out
        out.append(d)
        n += 1


def _alpha(halflife: float) -> float:
    """EWMA weight of the newest value for a half-life in bars."""
    return 1.0 - math.exp(math.log(0.5) / halflife)


class RegimeDetector:
    """Classifies each symbol's recent bars; ``update`` is O(1) per bar."""

    def __init__(
        self,
        trend_halflife: float = 20.0,
        vol_short_halflife: float = 5.0,
        vol_long_halflife: float = 120.0,
        bad_model: tuple[float, float, float] = BAD_MODEL,
        bull_model: tuple[float, float, float] = BULL_MODEL,
        bear_t: float = 2.0,
        volatile_ratio: float = 1.5,
        warmup: int = 30,
    ) -> None:
        self.bad_model = bad_model
        self.bear_t = bear_t
        self.volatile_log_ratio = math.log(volatile_ratio)
        self.bull_model = bull_model
        self.warmup = warmup
        self._a_trend = _alpha(trend_halflife)
        self._a_short = _alpha(vol_short_halflife)
        self._a_long = _alpha(vol_long_halflife)
        self._n_eff = (2.0 - self._a_trend) / self._a_trend
        self._div_trend = bias_divisors(self._a_trend)
        self._div_short = bias_divisors(self._a_short)
        self._div_long = bias_divisors(self._a_long)
        self._state: dict[str, _SymbolState] = {}
        self.symbol_count = 0
        """How many symbols the detector follows (kept as each new one comes: read for every
        symbol-bar, where a property's call cost more than the count)."""

    def update(self, bar: Bar) -> RegimeCall:
        """Take the symbol's next bar; its regime call now."""
        self.advance(bar)
        return self._state[bar.symbol].current()

    def advance(self, bar: Bar) -> str:
        """Take the symbol's next bar (``update`` without building the call for it); returns the
        label the symbol had before this bar."""
        try:  # a subscript, not ``.get``: no call for every symbol-bar
            s = self._state[bar.symbol]
        except KeyError:
            s = self._state[bar.symbol] = _SymbolState()
            self.symbol_count = len(self._state)
        before = s.label
        close = bar.close
        prev, s.last_close = s.last_close, close
        if not prev > 0 or close <= 0:  # NaN (the first bar) or not positive
            return before
        r = log(close / prev)
        # max(bar.high, close, prev) and min(bar.low, close, prev), compared as they compare
        high = bar.high
        if close > high:
            high = close
        if prev > high:
            high = prev
        low = bar.low
        if close < low:
            low = close
        if prev < low:
            low = prev
        span = log(high / low) if low > 0 else abs(r)
        bars = s.bars = s.bars + 1
        a_long = self._a_long
        s.mean += self._a_trend * (r - s.mean)
        s.var_ret += a_long * (r * r - s.var_ret)
        squared = span * span * _PARKINSON
        s.range_short += self._a_short * (squared - s.range_short)
        s.range_long += a_long * (squared - s.range_long)
        if bars < self.warmup:
            return before
        # The classification (probabilities, direction, level; the call itself is built when
        # asked for), here rather than in calls of its own: this runs for every symbol-bar.
        t, log_ratio = self._measures(s)
        # each model's logistic probability, clamped so extreme bars cannot overflow
        # (max(-50, min(50, z)) without the calls)
        b0, b1, b2 = self.bad_model
        z = b0 + b1 * t + b2 * log_ratio
        z = z if z < 50.0 else 50.0
        p_bad = 1.0 / (1.0 + exp(-(z if z > -50.0 else -50.0)))
        b0, b1, b2 = self.bull_model
        z = b0 + b1 * t + b2 * log_ratio
        z = z if z < 50.0 else 50.0
        p_bull = 1.0 / (1.0 + exp(-(z if z > -50.0 else -50.0)))
        if p_bad > 0.5:
            direction, confidence = "bear", p_bad
        elif t < -self.bear_t:
            direction, confidence = "bear", 1.0 - p_bull
        elif p_bull > 0.5:
            direction, confidence = "bull", (1.0 - p_bad) * p_bull
        else:
            direction, confidence = "sideways", (1.0 - p_bad) * (1.0 - p_bull)
        bear_volatile = p_bad > 0.5 and log_ratio > _BEAR_VOLATILE_LOG
        volatile = bear_volatile or log_ratio > self.volatile_log_ratio
        level = "volatile" if volatile else "calm"
        s.found = (direction, level, confidence, t, log_ratio, p_bad)
        s.label = _LABELS[direction, level]
        s.call = None
        return before

    def label(self, symbol: str) -> str:
        """The latest call's label for a symbol (``warming`` if none yet)."""
        s = self._state.get(symbol)
        return s.label if s is not None else UNKNOWN

    def latest(self, symbol: str) -> tuple[str, Found]:
        """The latest label and classification of a symbol, without building its call (the
        allocator's per-bar path; ``call_of`` turns the classification into the call)."""
        s = self._state.get(symbol)
        return (s.label, s.found) if s is not None else (UNKNOWN, _WARMING_FOUND)

    def call(self, symbol: str) -> RegimeCall:
        """The latest call for a symbol (``warming`` if none yet)."""
        s = self._state.get(symbol)
        return s.current() if s is not None else WARMING

    def calls(self) -> dict[str, RegimeCall]:
        """The latest call of every symbol seen."""
        return {symbol: s.current() for symbol, s in self._state.items()}

    def labels(self) -> dict[str, str]:
        """The latest call's label for every symbol seen."""
        return {symbol: s.label for symbol, s in self._state.items()}

    def measures(self, symbol: str) -> tuple[float, float] | None:
        """The symbol's trend t and log volatility ratio now (``None`` before two bars)."""
        s = self._state.get(symbol)
        return self._measures(s) if s is not None and s.bars else None

    def _measures(self, s: _SymbolState) -> tuple[float, float]:
        """Bias-corrected averages (they start at zero) turned into the two measures."""
        n = s.bars
        div_trend, div_short, div_long = self._div_trend, self._div_short, self._div_long
        long_div = div_long[n] if n < len(div_long) else 1.0
        mean = s.mean / (div_trend[n] if n < len(div_trend) else 1.0)
        var_ret = s.var_ret / long_div
        short = s.range_short / (div_short[n] if n < len(div_short) else 1.0)
        long = s.range_long / long_div
        # min(n_eff, n) and max(x, 1e-24), the same comparisons without the calls
        n_eff = self._n_eff
        t = mean / (sqrt(var_ret) or 1e-12) * sqrt(n if n < n_eff else n_eff)
        short = 1e-24 if short < 1e-24 else short
        log_ratio = 0.5 * log(short / (1e-24 if long < 1e-24 else long))
        return t, log_ratio
