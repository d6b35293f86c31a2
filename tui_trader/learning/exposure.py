"""Learned exposure: how much of its own blend the allocator holds, from the blend's net growth.

The weights decide which strategies to believe; this decides how much of what they say to take.
Every bar, the blend the allocator set for a symbol (after the long-trend floor, before the
regime and drawdown scaling) is scored on the symbol's next return, minus ``cost_bps`` per unit
the blend moved: ``x``. The share of that blend that maximizes expected log growth is the Kelly
fraction ``E[x] / E[x^2]``; the learner takes ``KELLY_SHARE`` of it, bounded to
``[0, MAX_EXPOSURE]``, and trusts it in proportion to its evidence: ``n / (n + n0)`` of the way
from 1 (the blend as is) to that fraction, with ``n0`` = ``EVIDENCE`` bars per symbol at the
default learning rate (more at a smaller rate). At learning rate 0 nothing is learned and the
exposure stays 1: that is the frozen ablation, the same code with learning off.

So a blend that has lost after costs (as in the first years of the dot-com crash, or
short-horizon trading that its costs eat) is held less, and one that has earned is held as it
is, never more: a learned exposure above 1 levered the blend into the next crash (seen on
held-out markets; on the fresh tuning set of the fifth pass the lever added drawdown and no
Sharpe, docs/learning.md), and the long-trend floor already holds a blend fully where the long
view has earned it. One record is pooled
over every symbol and regime: per-regime exposures were tried and dropped, since the regime
label flickers and every flicker traded (turnover doubled on the S&P 500).
"""

from __future__ import annotations

from dataclasses import dataclass

KELLY_SHARE = 0.5
"""Share of the Kelly fraction taken (half Kelly: the estimate is noisy). Chosen on the tuning
set (S&P 500 and Nasdaq 1999-2018, seeds 101-120) from 0.25, 0.5 and 1."""
MAX_EXPOSURE = 1.0
"""Most of the blend that may be held: all of it, never levered (2 until the fifth pass; capping
at 1 kept Sharpe and lowered drawdowns on the fresh tuning set, and won 15 of the 17 simulated
tuning seeds it changed)."""
EVIDENCE = 2_500
"""Bars per symbol (ten years of days) before the learned exposure counts half: the mean of
daily returns is slow to know. Chosen on the tuning set from 250, 1,000 and 2,500 (shorter
evidence chased the first crash and hurt the one-year simulated runs)."""
BAND_WIDTH = 1.0
"""The no-trade band in units of cost over one bar's volatility (1 of 1, 2 and 4 on simulated
5-minute bars, where a bar moves about as much as it costs to trade; the band is then capped)."""
BAND_MAX = 0.5
"""The widest band, as a share of a full position."""
EXPOSURE_RECORD = "(exposure)"
"""The name the blend's record is saved under in the shadow table (not a strategy's name)."""


@dataclass(slots=True)
class ExposureStats:
    """The blend's net shadow record: bars, sum of returns, sum of squared returns."""

    bars: int = 0
    total: float = 0.0
    squares: float = 0.0


class ExposureBook:
    """The blend's record and the exposure it has earned."""

    __slots__ = ("cost", "default_rate", "learning_rate", "stats")

    def __init__(self, learning_rate: float, default_rate: float, cost_bps: float) -> None:
        self.learning_rate = learning_rate
        self.default_rate = default_rate
        self.cost = cost_bps / 10_000.0
        self.stats = ExposureStats()

    def add(self, held: float, bar_return: float, moved: float) -> None:
        """Record one bar: the blend ``held`` into it, the bar's return, how far it had moved."""
        x = held * bar_return - self.cost * moved
        st = self.stats
        st.bars += 1
        st.total += x
        st.squares += x * x

    def exposure(self, symbols: int) -> float:
        """The multiplier on the blend (1 until anything is learned, always 1 when frozen)."""
        st = self.stats
        if self.learning_rate <= 0 or st.squares <= 0:
            return 1.0
        kelly = min(MAX_EXPOSURE, max(0.0, KELLY_SHARE * st.total / st.squares))
        n0 = EVIDENCE * max(symbols, 1) * self.default_rate / self.learning_rate
        trust = st.bars / (st.bars + n0)
        return 1.0 + trust * (kelly - 1.0)


def no_trade_band(cost_bps: float, bar_volatility: float) -> float:
    """How far the held share may drift from what the blend wants before it is traded.

    ``BAND_WIDTH`` times the cost over one bar's volatility, at most ``BAND_MAX``: about 0.1 of a
    full position on daily index bars (1% moves, 10 bps), the cap on hourly currency bars whose
    moves are about the size of the cost, and 0 until the volatility is known."""
    if bar_volatility <= 0:
        return 0.0
    band = BAND_WIDTH * cost_bps / 10_000.0 / bar_volatility
    return band if band < BAND_MAX else BAND_MAX  # min(BAND_MAX, band) without the call
