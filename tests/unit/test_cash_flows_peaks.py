"""The drawdown peak under cash moves is never lower than the account's trading high: not after
an outage of the activities read (a rise taken for a deposit, then given back), not when two
desks of one account merge a withdrawal one of them counted (``risk.cash_flows``,
``risk.merge``). Either would have widened the drawdown allowance with no money moved."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from tui_trader.risk.gate import DRAWDOWN, RiskLimits, RiskManager, RiskState
from tui_trader.risk.merge import merge_risk_state
from tui_trader.store.db import open_database
from tui_trader.store.risk_store import sync_risk_state

DAY = date(2026, 12, 7)
CLOSE = 100_000.0
LIMITS = RiskLimits(max_drawdown_pct=5.0, max_daily_loss_pct=20.0)
"""A daily-loss limit far off, so the drawdown kill switch is what trips."""


def _manager() -> RiskManager:
    return RiskManager(LIMITS, RiskState("acct"))


def _trips_at(m: RiskManager, start: float, flows: float) -> float:
    """Lower the equity from ``start`` $100 at a time until a limit trips: the equity then."""
    equity = start
    while not m.state.halted:
        equity -= 100.0
        m.on_equity(equity, DAY, CLOSE, flows)
    assert m.state.halt_reason == DRAWDOWN
    return equity


def test_an_outage_of_the_activities_read_leaves_the_trading_high_as_the_peak() -> None:
    """No money moved. The activities read fails while trading lifts the equity to $104,000
    and it eases to $103,000; then the read works again. The peak stays $104,000 and the kill
    switch trips at $98,800, as on a desk whose read never failed. Before, the rise taken
    for a deposit was given back from the peak too: peak $103,000, no halt until $97,800."""
    plain, outage = _manager(), _manager()
    for m in (plain, outage):
        m.on_equity(CLOSE, DAY, CLOSE, 0.0)
    for equity in (104_000.0, 103_000.0):
        plain.on_equity(equity, DAY, CLOSE, 0.0)
        outage.on_equity(equity, DAY, CLOSE, None, "HTTP 500")
    outage.on_equity(103_000.0, DAY, CLOSE, 0.0)  # read again: nothing was deposited
    assert outage.state.day_open_equity == CLOSE  # the rise counts as the day's gain again
    assert outage.state.peak_equity == plain.state.peak_equity == 104_000.0
    assert _trips_at(outage, 103_000.0, 0.0) == _trips_at(plain, 103_000.0, 0.0) == 98_800.0


def test_a_real_deposit_during_the_outage_still_moves_the_peak() -> None:
    """$10,000 deposited while the read fails: once read, the peak holds it (the drawdown is
    measured on trading, as when it was read at once)."""
    m = _manager()
    m.on_equity(CLOSE, DAY, CLOSE, 0.0)
    m.on_equity(CLOSE + 10_000, DAY, CLOSE, None, "HTTP 500")
    m.on_equity(CLOSE + 9_000, DAY, CLOSE, 10_000.0)
    assert m.state.peak_equity == CLOSE + 10_000
    assert m.state.day_open_equity == CLOSE + 10_000


def test_two_desks_merging_a_withdrawal_keep_the_other_desks_high() -> None:
    """Two desks of one account at a $120,000 peak. Desk two sees a new high of $125,000 and
    saves it; trading eases, then $10,000 is withdrawn. Desk one (its copy from before the
    high) counts the withdrawal at $111,000 and saves; desk two adopts the row between bars
    and reads the same withdrawal. The account's peak is $115,000 (the high less the money
    taken out), as one desk seeing it all would have it, and the kill switch trips at the
    same equity. Before, desk one's lowered peak was merged as a `risk reset` (only a reset
    lowered a peak): $111,000 was written over desk two's high and the drawdown allowance
    was $4,000 wider with no reset by anyone."""
    alone = _manager()
    for equity, flows in ((CLOSE, 0.0), (120_000.0, 0.0), (125_000.0, 0.0), (111_000.0, -1e4)):
        alone.on_equity(equity, DAY, CLOSE, flows)
    one, two = _manager(), _manager()
    one.on_equity(CLOSE, DAY, CLOSE, 0.0)
    one.on_equity(120_000.0, DAY, CLOSE, 0.0)
    row = merge_risk_state(None, None, one.state)
    base_one = two.state = row
    two.on_equity(125_000.0, DAY, CLOSE, 0.0)
    row = base_two = merge_risk_state(row, row, two.state)
    two.state = row
    one.state = base_one
    one.on_equity(111_000.0, DAY, CLOSE, -10_000.0)
    row = merge_risk_state(row, base_one, one.state)
    assert row.day_open_equity == CLOSE - 10_000
    two.state = merge_risk_state(row, base_two, two.state)  # between bars: the row adopted
    two.on_equity(111_000.0, DAY, CLOSE, -10_000.0)
    assert two.state.peak_equity == alone.state.peak_equity == 115_000.0
    assert _trips_at(two, 111_000.0, -10_000.0) == _trips_at(alone, 111_000.0, -10_000.0)


def test_a_reset_still_restarts_the_peak_beside_a_withdrawal() -> None:
    """A `risk reset` lowers the peak on purpose: merged, it stands, also on a day whose
    opening a withdrawal moved."""
    m = _manager()
    m.on_equity(CLOSE, DAY, CLOSE, 0.0)
    m.on_equity(CLOSE - 10_000, DAY, CLOSE, -10_000.0)
    row = merge_risk_state(None, None, m.state)
    m.on_equity(84_000.0, DAY, CLOSE, -10_000.0)
    base = row
    m.reset(84_000.0)
    merged = merge_risk_state(row, base, m.state)
    assert merged.peak_equity == 84_000.0


def test_two_desks_on_one_sqlite_store_keep_the_high_through_a_withdrawal(tmp_path: Path) -> None:
    """The same two desks, each on its own connection to one store file (the merge runs in the
    write transaction, ``store.risk_store``): the account's row ends at $115,000."""
    path = tmp_path / "desk.db"
    db_one, db_two = open_database(path), open_database(path)
    one, two = _manager(), _manager()
    one.state = RiskState("acct")
    one.on_equity(CLOSE, DAY, CLOSE, 0.0)
    one.on_equity(120_000.0, DAY, CLOSE, 0.0)
    base_one = one.state = sync_risk_state(db_one, None, one.state)
    base_two = two.state = sync_risk_state(db_two, None, base_one)
    two.on_equity(125_000.0, DAY, CLOSE, 0.0)
    base_two = two.state = sync_risk_state(db_two, base_two, two.state)
    one.on_equity(111_000.0, DAY, CLOSE, -10_000.0)
    base_one = one.state = sync_risk_state(db_one, base_one, one.state)
    assert one.state.peak_equity == 115_000.0
    two.state = sync_risk_state(db_two, base_two, two.state)  # between bars
    two.on_equity(111_000.0, DAY, CLOSE, -10_000.0)
    assert two.state.peak_equity == 115_000.0
    assert sync_risk_state(db_two, two.state, two.state).peak_equity == 115_000.0


