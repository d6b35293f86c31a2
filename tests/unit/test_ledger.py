"""Round trips: fills become closed trades with their share of every cost."""

from datetime import UTC, datetime, timedelta

import pytest

from tui_trader.core.ledger import TradeLedger
from tui_trader.core.orders import Fill, Side

T = datetime(2024, 1, 2, tzinfo=UTC)


def fill(side: Side, qty: float, price: float, fee: float = 1.0, slip: float = 0.0, n: int = 0):
    return Fill("c", "SPY", side, qty, price, T + timedelta(days=n), fee, slip)


def test_a_long_round_trip_nets_both_commissions() -> None:
    """Buy 10 at 100, sell 10 at 110, $1 each way: pnl 98, 9.8%."""
    ledger = TradeLedger()
    assert ledger.on_fill(fill(Side.BUY, 10, 100)) == []
    (trade,) = ledger.on_fill(fill(Side.SELL, 10, 110, n=3))
    assert trade.pnl == pytest.approx(98.0)
    assert trade.pnl_pct == pytest.approx(9.8)
    assert trade.commission == pytest.approx(2.0)
    assert trade.side is Side.BUY and trade.entry_time == T


def test_partial_exits_share_entry_costs_pro_rata() -> None:
    """Two buys average the price; two sells each close half with half the entry costs."""
    ledger = TradeLedger()
    ledger.on_fill(fill(Side.BUY, 10, 100, fee=2.0, slip=1.0))
    ledger.on_fill(fill(Side.BUY, 10, 120, fee=2.0, slip=1.0))
    (first,) = ledger.on_fill(fill(Side.SELL, 10, 130, fee=1.0))
    (second,) = ledger.on_fill(fill(Side.SELL, 10, 100, fee=1.0))
    assert first.entry_price == pytest.approx(110)
    assert first.commission == pytest.approx(2.0 + 1.0)
    assert first.slippage == pytest.approx(1.0)
    assert first.pnl + second.pnl == pytest.approx(10 * 130 + 10 * 100 - 10 * 100 - 10 * 120 - 6)


def test_a_flip_closes_the_long_and_opens_a_short() -> None:
    """Selling 15 against 10 long closes 10 and leaves 5 short that later close."""
    ledger = TradeLedger()
    ledger.on_fill(fill(Side.BUY, 10, 100, fee=0))
    (closed,) = ledger.on_fill(fill(Side.SELL, 15, 105, fee=0))
    assert closed.quantity == 10 and closed.pnl == pytest.approx(50)
    (short,) = ledger.on_fill(fill(Side.BUY, 5, 100, fee=0))
    assert short.side is Side.SELL and short.pnl == pytest.approx(25)
