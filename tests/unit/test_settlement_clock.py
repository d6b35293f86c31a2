"""An order in doubt keeps its symbol blocked for its whole window, even if the wall clock
jumps ahead meanwhile (an NTP step): declaring it ``not_received`` early would let the symbol
trade again while the first order may still be on its way (a duplicate)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tui_trader.core.orders import Order, OrderStatus, OrderType, Side
from tui_trader.engine.settlement import Unsettled

T0 = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=2)


class _Absent:
    """A broker that has never heard of any order."""

    def __init__(self) -> None:
        self.lookups = 0
        self.ended: list[Order] = []

    def get_order(self, client_order_id: str) -> Order | None:
        self.lookups += 1
        return None

    def adopt(self, order: Order) -> None:
        """Told of an order it will never have (``not_received``)."""
        self.ended.append(order)


def _order() -> Order:
    return Order("tt-k-1-SPY-r", "SPY", Side.BUY, 5, OrderType.MARKET, OrderStatus.UNKNOWN)


def test_a_wall_clock_jump_does_not_end_an_order_s_window_early() -> None:
    """Sent at T0; ten real seconds later the wall clock reads T0 + 5 min: the order is still
    in doubt and its symbol still blocked; once the window has really passed, two "absent"
    answers make it ``not_received``."""
    steady = [1000.0]
    unsettled = Unsettled(WINDOW, monotonic=lambda: steady[0])
    unsettled.add(_order(), T0, now=T0)
    broker = _Absent()
    steady[0] += 10.0
    settled = unsettled.check(broker, T0 + timedelta(minutes=5))  # type: ignore[arg-type]
    assert settled.orders == [] and len(unsettled) == 1
    assert unsettled.blocking("SPY") is not None
    steady[0] += WINDOW.total_seconds()
    settled = unsettled.check(broker, T0 + timedelta(minutes=7))  # type: ignore[arg-type]
    assert [o.status for o in settled.orders] == [OrderStatus.NOT_RECEIVED]
    assert unsettled.blocking("SPY") is None


def test_an_order_restored_long_after_it_was_written_settles_at_once() -> None:
    """An order an earlier run wrote an hour ago (restored at start) has no window left: two
    "absent" answers settle it at the first look-up, as before."""
    unsettled = Unsettled(WINDOW, monotonic=lambda: 1000.0)
    now = T0 + timedelta(hours=1)
    unsettled.add(_order(), T0, now=now)
    settled = unsettled.check(_Absent(), now)  # type: ignore[arg-type]
    assert [o.status for o in settled.orders] == [OrderStatus.NOT_RECEIVED]
