"""The working-orders panel: its cursor stays on the order (and position) the trader selected,
and it shows what each order is, protective stops' prices included.

The panel is redrawn whenever the desk changes, and the strategies' orders come and go every
bar. The cursor was kept by its row number: once an order above the selected one ended (a fill,
a cancel), the cursor stood on the next order down, and `x` (which asks nothing: cancelling
adds no risk) cancelled an order the trader had never selected: a resting GTC limit of their
own, or a protective stop. `c` likewise asked to close another symbol than the one picked.

After a key the tests wait for the app to have handled it, then check what it did: the pilot's
``press`` returns once the process looks idle (its CPU time barely moving), which on a loaded
machine a process starved of CPU also looks; ``x`` was then still queued when the test checked
which order it had cancelled, right after a question closed (30 of 50 runs with 4 copies of this
file and 6 busy loops on 2 cores, load 15-17; none of 300 since it waits). A question is
answered once its buttons are there (``asking``): a ``ConfirmScreen`` is the screen as soon as
it is pushed, and a click on ``#yes`` before its buttons were mounted found none (1 of 9 runs,
3 copies at load ~20).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from textual.widgets import DataTable
from tui_helpers import asking, wait_for

from tui_trader.core.domain import IterationReport, Position, TradingState
from tui_trader.core.orders import Order, OrderClass, OrderStatus, OrderType, Side, TimeInForce
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


async def _panel(app, pilot, orders: tuple[Order, ...]) -> tuple[WorkingOrdersScreen, DataTable]:
    """The desk told of a session and of ``orders`` working, its working-orders panel open
    with a row for each: the panel and its orders' table."""
    app.post_message(SessionStarted(INFO))
    app.post_message(SessionReport(_report(1, orders)))
    await wait_for(pilot, lambda: len(app.desk.working) == len(orders), "the working orders")
    screen = WorkingOrdersScreen()
    await app.push_screen(screen)
    table = screen.query_one("#working-orders", DataTable)
    await wait_for(pilot, lambda: table.row_count == len(orders), "the orders' rows")
    return screen, table


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
        screen, table = await _panel(app, pilot, (IWM_BUY, SPY_LIMIT, QQQ_SELL))
        table.move_cursor(row=1)
        assert _selected(screen, "#working-orders") == "c-spy"
        app.post_message(SessionReport(_report(2, (_filled(IWM_BUY),))))
        await wait_for(pilot, lambda: table.row_count == 2, "the filled order gone")
        assert _selected(screen, "#working-orders") == "c-spy"
        await pilot.press("x")
        await wait_for(pilot, lambda: bool(cancelled), "the x handled")
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
        await wait_for(pilot, lambda: bool(asked), "the c handled")
        assert asked == ["QQQ"]


def _cells(table: DataTable, key: str) -> dict[str, str]:
    """One row of the orders table, by column label, as the trader reads it."""
    row = table.get_row(key)
    labels = [str(column.label) for column in table.ordered_columns]
    return {label: str(cell).strip() for label, cell in zip(labels, row, strict=True)}


async def test_the_panel_shows_the_stop_price_of_a_stop_and_of_an_oco_exit(db_path, frozen) -> None:
    """A protective stop and a stop-loss/take-profit OCO pair, at 80x24: each row shows its
    stop price, and the pair is called one. Before, the stop read `stop —` and the pair
    `limit 423.83`: the stop that protects the position was nowhere on the panel."""
    stop = Order(
        "c-stop", "IWM", Side.SELL, 20, OrderType.STOP, OrderStatus.NEW, None, TimeInForce.GTC
    )
    stop = replace(stop, stop_price=186.66)
    oco = Order(
        "c-oco", "QQQ", Side.SELL, 4, OrderType.LIMIT, OrderStatus.NEW, 423.83, TimeInForce.GTC
    )
    oco = replace(oco, stop_price=414.87, order_class=OrderClass.OCO)
    app = make_app(db_path, clock=frozen)
    async with app.run_test(size=(80, 24)) as pilot:
        _screen, table = await _panel(app, pilot, (stop, oco))
        shown = _cells(table, "c-stop")
        assert (shown["Type"], shown["Stop"], shown["Limit"]) == ("stop", "186.66", "—")
        shown = _cells(table, "c-oco")
        assert (shown["Type"], shown["Stop"], shown["Limit"]) == ("oco", "414.87", "423.83")
        # every column up to the filled quantity is inside the 80-column panel
        filled = sum(c.get_render_width(table) for c in table.ordered_columns[:9])
        assert filled <= table.scrollable_content_region.width


