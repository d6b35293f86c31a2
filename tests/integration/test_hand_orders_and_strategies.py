"""A working order placed by hand and the strategies: they wait in its symbol (said once per
onset) instead of fighting it, and trade it again once it ends; their own working orders are
netted exactly once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from alpaca.trading.requests import LimitOrderRequest

from tests.conftest import BuyAndHold, make_session
from tests.integration.alpaca_helpers import alpaca_session
from tui_trader.brokers import alpaca_reads
from tui_trader.brokers.paper import PaperBroker
from tui_trader.core.domain import Bar, Signal
from tui_trader.core.orders import Fill, OrderStatus, OrderType, OrderUpdate, Side, TimeInForce
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.learning.setup import LearningSettings
from tui_trader.risk.gate import POSITION_SIZE
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder, RiskEventRow

RALLY = {"SPY": 0.8, "QQQ": 0.8, "IWM": 0.8}
"""A rising market: a momentum session buys and holds."""


class Flat:
    """A strategy that never wants a position."""

    name = "flat"

    def on_bar(self, bar: Bar) -> Signal:
        """Always 0."""
        return Signal(0.0, "flat")


def _gtc_limit(session: TradingSession, symbol: str, side: Side, qty: float, price: float):
    """Place a good-till-cancelled limit order by hand between bars; the order as sent."""
    session.request_manual_order(
        ManualOrder(
            symbol,
            side,
            qty=qty,
            order_type=OrderType.LIMIT,
            limit_price=round(price, 2),
            time_in_force=TimeInForce.GTC,
        )
    )
    [order] = session.apply_kill_requests().orders
    assert order.status is OrderStatus.NEW
    return order


def _waits(notes: tuple[str, ...], symbol: str) -> list[str]:
    """The cycle's notes saying the strategies wait in ``symbol`` for a hand order."""
    return [n for n in notes if n.startswith(f"{symbol}: the strategies wait while")]


def test_a_resting_hand_buy_is_not_sold_back_every_bar_and_said_once(db_path: Path) -> None:
    """Flat strategies, a GTC buy of 3 IWM far below the market: it was counted as held, so
    every bar the strategies tried to sell it back and were refused as a short sale (one
    ``short_sale_refused`` risk event a bar). Now they wait, the first cycle says so once
    (naming the order), later cycles say nothing, and no risk event is recorded."""
    session = make_session(db_path, strategies=[Flat()])
    session.run_iteration()
    buy = _gtc_limit(session, "IWM", Side.BUY, 3, session.last_prices["IWM"] * 0.5)
    reports = [session.run_iteration() for _ in range(6)]
    assert [o.client_order_id for o in session.broker.open_orders()] == [buy.client_order_id]
    assert all(r.orders == () and r.risk_events == () for r in reports)
    assert not RiskEventRow.select().exists()
    said = [_waits(r.notes, "IWM") for r in reports]
    assert said[1:] == [[]] * 5, "said once per onset, not every bar"
    [note] = said[0]
    assert f"a hand order works (buy 3 limit @ {buy.limit_price:g} GTC)" in note
    assert "they trade IWM again once it is filled, cancelled or expired" in note


def test_with_shares_held_the_strategies_do_not_trade_against_a_working_hand_order(
    db_path: Path,
) -> None:
    """Holding their target, the strategies sold real shares against a hand buy resting below
    the market (counted as if it had filled), and bought them back against a hand sell
    resting above it. Now the position stays as it is while either works; cancelled, the
    hold ends, and a new hand order is said again."""
    session = make_session(db_path, strategies=[BuyAndHold()], allocation_pct=5)
    session.run_iteration()
    session.run_iteration()
    held = session.broker.positions()["SPY"].qty
    half = held // 2  # far above the smallest rebalance (10% of the position)
    price = session.last_prices["SPY"]
    buy = _gtc_limit(session, "SPY", Side.BUY, half, price * 0.5)
    for _ in range(3):
        report = session.run_iteration()
        assert [o for o in report.orders if o.symbol == "SPY"] == []
        assert session.broker.positions()["SPY"].qty == held
    session.request_cancel(buy.client_order_id)
    session.apply_kill_requests()
    sell = _gtc_limit(session, "SPY", Side.SELL, half, price * 2)
    report = session.run_iteration()
    [note] = _waits(report.notes, "SPY")
    assert f"(sell {half:g} limit @ {sell.limit_price:g} GTC)" in note, "a new onset: said again"
    assert [o for o in report.orders if o.symbol == "SPY"] == []
    assert session.broker.positions()["SPY"].qty == held
    assert (
        not LiveOrder.select()
        .where(LiveOrder.rationale.startswith("target"))
        .where(LiveOrder.symbol == "SPY", LiveOrder.iteration > 2)
        .exists()
    ), "no strategies' order in SPY while a hand order worked"