def test_a_reset_during_the_outage_stands_once_the_read_works_again() -> None:
    """The read fails, trading lifts the equity to $104,000, the trader resets the risk state
    at $103,000 (the peak restarts there): once read again the peak is the reset's, not the
    high from before it. A reset written by another process and adopted is kept the same."""
    for adopted in (False, True):
        m = _manager()
        m.on_equity(CLOSE, DAY, CLOSE, 0.0)
        m.on_equity(104_000.0, DAY, CLOSE, None, "HTTP 500")
        m.on_equity(103_000.0, DAY, CLOSE, None, "HTTP 500")
        if adopted:  # the row as `risk reset` in another process left it
            m.state = replace(m.state, peak_equity=103_000.0)
        else:
            m.reset(103_000.0)
        m.on_equity(103_000.0, DAY, CLOSE, 0.0)
        assert m.state.peak_equity == 103_000.0, adopted


def test_a_previous_close_that_changes_within_the_day_moves_no_baseline() -> None:
    """No money moved. Alpaca's ``last_equity`` changes while the desk's day goes on (rolled
    to the day's own close in the evening, or a stale value corrected late: alpaca-py issue
    341): a day that lost $3,000 by 16:00 reads a previous close of $97,000 afterwards. The
    peak and the opening stay where trading left them and the kill switch trips where it
    would have. Before, the close's change was taken for cash moved: the peak fell by the
    day's $3,000 loss (the drawdown allowance $3,000 wider, for good) and the opening with it."""
    steady, rolled = _manager(), _manager()
    for m in (steady, rolled):
        m.on_equity(CLOSE, DAY, CLOSE, 0.0)
        m.on_equity(97_000.0, DAY, CLOSE, 0.0)
    steady.on_equity(97_000.0, DAY, CLOSE, 0.0)
    rolled.on_equity(97_000.0, DAY, 97_000.0, 0.0)  # the broker's close, changed
    assert rolled.state.peak_equity == steady.state.peak_equity == CLOSE
    assert rolled.state.day_open_equity == CLOSE
    assert rolled.past_limits(95_000.0, 97_000.0, 0.0) == steady.past_limits(95_000.0, CLOSE, 0.0)
    assert _trips_at(rolled, 97_000.0, 0.0) == _trips_at(steady, 97_000.0, 0.0) == 95_000.0