async def test_x_after_the_selected_order_ended_cancels_nothing_until_pressed_again(
    db_path, frozen
) -> None:
    """The cursor on the SPY limit; it fills just before the trader presses `x`: the cursor
    lands on the QQQ sell below it, and that `x` cancels nothing: the panel says the order
    selected has ended and names the one the cursor is on now. A second `x`, the trader having
    seen it, cancels the QQQ sell. Before, that first `x` cancelled the QQQ sell, an order the
    trader had never selected (with a protective stop below, the position's stop)."""
    app = make_app(db_path, clock=frozen)
    cancelled: list[str] = []
    app.cancel_working_order = cancelled.append  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        screen, table = await _panel(app, pilot, (IWM_BUY, SPY_LIMIT, QQQ_SELL))
        table.move_cursor(row=1)
        assert _selected(screen, "#working-orders") == "c-spy"
        app.post_message(SessionReport(_report(2, (_filled(SPY_LIMIT),))))
        await wait_for(pilot, lambda: table.row_count == 2, "the filled order gone")
        assert _selected(screen, "#working-orders") == "c-qqq"  # the nearest row
        await pilot.press("x")
        await wait_for(pilot, lambda: bool(app._notifications), "the x handled")
        assert cancelled == []
        [said] = [n.message for n in app._notifications]
        assert "SPY" in said and "ended" in said and "QQQ" in said and "x again" in said
        await pilot.press("x")
        await wait_for(pilot, lambda: bool(cancelled), "the second x handled")
        assert cancelled == ["c-qqq"]


async def test_x_on_a_row_the_trader_moved_to_after_an_order_ended_cancels_it(
    db_path, frozen
) -> None:
    """The selected order ended and the cursor landed on the QQQ sell; the trader moves it up
    to the IWM buy and presses `x`: that order, selected by the trader, is cancelled at once."""
    app = make_app(db_path, clock=frozen)
    cancelled: list[str] = []
    app.cancel_working_order = cancelled.append  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        screen, table = await _panel(app, pilot, (IWM_BUY, SPY_LIMIT, QQQ_SELL))
        table.move_cursor(row=1)
        app.post_message(SessionReport(_report(2, (_filled(SPY_LIMIT),))))
        await wait_for(pilot, lambda: table.row_count == 2, "the filled order gone")
        table.focus()
        await pilot.press("up")
        await wait_for(pilot, lambda: _selected(screen, "#working-orders") == "c-iwm", "the up")
        await pilot.press("x")
        await wait_for(pilot, lambda: bool(cancelled), "the x handled")
        assert cancelled == ["c-iwm"]


async def test_x_on_the_desks_protective_stop_asks_first(db_path, frozen) -> None:
    """`x` on the stop that protects 20 IWM asks before cancelling it (the position is left
    without a stop until the desk's next bar); Enter or Escape keeps it, "Cancel it" cancels
    it. Any other order is cancelled at once, as before."""
    stop = Order(
        "tt-k1a2b3c4-7-ps1",
        "IWM",
        Side.SELL,
        20,
        OrderType.STOP,
        OrderStatus.NEW,
        None,
        TimeInForce.GTC,
    )
    stop = replace(stop, stop_price=186.66)
    app = make_app(db_path, clock=frozen)
    cancelled: list[str] = []
    app.cancel_working_order = cancelled.append  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        screen, table = await _panel(app, pilot, (stop, SPY_LIMIT))
        table.move_cursor(row=0)
        assert _selected(screen, "#working-orders") == stop.client_order_id
        for key in ("enter", "escape"):  # the safe answer is the default
            await pilot.press("x")
            await wait_for(pilot, lambda: asking(app), "the question, its buttons ready")
            assert "no stop until the desk places it again" in str(app.screen.question)
            assert "186.66" in str(app.screen.question)
            await pilot.press(key)
            await wait_for(pilot, lambda: app.screen is screen, "back on the panel")
            assert cancelled == []
        await pilot.press("x")
        await wait_for(pilot, lambda: asking(app), "the question, its buttons ready")
        await pilot.click("#yes")
        await wait_for(pilot, lambda: cancelled == [stop.client_order_id], "the cancel")
        table.move_cursor(row=1)
        await pilot.press("x")  # the SPY limit: no question
        await wait_for(pilot, lambda: len(cancelled) == 2, "the x handled")
        assert app.screen is screen and cancelled == [stop.client_order_id, "c-spy"]
