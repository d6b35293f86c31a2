"""A fill of an order the start left in doubt is booked once in the desk's round trips.

A desk's start seeds its trade ledger (round trips, realized PnL) from the broker's positions
and leaves in doubt an ended desk's order the broker does not find yet (``engine.settlement``);
its cycles find it later. Two ways the ledger went wrong (``leftovers29``'s probe, ``ledger29``):

- the order had filled before the start read the positions (they hold its shares): the desk
  recorded the fill and booked it again, 40 shares in the ledger against 20 at the broker. The
  phantom lot stayed open: the desk's next round trip in the symbol was booked at an entry
  price averaged with it, its realized PnL wrong in ``tui-trader report`` and the history;
- the order filled after the start read the positions and another desk recorded the fill first
  (``fills28``: not recorded twice): this desk never booked it, its ledger one lot short, and
  selling what the broker held booked a round trip that short (the rest a phantom short).

Now the desk squares the symbol's ledger with the broker's position, read when such a fill is
found: it books the fill from what was held before it, or, recorded by another desk, starts
from what the broker holds.

The same shortfall came by the stream: an ended desk's order still working, which every desk
started since follows (``test_followed_fill_once``), its rest recorded by the desk that heard
of it first (``review29a``); the other desk's ledger kept the half its start saw. Its ledger
now takes such a fill (the round trip it closes stays the recording desk's row).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session, filled_by_order, settle
from tests.integration.ended_stop import RALLY
from tests.integration.test_followed_fill_once import LATER
from tests.integration.test_unsettled_fill_once import MOMENTUM, _ended_desks_filled_buy
from tui_trader.brokers import BrokerError
from tui_trader.brokers.alpaca import AlpacaBroker
from tui_trader.core.domain import Position
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveFill, LiveOrder, LiveTrade


def _by_hand(sandbox: SandboxHandle, desk: TradingSession, side: Side, qty: float) -> float:
    """A market order by hand between bars, filled and recorded; its fill price."""
    before = {f.id for f in LiveFill.select()}
    desk.request_manual_order(ManualOrder("SPY", side, qty=qty))
    desk.apply_kill_requests()
    settle(sandbox, desk)
    [price] = [float(f.price) for f in LiveFill.select() if f.id not in before]
    return price


def _before(read: Callable[..., dict[str, Position]], bought: float) -> Any:
    """The broker's positions as read before the ended desk's buy of ``bought`` SPY filled."""

    def positions(self: AlpacaBroker) -> dict[str, Position]:
        held = read(self)
        spy = held.pop("SPY", None)
        if spy is not None and spy.qty - bought > 1e-9:
            held["SPY"] = replace(spy, qty=spy.qty - bought)
        return held

    return positions


def _round_trips(desk: TradingSession) -> list[tuple[str, float, float]]:
    """The desk's round trips as the report lists them: side, quantity, entry price."""
    session = desk.audit.session
    assert session is not None
    rows = LiveTrade.select().where(LiveTrade.session == session.id).order_by(LiveTrade.id)
    return [(r.side, float(r.quantity), float(r.entry_price)) for r in rows]