def test_once_a_hand_buy_fills_the_strategies_rebalance_it_in_that_cycle(
    db_path: Path,
) -> None:
    """The documented behaviour resumes when the hand order ends: a limit buy that rests for
    some bars and then fills is, in the cycle whose bar filled it, a position changed by hand,
    rebalanced to the strategies' target (flat: sold)."""
    session = make_session(db_path, strategies=[Flat()])
    session.run_iteration()
    buy = _gtc_limit(session, "QQQ", Side.BUY, 4, session.last_prices["QQQ"] * 0.97)
    rested = 0
    while True:
        report = session.run_iteration()
        assert report is not None, "the seeded market never came down to the limit"
        if buy.client_order_id not in [o.client_order_id for o in session.broker.open_orders()]:
            break
        assert report.orders == () and report.risk_events == ()
        rested += 1
    assert rested > 1, "the limit rested across bars before it filled"
    filled, sell = report.orders
    assert (filled.client_order_id, filled.status) == (buy.client_order_id, OrderStatus.FILLED)
    assert (sell.symbol, sell.side, sell.qty) == ("QQQ", Side.SELL, 4)
    assert LiveOrder.get(LiveOrder.client_order_id == sell.client_order_id).rationale.startswith(
        "target +0.00 -> 0 sh"
    )
    assert report.risk_events == ()


def test_a_hand_buy_beside_the_strategies_pending_buy_meets_the_position_limit(
    db_path: Path,
) -> None:
    """Working orders still count toward the position limit: the strategies' buy of about 10%
    of equity is still working between bars, so a hand buy in the same symbol is cut to what
    the limit leaves of both together, not judged on the (empty) position alone."""
    session = make_session(db_path, strategies=[BuyAndHold()])
    session.run_iteration()
    [pending] = [o for o in session.broker.open_orders() if o.symbol == "SPY"]
    assert "SPY" not in session.broker.positions()
    price = session.last_prices["SPY"]
    session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=20))
    report = session.apply_kill_requests()
    assert [e.event_type for e in report.risk_events] == [POSITION_SIZE]
    bought = sum(o.qty for o in report.orders)
    assert bought < 20
    assert (pending.qty + bought) * price <= 0.10 * report.equity + price


