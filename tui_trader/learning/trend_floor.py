"""The long trend's floor: when the long view may set the least exposure of the blend.

Once the long-trend strategy's shadow record, or the market's own (``MARKET_RECORD``), has
earned the most of all over at least ``TREND_FLOOR_EVIDENCE`` bars per symbol, the adaptive
allocator (``learning/allocator.py``) holds its blend at least at that strategy's target while it
is long (docs/learning.md). The lead is read from the shadow records, once per bar time.
"""

from __future__ import annotations

import math

from tui_trader.learning.shadow import MARKET_RECORD, ShadowStats

TREND_FLOOR = "longtrend"
"""The strategy whose long view can set the least exposure: once its shadow record or the
market's own record leads, the blend is held at least at its target while it is long (before
the defensive and drawdown scaling); when it is flat, cash is the blend's own choice. Only while
learning: at learning rate 0 the lead is not acted on."""
TREND_FLOOR_EVIDENCE = 500
"""Bars of shadow record per symbol (two years of days) before the long trend may lead: a
200-bar rule needs years to show what it is worth. Chosen on the tuning set (S&P 500 and Nasdaq
1999-2018, seeds 101-120)."""


def trend_leads(lead: str, shadow: dict[str, dict[str, ShadowStats]], symbol_count: int) -> bool:
    """Has ``lead``'s record (the long trend's), or the market's own (``MARKET_RECORD``), earned
    the most in the shadow records (regime -> strategy -> record) over enough bars for
    ``symbol_count`` symbols? The market counts since being invested is what the floor buys:
    where drift pays more than any timing (most single stocks) the 50/200 rule rarely tops the
    family, yet holding along it paid (docs/learning.md, fifth pass)."""
    tables = list(shadow.values())
    lead_stats = [t[lead] for t in tables if lead in t]
    need = TREND_FLOOR_EVIDENCE * max(symbol_count, 1)
    on = sum([st.bars for st in lead_stats]) >= need
    if on:  # each strategy's earnings summed over the regimes in the same order as ever
        earned: dict[str, float] = {}
        for by_strategy in tables:
            for name, stats in by_strategy.items():
                earned[name] = earned.get(name, 0.0) + stats.net_return
        best = max(earned.values())
        on = earned[lead] >= best or earned.get(MARKET_RECORD, -math.inf) >= best
    return on
