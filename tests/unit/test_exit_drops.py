"""An ended session's exit dropped before sells that do not go out: said once, then counted."""

from __future__ import annotations

from tui_trader.engine.exit_drops import DROPPED, ExitDrops


def test_drops_after_the_first_are_counted_and_said_once_when_the_sell_goes_out() -> None:
    drops = ExitDrops()
    said = [drops.first("SPY", "1a2b3c4d") for _ in range(4)]
    assert said == [True, False, False, False]
    [event] = drops.over("SPY")
    assert (event.event_type, event.value, event.symbol) == (DROPPED, 3.0, "SPY")
    assert "cancelled 3 more time(s)" in event.detail
    assert drops.over("SPY") == [], "said once"
    assert drops.first("SPY", "1a2b3c4d"), "the next position's drop is said again"


def test_another_ended_sessions_exit_is_said_and_the_session_end_says_the_counts() -> None:
    drops = ExitDrops()
    assert drops.first("SPY", "1a2b3c4d") and drops.first("QQQ", "1a2b3c4d")
    assert drops.first("SPY", "5e6f7a8b"), "another session's exit: said"
    assert not drops.first("SPY", "5e6f7a8b") and not drops.first("QQQ", "1a2b3c4d")
    assert drops.over("IWM") == []
    assert [(e.symbol, e.value) for e in drops.close()] == [("QQQ", 1.0), ("SPY", 1.0)]
    assert drops.close() == []
