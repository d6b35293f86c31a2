"""A rebalance through zero is two orders: the closing leg is never refused for buying power.

Money is fully invested (allocation 100%, no spare buying power), shorting is on, and the trend
flips from up to down: the session must get out of the long position (and then go short as far as
buying power allows), not keep it because one big sell was refused whole.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from tui_trader.brokers.paper import PaperBroker
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.clock import FrozenClock
from tui_trader.core.domain import Bar
from tui_trader.core.orders import OrderRequest, OrderStatus, Side
from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.engine.session import SessionConfig, TradingSession
from tui_trader.market.replay import ReplayMarket
from tui_trader.risk.limits import RiskLimits
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.models import LiveFill, LiveOrder
from tui_trader.strategies import FixedWeights
from tui_trader.strategies.crossover import MovingAverageCrossover

START = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
WARMUP = [100.0 + 0.01 * i for i in range(400)]
"""A day of slowly rising minute bars (the session's warm-up, so it starts wanting to be long)."""


def _frame(closes: list[float], gaps: dict[int, float] | None = None) -> pl.DataFrame:
    """One symbol's minute bars with these closes; each bar opens at the previous close unless
    ``gaps`` gives its open."""
    rows = []
    prev = closes[0]
    for i, close in enumerate(closes):
        ts = START + timedelta(minutes=i)
        o = (gaps or {}).get(i, prev)
        rows.append((ts, "AAA", o, max(o, close), min(o, close), close, 1000.0))
        prev = close
    frame = pl.DataFrame(
        rows, schema=["timestamp", "symbol", "open", "high", "low", "close", "volume"], orient="row"
    )
    return frame.with_columns(pl.col("timestamp").cast(pl.Datetime("us", "UTC")))


def _session(
    db: Path,
    closes: list[float],
    slippage_bps: float = 5.0,
    gaps: dict[int, float] | None = None,
    short: bool = True,
) -> TradingSession:
    """A local session on one symbol, all money in it, shorting on (unless ``short`` is off)."""
    market = ReplayMarket(
        _frame(closes, gaps),
        "test",
        ("AAA",),
        interval=parse_interval("1m"),
        period=parse_period("1d"),
    )
    clock = FrozenClock(START, step=timedelta(seconds=1))
    config = SessionConfig(
        mode="local",
        symbols=("AAA",),
        interval=market.interval,
        period=market.period,
        data_label="test",
        start_cash=10_000.0,
        limits=RiskLimits(100.0, 100.0, 100.0, 10**6),
        allocation_pct=100.0,
        allow_short=short,
    )
    costs = PaperCosts(slippage_bps, 0.0, 0.0)
    broker = PaperBroker(10_000.0, ("AAA",), costs, allow_short=short)
    audit = AuditLog(open_database(db), clock)
    session = TradingSession(
        config,
        market,
        broker,
        audit,
        clock,
        [MovingAverageCrossover(2, 4, allow_short=short)],
        FixedWeights({"trend": 1.0}),
    )
    session.start()
    return session


def test_long_to_short_closes_the_long_at_zero_buying_power(tmp_path: Path) -> None:
    """Up, then down: the long is sold (closing leg ``-c``), then a short opened (``-o``)."""
    closes = [*WARMUP, 105.0, 106.0, 107.0, 100.0, 95.0, 90.0, 85.0, 80.0]
    session = _session(tmp_path / "s.db", closes)
    while session.run_iteration() is not None:
        pass
    position = session.broker.positions().get("AAA")
    assert position is not None and position.qty < 0, "the long was closed and a short opened"
    closing = LiveOrder.select().where(LiveOrder.client_order_id.endswith("-AAA-c"))
    assert closing.count() == 1
    (close,) = closing
    assert close.status == "filled" and close.side == "sell"
    assert "closing leg" in close.rationale
    refused = LiveOrder.select().where(LiveOrder.status == "rejected")
    assert all("-c" not in o.client_order_id for o in refused)
    ids = [o.client_order_id for o in LiveOrder.select().order_by(LiveOrder.id)]
    key = session.audit.session.key
    assert all(i.startswith(f"tt-{key}-") for i in ids)


def test_closing_sell_passes_the_paper_broker_at_zero_buying_power() -> None:
    """Selling what is held needs no buying power; only the part beyond zero does."""
    broker = PaperBroker(1_000.0, ("AAA",), PaperCosts(0.0, 0.0, 0.0), allow_short=True)
    broker.on_bars({"AAA": Bar("AAA", START, 100, 100, 100, 100, 1)})
    broker.submit(OrderRequest("AAA", Side.BUY, 10, "b"))
    broker.on_bars({"AAA": Bar("AAA", START + timedelta(minutes=1), 100, 100, 100, 100, 1)})
    broker.drain_updates()
    assert broker.account().buying_power == 0
    whole = broker.submit(OrderRequest("AAA", Side.SELL, 19, "flip"))
    assert whole.status is OrderStatus.REJECTED, "9 short need buying power the account lacks"
    close = broker.submit(OrderRequest("AAA", Side.SELL, 10, "close"))
    assert close.status is OrderStatus.NEW
    opening = broker.submit(OrderRequest("AAA", Side.SELL, 9, "open"))
    assert opening.status is OrderStatus.NEW, "the working close gives its exposure back"


def test_cancel_at_fill_writes_the_reason_and_zero_bps_records_no_slippage(tmp_path: Path) -> None:
    """A buy the cash cannot pay at the fill is cancelled with the reason in ``error``; with no
    slippage configured, rounding the fill price to 4 decimals is not recorded as slippage."""
    broker = PaperBroker(1_000.0, ("AAA",), PaperCosts(0.0, 0.0, 0.0))
    broker.on_bars({"AAA": Bar("AAA", START, 10.123456, 10.2, 10.0, 10.123456, 1)})
    broker.submit(OrderRequest("AAA", Side.BUY, 7, "odd"))
    broker.submit(OrderRequest("AAA", Side.BUY, 90, "big"))
    broker.on_bars({"AAA": Bar("AAA", START + timedelta(minutes=1), 10.987654, 11, 10, 11, 1)})
    filled, cancelled = broker.drain_updates()
    assert filled.fill is not None and filled.fill.slippage == 0.0
    assert filled.fill.price == 10.9877
    assert cancelled.order.status is OrderStatus.CANCELED
    assert "insufficient cash at fill" in (cancelled.order.reject_reason or "")


def test_cancelled_row_keeps_its_reason_in_the_audit_trail(tmp_path: Path) -> None:
    """Through a whole session: the order row of a buy cancelled at the fill says why."""
    # the bar after the first decision opens 20% higher: 100% of equity no longer pays for it
    session = _session(tmp_path / "c.db", WARMUP, slippage_bps=0.0, gaps={391: 120.0}, short=False)
    while session.run_iteration() is not None:
        pass
    cancelled = list(LiveOrder.select().where(LiveOrder.status == "canceled"))
    assert cancelled, "the gap should cancel a buy"
    assert all(o.error and "insufficient cash at fill" in o.error for o in cancelled)
    assert all(f.slippage == 0.0 for f in LiveFill.select())
