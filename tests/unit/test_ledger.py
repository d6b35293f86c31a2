"""Round trips: fills become closed trades with their share of every cost."""

from datetime import UTC, datetime, timedelta

import pytest

from tui_trader.core.ledger import TradeLedger, positions_before
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


@pytest.mark.parametrize(
    ("now", "fills", "earlier", "trade_pnl", "left"),
    [
        # a stop sold the whole long overnight: the snapshot's 10 @ 100 is what it closed
        ((0.0, 0.0), [(Side.SELL, 10, 95.0)], (10.0, 100.0), -50.0, 0.0),
        # half sold: the broker's average still prices the rest (no snapshot)
        ((5.0, 100.0), [(Side.SELL, 5, 110.0)], (0.0, 0.0), 50.0, 5.0),
        # added to: the average before is worked back from the broker's new one
        ((15.0, 104.0), [(Side.BUY, 5, 112.0)], (0.0, 0.0), None, 15.0),
        # opened from flat while away: nothing before, the fill opens it at its price
        ((10.0, 50.0), [(Side.BUY, 10, 50.0)], (0.0, 0.0), None, 10.0),
    ],
)
def test_fills_made_while_away_are_booked_once_over_what_was_held_before(
    now: tuple[float, float],
    fills: list[tuple[Side, float, float]],
    earlier: tuple[float, float],
    trade_pnl: float | None,
    left: float,
) -> None:
    """A ledger seeded from the positions before the fills, then fed them, ends at the
    broker's position and books the round trip they close (no phantom short)."""
    made = [fill(side, qty, price, fee=0.0, n=i) for i, (side, qty, price) in enumerate(fills)]
    before = positions_before({"SPY": now}, made, {"SPY": earlier})
    ledger = TradeLedger()
    for symbol, (qty, price) in before.items():
        ledger.seed(symbol, qty, price, T)
    trades = [t for f in made for t in ledger.on_fill(f)]
    assert ledger.held("SPY") == pytest.approx(left)
    if trade_pnl is None:
        assert trades == []
        # the average the ledger reaches is the broker's: selling at it books no profit
        [out] = ledger.on_fill(fill(Side.SELL, now[0], now[1], fee=0.0, n=9))
        assert out.pnl == pytest.approx(0.0, abs=1e-9)
    else:
        [trade] = trades
        assert trade.pnl == pytest.approx(trade_pnl)
