"""Deposits and withdrawals move the drawdown and daily-loss limits' baselines, not the result
of trading (``risk.cash_flows``): the risk manager fed readings as a session feeds them (the
broker's equity, its previous close, the day's net cash moved)."""

from __future__ import annotations

from datetime import date

from tui_trader.risk.cash_flows import FLOWS_READ, FLOWS_UNREAD
from tui_trader.risk.gate import DAILY_LOSS, RiskLimits, RiskManager, RiskState
from tui_trader.risk.merge import merge_risk_state

DAY = date(2026, 12, 7)
CLOSE = 100_000.0


def _manager() -> RiskManager:
    return RiskManager(RiskLimits(), RiskState("acct"))


def _kinds(events: list) -> list[str]:
    return [e.event_type for e in events]


def _first_trip(m: RiskManager, flows: float, start: float) -> float:
    """Lower the equity from ``start`` a dollar at a time until a limit trips: the loss then."""
    equity = start
    while not m.state.halted:
        equity -= 100.0
        m.on_equity(equity, DAY, CLOSE, flows)
    return start - equity


def test_a_deposit_then_a_loss_trips_the_daily_loss_limit_at_the_same_loss() -> None:
    """$10,000 deposited on a $100,000 day, then losses: the 2% limit trips at a $2,000 loss,
    as without the deposit. Before, the equity of $105,000 after a $5,000 loss was above the
    day's opening of $100,000 and nothing tripped."""
    plain = _manager()
    plain.on_equity(CLOSE, DAY, CLOSE, 0.0)
    without = _first_trip(plain, 0.0, CLOSE)
    funded = _manager()
    funded.on_equity(CLOSE, DAY, CLOSE, 0.0)
    assert funded.on_equity(CLOSE + 10_000, DAY, CLOSE, 10_000.0) == []
    assert funded.state.day_open_equity == CLOSE + 10_000
    with_deposit = _first_trip(funded, 10_000.0, CLOSE + 10_000)
    assert without == with_deposit == 2_000.0
    assert funded.state.halt_reason == DAILY_LOSS
    assert "deposited today" in funded.state.halt_detail


def test_the_5000_loss_after_a_deposit_halts() -> None:
    """The README's case: $105,000 after the deposit and a $5,000 loss is a halt."""
    m = _manager()
    m.on_equity(CLOSE, DAY, CLOSE, 0.0)
    events = m.on_equity(CLOSE + 5_000, DAY, CLOSE, 10_000.0)
    assert DAILY_LOSS in _kinds(events)


def test_a_withdrawal_is_no_drawdown() -> None:
    """A 10% withdrawal: no halt (before, the drawdown kill switch halted the account); the
    peak and the day's opening move down with it, and a loss after it still counts."""
    m = _manager()
    m.on_equity(CLOSE, DAY, CLOSE, 0.0)
    assert m.on_equity(CLOSE - 10_000, DAY, CLOSE, -10_000.0) == []
    assert not m.state.halted
    assert m.state.peak_equity == CLOSE - 10_000
    assert m.drawdown_pct(CLOSE - 10_000) == 0.0
    events = m.on_equity(CLOSE - 10_000 - 1_900, DAY, CLOSE, -10_000.0)
    assert _kinds(events) == [DAILY_LOSS]  # $1,900 is 2.1% of the $90,000 left


def test_a_deposit_counted_once_however_often_it_is_read() -> None:
    """The day's total is read every cycle: only the part not counted yet moves anything."""
    m = _manager()
    m.on_equity(CLOSE, DAY, CLOSE, 0.0)
    for _ in range(3):
        m.on_equity(CLOSE + 10_000, DAY, CLOSE, 10_000.0)
    assert m.state.day_open_equity == CLOSE + 10_000
    assert m.state.peak_equity == CLOSE + 10_000


def test_two_sessions_count_one_deposit_once() -> None:
    """Two sessions of one account each read the deposit; the account's row (merged as the
    store merges it) moves by it once, whichever saves first."""
    row = None
    one, two = _manager(), _manager()
    for m in (one, two):
        m.on_equity(CLOSE, DAY, CLOSE, 0.0)
        row = merge_risk_state(row, None, m.state)
    base_one = base_two = row
    one.state = two.state = row
    one.on_equity(CLOSE + 10_000, DAY, CLOSE, 10_000.0)
    row = merge_risk_state(row, base_one, one.state)
    two.on_equity(CLOSE + 10_000, DAY, CLOSE, 10_000.0)
    row = merge_risk_state(row, base_two, two.state)
    assert row is not None
    assert row.day_open_equity == CLOSE + 10_000
    assert row.peak_equity == CLOSE + 10_000
    one.state = row  # the next cycle, on the merged row: nothing more
    one.on_equity(CLOSE + 10_000, DAY, CLOSE, 10_000.0)
    assert one.state.day_open_equity == CLOSE + 10_000


def test_unread_flows_count_no_rise_as_a_gain_and_say_so_once() -> None:
    """Flows not read: a rise (a deposit not seen) lifts the baselines with it, so a loss
    after it trips as before it; said once, and once more when read again."""
    m = _manager()
    m.on_equity(CLOSE, DAY, CLOSE, 0.0)
    first = m.on_equity(CLOSE + 10_000, DAY, CLOSE, None, "HTTP 500")
    assert _kinds(first) == [FLOWS_UNREAD]
    assert "could not be read" in first[0].action_taken
    assert m.on_equity(CLOSE + 10_000, DAY, CLOSE, None, "HTTP 500") == []
    events = m.on_equity(CLOSE + 10_000 - 2_000, DAY, CLOSE, None, "HTTP 500")
    assert _kinds(events) == [DAILY_LOSS]
    m.reset(None)
    again = m.on_equity(CLOSE + 10_000 - 2_000, DAY, CLOSE, 10_000.0)
    assert FLOWS_READ in _kinds(again)
    assert m.state.day_open_equity == CLOSE + 10_000


def test_a_gain_while_unread_is_given_back_once_read() -> None:
    """A rise that was trading (the flows read again say nothing moved) counts as a gain
    once the flows are read: the baselines come back down."""
    m = _manager()
    m.on_equity(CLOSE, DAY, CLOSE, 0.0)
    m.on_equity(CLOSE + 1_000, DAY, CLOSE, None, "down")
    assert m.state.day_open_equity == CLOSE + 1_000
    m.on_equity(CLOSE + 1_000, DAY, CLOSE, 0.0)
    assert m.state.day_open_equity == CLOSE
    assert m.daily_pnl(CLOSE + 1_000) == 1_000


def test_no_previous_close_no_flows() -> None:
    """The local broker (no previous close): nothing moves, as before."""
    m = _manager()
    m.on_equity(CLOSE, DAY)
    m.on_equity(CLOSE + 10_000, DAY)
    assert m.state.day_open_equity == CLOSE