class Sluggish(PaperBroker):
    """A paper broker whose market orders rest for a bar, then fill half, then the rest (as a
    thin market at Alpaca may): the strategies' own orders work across bars."""

    def on_bars(self, bars: dict[str, Bar]) -> None:
        """Hold each market order back for its first bar; fill half of it on its second."""
        resting, partial = [], []
        for working in self._working:
            order = working.order
            if order.order_type is not OrderType.MARKET or order.symbol not in bars:
                continue
            if working.session is None:  # its first bar: rests
                resting.append(working)
            elif order.filled_qty == 0:  # its second: half fills
                partial.append(working)
        self._working = [w for w in self._working if w not in resting and w not in partial]
        super().on_bars(bars)
        for working in resting:
            working.session = self._trading_day(bars[working.order.symbol].timestamp)
        for working in partial:
            self._half_fill(working, bars[working.order.symbol])
        self._working += resting + partial

    def _half_fill(self, working, bar: Bar) -> None:
        """Fill half the order at the bar's open (the rest works on)."""
        order = working.order
        qty = float(int(order.qty // 2))
        commission = self.costs.commission(qty)
        self._apply_fill(order.symbol, order.side, qty, bar.open, commission)
        working.order = replace(
            order, status=OrderStatus.PARTIALLY_FILLED, filled_qty=qty, filled_avg_price=bar.open
        )
        self._orders_by_client_id[order.client_order_id] = working.order
        fill = Fill(
            order.client_order_id,
            order.symbol,
            order.side,
            qty,
            bar.open,
            bar.timestamp,
            commission,
            fill_id=f"{order.broker_order_id}-half",
        )
        self._updates.append(OrderUpdate(working.order, fill, "partial_fill"))


def test_the_strategies_own_order_working_across_bars_is_netted_once(db_path: Path) -> None:
    """The strategies' buy rests a bar, then fills half, then the rest: each cycle sizes from
    what is held plus what still works, so the order is never sent again (no doubling, bar
    after bar) and the position ends at the one order's quantity."""
    broker = Sluggish(100_000.0, ("SPY", "QQQ", "IWM"))
    session = make_session(db_path, broker=broker, strategies=[BuyAndHold()])
    [first] = [o for o in session.run_iteration().orders if o.symbol == "SPY"]
    seen: list[tuple[str, float]] = []
    for _ in range(3):
        session.run_iteration()
        working = [o for o in broker.open_orders() if o.symbol == "SPY"]
        held = broker.positions().get("SPY")
        seen.append((str(working[0].status) if working else "none", held.qty if held else 0.0))
    assert seen == [
        ("new", 0.0),
        ("partially_filled", first.qty // 2),
        ("none", first.qty),
    ]
    rows = LiveOrder.select().where(LiveOrder.symbol == "SPY")
    assert [r.client_order_id for r in rows] == [first.client_order_id]
    assert LiveOrder.get(LiveOrder.client_order_id == first.client_order_id).filled_qty == first.qty


def test_a_limit_buy_placed_at_the_broker_by_hand_is_not_sold_against(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alpaca: a person places a GTC limit buy of 50 SPY far below the market in Alpaca's own
    dashboard (an id not of the desk's form) while the session holds SPY. Counted as held, it
    made the session sell 50 SPY each bar: of its real shares, or (holding fewer) refused as a
    short sale, one risk event a bar. Now the strategies wait in SPY, say so once, and the
    shares stay. (The account's list of open orders is read every cycle here,
    as it is once its 30-second cache has aged.)"""
    monkeypatch.setattr(alpaca_reads, "OPEN_ORDERS_TTL", 0.0)
    session = alpaca_session(
        sandbox,
        tmp_path / "desk.db",
        learning=LearningSettings("momentum"),
        requests_per_minute=6000,  # the sandbox has no limit: no waiting for the budget
    )
    try:
        for _ in range(3):  # the rally: the session buys SPY and holds it
            sandbox.admin.step(shock=RALLY)
            session.run_iteration()
        own = _spy_held(trading)
        assert own > 0
        low = round(session.last_prices["SPY"] * 0.5, 2)
        trading.submit_order(
            LimitOrderRequest(
                symbol="SPY", qty=50, side="buy", time_in_force="gtc", limit_price=low
            )
        )
        said = []
        for _ in range(3):
            sandbox.admin.step(shock=RALLY)
            r = session.run_iteration()
            print(
                r.notes,
                [(o.client_order_id, o.symbol) for o in session.broker.open_orders()],
                r.orders,
            )
            said += _waits(r.notes, "SPY")
        sells = LiveOrder.select().where((LiveOrder.symbol == "SPY") & (LiveOrder.side == "sell"))
        assert sells.count() == 0, "the session sold real shares against the resting hand buy"
        refusals = RiskEventRow.select().where(RiskEventRow.symbol == "SPY")
        assert [r.action_taken for r in refusals] == [], "nor tried to, refused every bar"
        assert _spy_held(trading) == own
        [note] = said
        assert f"a hand order works (buy 50 limit @ {low:g} GTC)" in note
    finally:
        session.finish("stopped")
        session.broker.close()


def _spy_held(trading: Any) -> float:
    """SPY shares the broker holds."""
    return sum(float(p.qty) for p in trading.get_all_positions() if p.symbol == "SPY")


class TurnsFlat:
    """Long for the first ``long_bars`` SPY bars after the warm-up, then flat."""

    name = "turns"

    def __init__(self) -> None:
        self.bars = 0
        self.turn_after: int | None = None

    def on_bar(self, bar: Bar) -> Signal:
        """+1 until the turn, then 0."""
        if bar.symbol == "SPY":
            self.bars += 1
        turned = self.turn_after is not None and self.bars > self.turn_after
        return Signal(0.0 if turned else 1.0, "turns")


def test_a_target_that_turns_while_the_strategies_own_buy_works_waits_for_it(
    db_path: Path,
) -> None:
    """The strategies' buy rests a bar, then half fills; meanwhile their target turns flat.
    The sell counted the unfilled buy as held: refused as a short sale every bar while the buy
    worked ('none held', then 'only 10 held'). Now it waits, said once, and sells the whole
    position in the cycle the buy has filled."""
    broker = Sluggish(100_000.0, ("SPY",))
    turns = TurnsFlat()
    session = make_session(db_path, broker=broker, strategies=[turns], symbols=("SPY",))
    turns.turn_after = turns.bars + 1  # long for the next bar, flat from the one after
    [buy] = session.run_iteration().orders
    reports = [session.run_iteration() for _ in range(3)]
    assert [r.risk_events for r in reports] == [(), (), ()]
    said = [
        [n for n in r.notes if n.startswith("SPY: the strategies' move to 0 sh")] for r in reports
    ]
    assert [len(s) for s in said] == [1, 0, 0], "said once, not again as the buy part-fills"
    assert f"waits while a buy of {buy.qty:g} sent earlier still works" in said[0][0]
    assert [r.orders for r in reports[:1]] == [()]
    filled, sell = reports[2].orders
    assert (filled.client_order_id, filled.status) == (buy.client_order_id, OrderStatus.FILLED)
    assert (sell.side, sell.qty) == (Side.SELL, buy.qty)
    assert not RiskEventRow.select().exists()
