"""A fill another desk recorded that reaches this desk after its sale of those very shares is
not booked twice in this desk's round-trip ledger.

Desk E (ended) bought 20 SPY; desks A and B follow its order, and A records the fill. B's
stream is behind: B first sells the 20 the broker holds (a halt's flatten, a stop it keeps),
and the ledger, which held none of them, takes them from the broker's position before the
sale (``LedgerBeside``: a round trip, not a phantom short). Then E's fill reaches B, refused
(A recorded it) and accounted for as another desk's (``RecordedElsewhere._take_recorded``).
Before (review30b), that booked the same 20 shares a second time: B's ledger held 20 SPY the
broker did not, and B's next own round trip in SPY closed those phantom shares instead of its
own (``tui-trader report``, the history and the desk's realized PnL showed a made-up profit).
Now the late fill takes the same top-up as a fill this desk records itself: the ledger ends
where the broker is.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import make_session
from tui_trader.core.domain import Position
from tui_trader.core.order_ids import make_order_id
from tui_trader.core.orders import Fill, Order, OrderRequest, OrderStatus, OrderUpdate, Side
from tui_trader.engine.session import TradingSession

T0 = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def _row(desk: TradingSession, iteration: int, side: Side, qty: float) -> OrderRequest:
    """An order of ``desk``'s, its row written as before sending."""
    key = desk.audit.session.key if desk.audit.session else "none"
    cid = make_order_id(key, iteration, "SPY", "entry" if side is Side.BUY else "exit")
    request = OrderRequest("SPY", side, qty, cid)
    desk.audit.order_pending(request, iteration, T0)
    return request


def _filled(request: OrderRequest, price: float, at: datetime) -> OrderUpdate:
    """The broker's word: ``request`` filled whole at ``price``."""
    order = Order.from_request(request, OrderStatus.FILLED, "")
    order = replace(order, filled_qty=request.qty, filled_avg_price=price, broker_order_id="b")
    fill = Fill(request.client_order_id, "SPY", request.side, request.qty, price, at)
    return OrderUpdate(order, fill, "fill")


def _held_by_broker(desk: TradingSession, monkeypatch: pytest.MonkeyPatch, qty: float) -> None:
    """What the broker says ``desk``'s account holds of SPY now (entry 100)."""
    held = {"SPY": Position("SPY", qty, 100.0, 100.0)} if qty else {}
    monkeypatch.setattr(desk.broker, "positions", lambda: dict(held))


def test_a_late_fill_another_desk_recorded_is_not_booked_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "desk.db"
    ended, recorder, desk = (make_session(db) for _ in "EAB")
    buy = _row(ended, 1, Side.BUY, 20)
    ended.finish("stopped")
    bought = _filled(buy, 100.0, T0)
    recorder._apply_updates([bought])  # desk A records E's fill
    desk.last_positions = {"SPY": Position("SPY", 20, 100.0, 100.0)}  # B reads the account
    assert desk.ledger.held("SPY") == 0

    sale = _row(desk, 2, Side.SELL, 20)
    _held_by_broker(desk, monkeypatch, 0)  # B's sale of the 20: flat
    desk._apply_updates([_filled(sale, 105.0, T0 + timedelta(minutes=1))])
    assert desk.ledger.held("SPY") == 0
    assert desk.realized_pnl == pytest.approx(100.0)  # 20 x (105 - 100)

    desk._apply_updates([bought])  # E's fill reaches B late, refused: A recorded it
    assert desk.ledger.held("SPY") == 0, "the 20 shares were booked twice in B's ledger"

    again = _row(desk, 3, Side.BUY, 5)  # B's own round trip: its own prices, nothing else
    _held_by_broker(desk, monkeypatch, 5)
    desk._apply_updates([_filled(again, 110.0, T0 + timedelta(minutes=2))])
    out = _row(desk, 4, Side.SELL, 5)
    _held_by_broker(desk, monkeypatch, 0)
    desk._apply_updates([_filled(out, 112.0, T0 + timedelta(minutes=3))])
    assert desk.ledger.held("SPY") == 0
    assert desk.realized_pnl == pytest.approx(100.0 + 10.0)
