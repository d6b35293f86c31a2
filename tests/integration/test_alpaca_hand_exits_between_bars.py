"""A sell by hand of part of a protected position between bars, at the sandbox (Alpaca's
contract): once the sell has filled, the shares left have their stop again before the next bar.

The sell cancels the position's stop first (Alpaca holds the stop's shares: the sell would be
refused as "insufficient qty available"). Before, the stop for what was left went back only at
the next bar's cycle: on 1-minute bars up to a minute without a stop, on daily bars up to a day.
"""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.broker_protection import buy_and_protect, client, open_stops
from tests.integration.ended_stop import limit_sell, spy_held, working_stops
from tests.integration.test_lost_store_cancels import _process_ended
from tui_trader.core.orders import OrderType, Side, TimeInForce
from tui_trader.engine.hand_exits import HAND_WAIT_LOOKS
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.risk.limits import RiskLimits
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.models import LiveFill, LiveOrder, database


def test_a_market_sell_by_hand_filled_at_once_leaves_one_stop_for_the_rest(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Half the position sold at market by hand between bars; the sandbox fills it at once:
    in that same wake (no bar) the fill is recorded and one stop, 2% below the entry as
    before, covers the shares left; the desk says so."""
    desk = buy_and_protect(sandbox, tmp_path / "desk.db", protected=open_stops, shock=1.0)
    try:
        [(held_stop, price)] = working_stops(trading)
        held = spy_held(trading)
        assert held_stop == held and held >= 2
        half = float(int(held // 2))
        bars = desk.iteration
        desk.request_manual_order(ManualOrder("SPY", Side.SELL, qty=half))
        woke = desk.apply_kill_requests()
        assert woke is not None and desk.iteration == bars  # no bar's cycle ran
        [sell] = {o.client_order_id for o in woke.orders if o.order_type is OrderType.MARKET}
        assert spy_held(trading) == held - half
        assert working_stops(trading) == [(held - half, price)], woke.notes
        assert (
            f"SPY: protective exit placed for {held - half:g} shares as soon as the order by "
            "hand ended, not at the next bar"
        ) in woke.notes
        assert LiveOrder.get(LiveOrder.client_order_id == sell).status == "filled"
        settle(sandbox, desk)
        assert working_stops(trading) == [(held - half, price)]  # one stop, never two
    finally:
        desk.broker.close()


class _Held(queue.Queue):  # type: ignore[type-arg]
    """A stream's queue of news that the desk finds empty: the news is on its way."""

    def get_nowait(self) -> Any:
        raise queue.Empty


def test_a_sell_by_hand_whose_fill_news_is_late_gets_its_stop_in_the_same_wake(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Half sold at market by hand and filled at once, but the trade-updates stream, still
    connected, has not brought the fill's news by the time the desk looks (held aside here:
    a loaded machine's stream thread a moment behind): the desk looks the ended sell up at
    the broker, records its fill and places the stop for the rest in that same wake; the news
    that comes after changes nothing (one fill, one stop). Before, the desk's fills still
    showed the whole position and the exit was left to the next bar (a day on daily bars):
    CI saw it on a loaded machine whose stream news came a moment after the sell's answer."""
    desk = buy_and_protect(sandbox, tmp_path / "desk.db", protected=open_stops, shock=1.0)
    try:
        [(_qty, price)] = working_stops(trading)
        held = spy_held(trading)
        half = float(int(held // 2))
        bars = desk.iteration
        feed = desk.broker.feed
        late, feed.events = feed.events, _Held()  # the stream's news held aside
        desk.request_manual_order(ManualOrder("SPY", Side.SELL, qty=half))
        woke = desk.apply_kill_requests()
        held_back, feed.events = feed.events, late  # it comes now, after the look
        assert not held_back.empty()  # (the fill's news came, late)
        while not held_back.empty():
            late.put(queue.Queue.get_nowait(held_back))
        assert woke is not None and desk.iteration == bars
        [sell] = {o.client_order_id for o in woke.orders if o.order_type is OrderType.MARKET}
        assert spy_held(trading) == held - half
        assert working_stops(trading) == [(held - half, price)]
        assert LiveOrder.get(LiveOrder.client_order_id == sell).status == "filled"
        assert not desk.follows_hand  # nothing left to look at between bars
        settle(sandbox, desk)
        row = LiveOrder.get(LiveOrder.client_order_id == sell)
        assert sum(f.quantity for f in LiveFill.select().where(LiveFill.order == row)) == half
        assert working_stops(trading) == [(held - half, price)]
    finally:
        desk.broker.close()


def test_a_limit_sell_by_hand_filled_at_a_later_look_leaves_one_stop_for_the_rest(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Half the position offered by hand just above the market: it works (no stop beside it
    yet: a wake changes nothing); the market rises through it and it fills at the broker;
    the desk's next look between bars (the runner's, no bar) finds it filled and one stop
    covers the shares left, at the same price."""
    desk = buy_and_protect(sandbox, tmp_path / "desk.db", protected=open_stops, shock=1.0)
    try:
        [(_qty, price)] = working_stops(trading)
        held = spy_held(trading)
        half = float(int(held // 2))
        last = float(sandbox.admin.state()["prices"]["SPY"])
        desk.request_manual_order(
            ManualOrder(
                "SPY",
                Side.SELL,
                qty=half,
                order_type=OrderType.LIMIT,
                limit_price=round(last * 1.002, 2),
                time_in_force=TimeInForce.GTC,
            )
        )
        report = desk.apply_kill_requests()
        assert report is not None
        [sell] = [o for o in report.orders if o.order_type is OrderType.LIMIT]
        assert sell.status.is_open
        bars = desk.iteration
        assert working_stops(trading) == []
        assert desk.apply_kill_requests() is None  # it works: nothing changes yet
        sandbox.admin.step(shock={"SPY": 2.0})  # the market rises through the limit
        wait_until(lambda: spy_held(trading) == held - half, what="the sell to fill")
        woke = desk.apply_kill_requests()
        assert desk.iteration == bars
        assert working_stops(trading) == [(held - half, price)]
        assert woke is not None
        settle(sandbox, desk)
        assert LiveOrder.get(LiveOrder.client_order_id == sell.client_order_id).status == "filled"
        assert working_stops(trading) == [(held - half, price)]
    finally:
        desk.broker.close()


def test_a_sell_by_hand_that_ends_unfilled_between_bars_puts_the_stop_back(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """A limit sell by hand far above the market, between bars (the stop cancelled first),
    then cancelled at the broker (as a person would on Alpaca's site): the desk's next wake
    finds it ended unfilled and the stop for the whole position is back at its price."""
    desk = buy_and_protect(sandbox, tmp_path / "desk.db", protected=open_stops, shock=1.0)
    try:
        [(qty, price)] = working_stops(trading)
        held = spy_held(trading)
        last = float(sandbox.admin.state()["prices"]["SPY"])
        desk.request_manual_order(
            ManualOrder(
                "SPY",
                Side.SELL,
                qty=held,
                order_type=OrderType.LIMIT,
                limit_price=round(last * 1.5, 2),
                time_in_force=TimeInForce.GTC,
            )
        )
        report = desk.apply_kill_requests()
        assert report is not None
        [sell] = [o for o in report.orders if o.side is Side.SELL and o.status.is_open]
        assert working_stops(trading) == []
        bars = desk.iteration
        assert desk.apply_kill_requests() is None  # it works: nothing changes yet
        order = client(sandbox).get_order_by_client_id(sell.client_order_id)
        client(sandbox).cancel_order_by_id(order.id)
        wait_until(
            lambda: (
                client(sandbox).get_order_by_client_id(sell.client_order_id).status.value
                == "canceled"
            ),
            what="the cancel at the broker",
        )
        woke = desk.apply_kill_requests()
        assert desk.iteration == bars
        assert working_stops(trading) == [(held, price)] and qty == held
        assert woke is not None
        assert spy_held(trading) == held
    finally:
        desk.broker.close()


def test_a_position_read_lagging_the_sell_gets_no_stop_larger_than_the_position(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """Half sold at market by hand and filled at once, but the desk's reads of the positions
    still show the shares sold (Alpaca's read lagging the fill): no stop sized from that read
    goes out between bars (it would be larger than the position); the desk says the exit
    waits, and the next bar's cycles, which check the position, keep one stop, never larger
    than the position."""
    desk = buy_and_protect(sandbox, tmp_path / "desk.db", protected=open_stops, shock=1.0)
    try:
        assert len(working_stops(trading)) == 1
        held = spy_held(trading)
        half = float(int(held // 2))
        before = desk.broker.positions()
        monkeypatch.setattr(desk.broker, "positions", lambda: before)  # the read lags
        desk.request_manual_order(ManualOrder("SPY", Side.SELL, qty=half))
        woke = desk.apply_kill_requests()
        assert spy_held(trading) == held - half  # it filled at the broker
        assert working_stops(trading) == []  # no stop for the shares the read still shows
        assert woke is not None and any(
            n.startswith(f"SPY: the broker's position ({held:g}) does not show this desk's fills")
            for n in woke.notes
        ), woke.notes
        for _ in range(HAND_WAIT_LOOKS):  # looked at again between bars, a bounded time
            assert desk.follows_hand
            assert desk.apply_kill_requests() is None  # still lagging: nothing placed
        assert not desk.follows_hand  # left to the bar's cycle: no endless reads
        assert working_stops(trading) == []
        monkeypatch.undo()  # the read catches up; the next bar's cycle checks it
        for _ in range(3):  # (the strategy may buy back what was sold by hand meanwhile)
            sandbox.admin.step()
            desk.run_iteration()
            settle(sandbox, desk)
            stops = working_stops(trading)
            assert sum(q for q, _p in stops) <= spy_held(trading), "never larger"
            assert len(stops) <= 1  # one stop, at the average entry of what is held
        assert working_stops(trading), "the cycle protects the position again"
    finally:
        desk.broker.close()


def test_a_position_read_that_catches_up_between_bars_gets_the_stop_before_the_next_bar(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """Half sold at market by hand and filled at once; the desk's first read of the
    positions still shows the shares sold (no stop sized from it), the next look between
    bars reads the position as it is: the stop for the rest goes out then, no bar's cycle
    run. Before, the exit waited for the next bar whatever the read said meanwhile."""
    desk = buy_and_protect(sandbox, tmp_path / "desk.db", protected=open_stops, shock=1.0)
    try:
        [(_qty, price)] = working_stops(trading)
        held = spy_held(trading)
        half = float(int(held // 2))
        bars = desk.iteration
        before = desk.broker.positions()
        monkeypatch.setattr(desk.broker, "positions", lambda: before)  # the read lags
        desk.request_manual_order(ManualOrder("SPY", Side.SELL, qty=half))
        woke = desk.apply_kill_requests()
        assert woke is not None and working_stops(trading) == []
        assert desk.follows_hand  # the runner looks again in HAND_LOOK_S
        monkeypatch.undo()  # the read catches up
        looked = desk.apply_kill_requests()
        assert desk.iteration == bars
        assert working_stops(trading) == [(held - half, price)]
        assert (
            looked is not None
            and (
                f"SPY: protective exit placed for {held - half:g} shares as soon as the order by "
                "hand ended, not at the next bar"
            )
            in looked.notes
        )
        assert not desk.follows_hand
    finally:
        desk.broker.close()


def test_a_sell_by_hand_working_across_a_restart_is_still_followed_between_bars(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Half the position offered by hand above the market; the desk stops (its process gone)
    and starts again while the sell works: the start puts a stop beside it for the other
    half. The sell is then cancelled at the broker: the started desk's next wake, no bar run,
    puts the stop back for the whole position. Before, only the desk that sent a sell
    followed it: after a restart the shares it had held waited for the next bar's cycle
    without a stop (a day on daily bars)."""
    db = tmp_path / "desk.db"
    desk = buy_and_protect(sandbox, db, protected=open_stops, shock=1.0)
    try:
        held = spy_held(trading)
        half = float(int(held // 2))
        last = float(sandbox.admin.state()["prices"]["SPY"])
        sell = limit_sell(desk, sandbox, half, round(last * 1.5, 2))
    finally:
        desk.broker.close()
        database.obj.close()
    _process_ended(db)
    again = alpaca_session(sandbox, db, symbols=("SPY",), stop_loss=StopRule(pct=2.0))
    try:
        settle(sandbox, again)
        assert [q for q, _p in working_stops(trading)] == [held - half]
        assert again.follows_hand  # the runner looks it up between bars
        bars = again.iteration
        order = client(sandbox).get_order_by_client_id(sell)
        client(sandbox).cancel_order_by_id(order.id)
        wait_until(
            lambda: client(sandbox).get_order_by_client_id(sell).status.value == "canceled",
            what="the cancel at the broker",
        )
        woke = again.apply_kill_requests()
        assert again.iteration == bars
        assert [q for q, _p in working_stops(trading)] == [held], woke and woke.notes
        assert spy_held(trading) == held
    finally:
        again.broker.close()
        database.obj.close()


def test_a_buy_by_hand_between_bars_is_not_sold_at_market_on_the_last_bars_price(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """SPY held under its 2% stop; between bars the market jumps 10% (the desk has not seen
    a bar of it) and the trader buys as many again by hand at market: the new average entry
    puts the stop 2% below it, above the last bar's close the desk saw, but well below the
    market. Between bars the desk places that stop for the whole position; it sells nothing.
    Before, it judged the new stop against the last bar's close, found the price "already
    through the stop" and sold the whole position at market: an order nobody asked for."""
    room = RiskLimits(max_position_pct=50.0)  # (room for the buy by hand)
    desk = buy_and_protect(
        sandbox, tmp_path / "desk.db", protected=open_stops, shock=1.0, limits=room
    )
    try:
        held = spy_held(trading)
        seen = desk.last_prices["SPY"]
        sandbox.admin.step(shock={"SPY": 10.0})  # a bar the desk does not run a cycle on
        now = float(sandbox.admin.state()["prices"]["SPY"])
        assert now > seen * 1.05, (seen, now)
        bars = desk.iteration
        desk.request_manual_order(ManualOrder("SPY", Side.BUY, qty=held))
        woke = desk.apply_kill_requests()
        assert woke is not None and desk.iteration == bars
        settle(sandbox, desk)
        sells = [o for o in woke.orders if o.side is Side.SELL and o.order_type is OrderType.MARKET]
        assert sells == [], woke.notes
        assert spy_held(trading) == 2 * held
        [(qty, price)] = working_stops(trading)
        assert qty == 2 * held and seen < price < now, (seen, price, now)
    finally:
        desk.broker.close()
