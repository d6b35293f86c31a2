"""The working-orders panel keeps its cursor on the order (and position) the trader selected.

The panel is redrawn whenever the desk changes, and the strategies' orders come and go every
bar. The cursor was kept by its row number: once an order above the selected one ended (a fill,
a cancel), the cursor stood on the next order down, and `x` (which asks nothing: cancelling
adds no risk) cancelled an order the trader had never selected: a resting GTC limit of their
own, or a protective stop. `c` likewise asked to close another symbol than the one picked.
"""

from __future__ import annotations

from datetime import UTC, datetime

from textual.widgets import DataTable
from tui_helpers import wait_for

from tui_trader.core.domain import IterationReport, Position, TradingState
from tui_trader.core.orders import Order, OrderStatus, OrderType, Side, TimeInForce
from tui_trader.tui.app import make_app
from tui_trader.tui.messages import SessionReport, SessionStarted
from tui_trader.tui.screens.working import WorkingOrdersScreen
from tui_trader.tui.state import SessionInfo

INFO = SessionInfo("k1", "local", "local paper broker", ("SPY", "QQQ", "IWM"), 1e5, 5, 2, 100)
WHEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
IWM_BUY = Order("c-iwm", "IWM", Side.BUY, 8, OrderType.MARKET, OrderStatus.NEW)
SPY_LIMIT = Order(
    "c-spy", "SPY", Side.BUY, 5, OrderType.LIMIT, OrderStatus.NEW, 400.0, TimeInForce.GTC
)
QQQ_SELL = Order("c-qqq", "QQQ", Side.SELL, 3, OrderType.MARKET, OrderStatus.NEW)
HELD = (Position("IWM", 20, 200.0, 201.0), Position("QQQ", 4, 500.0, 501.0))


def _report(iteration: int, orders: tuple[Order, ...], positions=HELD) -> IterationReport:
    """One bar's report carrying ``orders`` (their statuses say which still work)."""
    return IterationReport(
        iteration,
        WHEN,
        90_000.0,
        100_000.0,
        90_000.0,
        0,
        len(orders),
        0,
        TradingState.ACTIVE,
        0.0,
        0.0,
        positions=positions,
        orders=orders,
    )


def _filled(order: Order) -> Order:
    """``order`` as its fill reports it: no longer working."""
    return Order(
        order.client_order_id,
        order.symbol,
        order.side,
        order.qty,
        order.order_type,
        OrderStatus.FILLED,
        filled_qty=order.qty,
        filled_avg_price=200.0,
    )


def _selected(screen: WorkingOrdersScreen, table_id: str) -> str:
    """The key of the row under the cursor of one of the panel's tables."""
    table = screen.query_one(table_id, DataTable)
    return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)


async def test_x_cancels_the_order_selected_after_an_order_above_it_filled(db_path, frozen) -> None:
    """Three working orders, the cursor on the SPY limit (the second row); the IWM order above
    it fills: the cursor stays on the SPY limit and `x` cancels it, not the QQQ sell that took
    its row number."""
    app = make_app(db_path, clock=frozen)
    cancelled: list[str] = []
    app.cancel_working_order = cancelled.append  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        app.post_message(SessionStarted(INFO))
        app.post_message(SessionReport(_report(1, (IWM_BUY, SPY_LIMIT, QQQ_SELL))))
        await wait_for(pilot, lambda: len(app.desk.working) == 3, "three working orders")
        screen = WorkingOrdersScreen()
        await app.push_screen(screen)
        table = screen.query_one("#working-orders", DataTable)
        await wait_for(pilot, lambda: table.row_count == 3, "the orders' rows")
        table.move_cursor(row=1)
        assert _selected(screen, "#working-orders") == "c-spy"
        app.post_message(SessionReport(_report(2, (_filled(IWM_BUY),))))
        await wait_for(pilot, lambda: table.row_count == 2, "the filled order gone")
        assert _selected(screen, "#working-orders") == "c-spy"
        await pilot.press("x")
        assert cancelled == ["c-spy"]


async def test_c_asks_to_close_the_position_selected_after_one_above_it_closed(
    db_path, frozen
) -> None:
    """The cursor on QQQ (the second position); IWM is closed: `c` asks about QQQ, where the
    row number now held nothing (and with a third position, another symbol)."""
    app = make_app(db_path, clock=frozen)
    asked: list[str | None] = []
    app.close_position = asked.append  # type: ignore[method-assign]
    three = (*HELD, Position("SPY", 2, 500.0, 501.0))
    async with app.run_test(size=(120, 36)) as pilot:
        app.post_message(SessionStarted(INFO))
        app.post_message(SessionReport(_report(1, (), three)))
        await wait_for(pilot, lambda: app.desk.latest is not None, "the first report")
        screen = WorkingOrdersScreen()
        await app.push_screen(screen)
        table = screen.query_one("#working-positions", DataTable)
        await wait_for(pilot, lambda: table.row_count == 3, "the positions' rows")
        table.move_cursor(row=1)
        assert _selected(screen, "#working-positions") == "QQQ"
        app.post_message(SessionReport(_report(2, (), three[1:])))
        await wait_for(pilot, lambda: table.row_count == 2, "the closed position gone")
        assert _selected(screen, "#working-positions") == "QQQ"
        await pilot.press("c")
        assert asked == ["QQQ"]