@pytest.mark.parametrize("other_desk", [False, True], ids=["alone", "another-desk-records-it"])
def test_a_fill_found_after_the_start_is_booked_once(
    sandbox: SandboxHandle,
    trading: Any,
    store: Any,
    monkeypatch: pytest.MonkeyPatch,
    other_desk: bool,
) -> None:
    """The ended desk's buy has filled; desk A's start does not find it. Alone: desk A finds
    and records it between bars. Another desk: desk A's start read the positions before the
    buy filled (the broker took it a moment later), and desk B's start records it first.
    Either way desk A's round trips hold what the broker held: selling it by hand books that
    many shares, and a later buy and sell by hand books a round trip entered at the later
    buy's own price."""
    db: Any = store
    buy, filled = _ended_desks_filled_buy(sandbox, trading, db)
    found, read = AlpacaBroker.get_order, AlpacaBroker.positions
    monkeypatch.setattr(
        AlpacaBroker, "get_order", lambda self, cid: None if cid == buy else found(self, cid)
    )
    if other_desk:  # desk A's start reads the positions before the buy fills
        monkeypatch.setattr(AlpacaBroker, "positions", _before(read, filled))
    desk_a = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    monkeypatch.setattr(AlpacaBroker, "get_order", found)
    monkeypatch.setattr(AlpacaBroker, "positions", read)
    try:
        assert desk_a.unsettled  # the start left the buy in doubt
        if other_desk:
            desk_b = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
            desk_b.finish("stopped")
            desk_b.broker.close()
            assert filled_by_order().get(buy)  # desk B's start recorded the fill
        desk_a.sync_orders()  # between bars: the buy is looked up again, found filled
        assert not desk_a.unsettled
        settle(sandbox, desk_a)
        held = desk_a.broker.positions()["SPY"].qty
        assert held > 0
        _by_hand(sandbox, desk_a, Side.SELL, held)
        assert "SPY" not in desk_a.broker.positions()
        sold = _round_trips(desk_a)
        assert [(side, qty) for side, qty, _ in sold] == [("buy", held)], sold
        sandbox.admin.step()
        price = _by_hand(sandbox, desk_a, Side.BUY, 5)
        _by_hand(sandbox, desk_a, Side.SELL, 5)
        later = _round_trips(desk_a)[len(sold) :]
        assert later == [("buy", 5.0, pytest.approx(price))], later
    finally:
        desk_a.finish("stopped")
        desk_a.broker.close()


def test_a_fill_found_while_the_positions_do_not_answer_is_recorded_all_the_same(
    sandbox: SandboxHandle, trading: Any, store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The positions read that squares the ledger fails (the broker does not answer it): the
    order found filled is still recorded with its fill, and no longer in doubt (the fill is
    booked as found: the ledger only makes the realized PnL shown)."""
    db: Any = store
    buy, filled = _ended_desks_filled_buy(sandbox, trading, db)
    found, read = AlpacaBroker.get_order, AlpacaBroker.positions
    monkeypatch.setattr(
        AlpacaBroker, "get_order", lambda self, cid: None if cid == buy else found(self, cid)
    )
    desk_a = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    monkeypatch.setattr(AlpacaBroker, "get_order", found)

    def silent(self: AlpacaBroker) -> dict[str, Position]:
        raise BrokerError("positions: no answer")

    try:
        monkeypatch.setattr(AlpacaBroker, "positions", silent)
        desk_a.sync_orders()
        monkeypatch.setattr(AlpacaBroker, "positions", read)
        assert not desk_a.unsettled
        assert filled_by_order().get(buy) == filled
    finally:
        desk_a.finish("stopped")
        desk_a.broker.close()


def test_the_rest_of_a_followed_order_another_desk_recorded_is_in_the_ledger(
    sandbox: SandboxHandle, trading: Any, store: Any
) -> None:
    """Desk one's buy fills half and desk one stops; desks A and B start and both follow it
    (``test_followed_fill_once``); its rest fills and desk A records it. Desk B sells what the
    broker holds by hand: its round trip is of every share, not of the half its start saw."""
    db: Any = store
    sandbox.admin.set_faults(partial_rate=1.0, partial_bars=LATER)
    one = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    for _ in range(12):
        sandbox.admin.step(shock=RALLY)
        one.run_iteration()
        one.sync_orders()
        if [o for o in LiveOrder.select() if o.status == "partially_filled"]:
            break
    one.finish("stopped")
    one.broker.close()
    [buy] = [o.client_order_id for o in LiveOrder.select() if o.status == "partially_filled"]
    desks = [alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM) for _ in "AB"]
    try:
        for _ in range(LATER + 2):
            sandbox.admin.step()
            for desk in desks:
                desk.run_iteration()
                desk.sync_orders()
        sandbox.admin.set_faults(partial_rate=0.0)
        desk_b = desks[1]
        held = desk_b.broker.positions()["SPY"].qty
        assert filled_by_order().get(buy) == held  # the whole buy, recorded once
        _by_hand(sandbox, desk_b, Side.SELL, held)
        sold = _round_trips(desk_b)
        assert [(side, qty) for side, qty, _ in sold] == [("buy", held)], sold
    finally:
        for desk in desks:
            desk.finish("stopped")
            desk.broker.close()
