"""With an equity cap (an Alpaca session's ``--start-cash``: the desk trades $10,000 of a
$100,000 account), every percentage limit is of the desk's $10,000, not of the whole account.

Before, the limits were of the whole account's equity: a 5% drawdown limit let the desk lose
$5,000 (half of its money) before halting, a 2% daily loss $2,000, and the 10% position limit
let one symbol hold the desk's whole $10,000."""

from datetime import date

import pytest

from tui_trader.core.orders import OrderRequest, Side
from tui_trader.risk.gate import DAILY_LOSS, DRAWDOWN, POSITION_SIZE, RiskLimits, RiskManager
from tui_trader.risk.state import RiskState

D1, D2 = date(2024, 3, 4), date(2024, 3, 5)
ACCOUNT, CAP = 100_000.0, 10_000.0


def capped(capital: float | None = CAP, **limits: float) -> RiskManager:
    """A manager for a desk trading at most ``capital`` of the account."""
    return RiskManager(RiskLimits(**limits), RiskState("acct"), capital=capital)


def test_the_drawdown_halts_at_its_share_of_the_cap_not_of_the_account() -> None:
    """5% of the desk's $10,000 is $500: $499 below the peak passes, $500 halts, and the
    event says the loss in money and of what it is a share."""
    risk = capped(max_daily_loss_pct=50)
    risk.on_equity(ACCOUNT, D1)
    assert risk.on_equity(ACCOUNT - 499, D1) == []
    assert risk.drawdown_pct(ACCOUNT - 499) == pytest.approx(4.99)
    (event,) = risk.on_equity(ACCOUNT - 500, D1)
    assert event.event_type == DRAWDOWN and event.value == pytest.approx(5.0)
    assert risk.state.halted
    assert event.detail == (
        "equity 99,500.00 is 500.00 below peak 100,000.00: 5.00% of the desk's equity cap 10,000.00"
    )


def test_the_daily_loss_halts_at_its_share_of_the_cap() -> None:
    """2% of $10,000 is $200 below the day's opening equity."""
    risk = capped()
    risk.on_equity(ACCOUNT, D1)
    assert risk.on_equity(ACCOUNT - 199, D1) == []
    (event,) = risk.on_equity(ACCOUNT - 200, D1)
    assert event.event_type == DAILY_LOSS and event.value == pytest.approx(2.0)
    assert "200.00 below today's open 100,000.00: 2.00% of the desk's equity cap" in (event.detail)
    (resumed,) = risk.on_equity(ACCOUNT - 200, D2)
    assert "new trading day" in resumed.action_taken and not risk.state.halted


def test_the_position_limit_is_a_share_of_the_cap() -> None:
    """10% of $10,000 at $100 is 10 shares: 50 asked -> 10 sent, the event's percentage of
    the cap."""
    risk = capped()
    request = OrderRequest("SPY", Side.BUY, 50, "id-50", rationale="test")
    check = risk.check_order(request, 100.0, ACCOUNT, committed_qty=0, sellable_qty=0)
    assert check.order is not None and check.order.qty == 10
    (event,) = check.events
    assert event.event_type == POSITION_SIZE and event.value == pytest.approx(50.0)


def test_a_cap_above_the_account_changes_nothing() -> None:
    """The cap is "at most": on a $100,000 account a $1,000,000 cap measures on the account,
    with the words a desk without a cap uses."""
    big, plain = capped(1_000_000.0), capped(None)
    for risk in (big, plain):
        risk.on_equity(ACCOUNT, D1)
    assert big.on_equity(ACCOUNT - 499, D1) == plain.on_equity(ACCOUNT - 499, D1) == []
    (a,), (b,) = big.on_equity(94_000, D1), plain.on_equity(94_000, D1)
    assert a == b and a.detail == "equity 94,000.00 is 6.00% below peak 100,000.00"
    request = OrderRequest("SPY", Side.BUY, 500, "id-500", rationale="test")
    fresh = (capped(1_000_000.0), capped(None))
    sizes = [r.check_order(request, 100.0, ACCOUNT, 0, 0).order.qty for r in fresh]
    assert sizes == [100, 100], "10% of the account's $100,000 at $100"


def test_the_shared_peak_stays_the_accounts() -> None:
    """The risk state is the account's, shared by every session on it: the cap changes what a
    percentage is of, never the stored peak, so a desk without a cap on the same account reads
    the same state."""
    risk = capped()
    risk.on_equity(ACCOUNT, D1)
    risk.on_equity(ACCOUNT + 300, D1)
    assert risk.state.peak_equity == ACCOUNT + 300
    assert risk.drawdown_pct(ACCOUNT) == pytest.approx(3.0)
