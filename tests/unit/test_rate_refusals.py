"""A session's memory of the daily order limit's refusals: said once per symbol a day, counted."""

from __future__ import annotations

from datetime import date

from tui_trader.core.domain import RiskEvent
from tui_trader.engine.rate_refusals import RateRefusals
from tui_trader.risk.gate import ORDER_RATE

D1, D2, D3 = date(2026, 11, 25), date(2026, 11, 27), date(2026, 11, 30)


def _refusal(symbol: str) -> RiskEvent:
    """The gate's refusal of one order at a limit of 100."""
    return RiskEvent(ORDER_RATE, 100.0, 100.0, f"refused buy 1 {symbol}: 100 orders", symbol=symbol)


def test_first_refusal_said_later_ones_counted_and_summed_on_the_next_day() -> None:
    """SPY refused 4 times and QQQ once on a day: two events that day, a note for the cycles
    that said nothing, and on the next day one count, for SPY (3 more), none for QQQ."""
    memory = RateRefusals()
    said = [memory.refuse(_refusal(s), D1) for s in ("SPY", "QQQ", "SPY", "SPY", "SPY")]
    assert [e.symbol if e else None for e in said] == ["SPY", "QQQ", None, None, None]
    assert "further orders for SPY are refused" in said[0].action_taken
    note = memory.note()
    assert note is not None and "3 orders refused (SPY)" in note
    assert memory.note() is None  # a cycle without a silent refusal says nothing
    assert memory.roll(D1) == []
    summary = memory.roll(D2)
    assert [(e.symbol, e.action_taken.split(" refused")[0]) for e in summary] == [
        ("SPY", "3 more orders for SPY")
    ]
    assert f"on {D1}" in summary[0].action_taken and summary[0].limit == 100.0
    assert memory.refuse(_refusal("SPY"), D2) is not None  # a new day: said again


def test_a_day_that_ends_without_a_roll_keeps_its_count() -> None:
    """Refusals on a new day before the memory was rolled: the old day's count is not lost,
    it comes with the next roll (or the session's close)."""
    memory = RateRefusals()
    memory.refuse(_refusal("SPY"), D1)
    memory.refuse(_refusal("SPY"), D1)
    assert memory.refuse(_refusal("SPY"), D2) is not None
    memory.refuse(_refusal("SPY"), D2)
    rolled = memory.roll(D2)
    assert [e.action_taken for e in rolled] == [
        f"1 more order for SPY refused by this session on {D1} by the daily order limit"
    ]
    closed = memory.close()
    assert [e.action_taken.split(" by this")[0] for e in closed] == ["1 more order for SPY refused"]
    assert memory.close() == [] and memory.roll(D3) == []


def test_a_rolled_day_is_forgotten_at_once_and_worded_when_asked() -> None:
    """``roll_later`` (what a day's first cycle calls before its orders): the new day's
    refusals are said and counted afresh right away, and the old day's summary, built only
    when the returned call runs (after the orders), is the one ``roll`` gives."""
    memory, twin = RateRefusals(), RateRefusals()
    for m in (memory, twin):
        for symbol in ("SPY", "SPY", "QQQ", "QQQ", "QQQ"):
            m.refuse(_refusal(symbol), D1)
    assert memory.roll_later(D1) is None  # the same day: nothing to say
    later = memory.roll_later(D2)
    assert later is not None
    assert memory.refuse(_refusal("SPY"), D2) is not None  # D2's first SPY refusal is said
    assert memory.refuse(_refusal("SPY"), D2) is None  # and D2's next one counted
    assert later() == twin.roll(D2)
    assert [e.action_taken.split(" by this")[0] for e in later()] == [
        "2 more orders for QQQ refused",
        "1 more order for SPY refused",
    ]
    assert [e.action_taken for e in memory.close()] == [
        f"1 more order for SPY refused by this session on {D2} by the daily order limit"
    ]
