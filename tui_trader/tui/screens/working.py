"""Working orders and positions, with the hand controls: cancel one order, close one position,
flatten everything.

The panel reads the app's ``DeskState`` (redrawn by the app's tick while it is open) and asks the
app to act; the session does the work on its own thread, through the risk gate and the audit
trail, and the outcome comes back in the orders and risk-event logs.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static
from textual.widgets.data_table import RowDoesNotExist

from tui_trader.core.orders import Order, OrderClass
from tui_trader.risk.stops import is_protective
from tui_trader.tui.screens.confirm import ConfirmScreen
from tui_trader.tui.state import DeskState, countdown
from tui_trader.tui.widgets.cells import num, price_cell, signed_cell
from tui_trader.tui.widgets.desk_footer import DeskFooter

ORDER_COLUMNS = (
    ("Symbol", 6),
    ("Side", 4),
    ("Qty", 6),
    ("Type", 7),
    ("Limit", 9),
    ("Stop", 9),
    ("TIF", 3),
    ("Status", 8),
    ("Filled", 6),
    ("Age", 5),
)
"""Up to the filled quantity within an 80-column panel; the age beside it on a wider one."""
STATUS_WORDS = {"pending_new": "pending", "partially_filled": "partial"}
"""Statuses shortened to fit an 80-column panel."""
TYPE_WORDS = {"stop_limit": "stp lmt", "trailing_stop": "trail"}
"""Order types shortened to fit the panel (an OCO exit pair is called ``oco``)."""
POSITION_COLUMNS = (("Symbol", 6), ("Qty", 7), ("Last", 9), ("Unrl PnL", 10))


def _order_type(order: Order) -> str:
    """The order's type in the panel's words: an OCO exit is one pair, take-profit limit and
    stop (its stop in the Stop column); before, it read as a plain limit and the stop that
    protects the position was nowhere on the panel."""
    if order.order_class is OrderClass.OCO:
        return "oco"
    return TYPE_WORDS.get(str(order.order_type), str(order.order_type))


def _put_cursor_back(table: DataTable, row: int, key: str | None) -> bool:
    """After a redraw, the cursor on the row it was on: the same order (or position) wherever
    its row moved, else (it ended) the row nearest to where it stood. Whether it is on
    another row than the one selected (that one ended).

    Kept by row number, the cursor slid onto the next order down once an order above it ended,
    and ``x``, which asks nothing, cancelled an order the trader had never selected."""
    if table.row_count == 0:
        return False
    moved = False
    try:
        row = table.get_row_index(key) if key is not None else row
    except RowDoesNotExist:  # the order ended: the nearest row
        moved = True
    table.move_cursor(row=min(row, table.row_count - 1))
    return moved


class WorkingOrdersScreen(ModalScreen[None]):
    """Working orders (cancel), positions (close one), flatten all."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="working-close", tooltip="Back to the dashboard"),
        Binding(
            "x",
            "cancel_order",
            "Cancel order",
            id="working-cancel-order",
            tooltip="Cancel the selected working order",
        ),
        Binding(
            "c",
            "close_position",
            "Close position",
            id="working-close-position",
            tooltip="Close the selected position at market (asks first)",
        ),
        Binding(
            "f",
            "flatten",
            "Flatten all",
            id="working-flatten",
            tooltip="Cancel every working order and close every position (asks first)",
        ),
    ]

    def __init__(self) -> None:
        """Nothing drawn yet."""
        super().__init__(classes="dialog")
        self._drawn = -1
        self._landed: tuple[str, str] | None = None
        """The order the cursor landed on after the one selected ended, and that one's
        words: ``x`` on it asks to be pressed again (the trader never selected it)."""

    def compose(self) -> ComposeResult:
        """Orders table over positions table, a hint line, the footer."""
        with Vertical(id="working-body"):
            yield Static("Working orders and positions", classes="dialog-title")
            yield Label("Working orders  (x cancels the selected one)", classes="panel-title")
            yield DataTable(id="working-orders", cursor_type="row", zebra_stripes=True)
            yield Label(
                "Positions  (c closes the selected one, f flattens all)", classes="panel-title"
            )
            yield DataTable(id="working-positions", cursor_type="row")
            yield Static("", id="working-status")
        yield DeskFooter()

    def on_mount(self) -> None:
        """Fixed column widths, then the first draw."""
        orders = self.query_one("#working-orders", DataTable)
        for label, width in ORDER_COLUMNS:
            orders.add_column(label, width=width, key=label)
        positions = self.query_one("#working-positions", DataTable)
        for label, width in POSITION_COLUMNS:
            positions.add_column(label, width=width, key=label)
        self.refresh_desk(self.app.desk, None)  # type: ignore[attr-defined]

    def refresh_desk(self, desk: DeskState, now: datetime | None) -> None:
        """Redraw from the desk when it changed (the app's tick calls this)."""
        if desk.version == self._drawn:
            return
        self._drawn = desk.version
        latest = desk.latest
        clock_now = now or self.app.clock.now()  # type: ignore[attr-defined]
        orders = self.query_one("#working-orders", DataTable)
        keep = orders.cursor_row, self._selected("#working-orders")
        gone = self._words(orders, keep[1])
        orders.clear()
        for cid, working in desk.working.items():
            o = working.order
            age = countdown((clock_now - working.since).total_seconds())
            orders.add_row(
                Text(o.symbol, style="bold"),
                Text(str(o.side), style="green" if o.side == "buy" else "red"),
                num(o.qty, "g"),
                Text(_order_type(o)),
                price_cell(o.limit_price) if o.limit_price else Text("—", justify="right"),
                price_cell(o.stop_price) if o.stop_price else Text("—", justify="right"),
                Text(str(o.time_in_force)),
                Text(STATUS_WORDS.get(str(o.status), str(o.status))),
                num(o.filled_qty, "g"),
                Text(age, justify="right"),
                key=cid,
            )
        if _put_cursor_back(orders, *keep) and keep[1] is not None:
            self._landed = (self._selected("#working-orders") or "", gone)
        elif self._landed is not None and self._landed[0] != keep[1]:
            self._landed = None  # the trader moved the cursor since: their own choice
        positions = self.query_one("#working-positions", DataTable)
        keep = positions.cursor_row, self._selected("#working-positions")
        positions.clear()
        held = latest.positions if latest else ()
        for p in held:
            positions.add_row(
                Text(p.symbol, style="bold"),
                num(p.qty, "g"),
                price_cell(p.last_price),
                signed_cell(p.unrealized_pnl),
                key=p.symbol,
            )
        _put_cursor_back(positions, *keep)
        self.query_one("#working-status", Static).update(
            f"{len(desk.working)} working order(s), {len(held)} position(s)"
        )

    def _selected(self, table_id: str) -> str | None:
        """The key of the selected row of a table, if it has rows."""
        table = self.query_one(table_id, DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(key) if key is not None else None

    @staticmethod
    def _words(table: DataTable, key: str | None) -> str:
        """An order's row in a few words (symbol, side, quantity), '' without one."""
        if key is None:
            return ""
        try:
            cells = table.get_row(key)
        except RowDoesNotExist:
            return ""
        return " ".join(str(cell).strip() for cell in cells[:3])

    def action_cancel_order(self) -> None:
        """Cancel the selected working order; not one the cursor landed on because the order
        selected ended meanwhile: that one is named, and a second ``x`` cancels it."""
        cid = self._selected("#working-orders")
        if cid is None:
            self.notify("No working order to cancel.", severity="warning")
            return
        landed, self._landed = self._landed, None
        if landed is not None and landed[0] == cid:
            table = self.query_one("#working-orders", DataTable)
            self.notify(
                f"The order you selected ({landed[1] or 'gone'}) has ended; the cursor is now "
                f"on {self._words(table, cid)}. Press x again to cancel that one.",
                severity="warning",
            )
            return
        working = self.app.desk.working.get(cid)  # type: ignore[attr-defined]
        if working is not None and is_protective(cid, working.order.order_type):
            self._ask_to_cancel_exit(working.order)
            return
        self.app.cancel_working_order(cid)  # type: ignore[attr-defined]

    def _ask_to_cancel_exit(self, order: Order) -> None:
        """Cancel one of the desk's protective exits only once the trader says so: unlike any
        other order's, its cancel leaves a position without its stop (until the desk's next
        bar places it again). Before, ``x`` cancelled it without a word, as any order."""
        stop = f" at {order.stop_price:g}" if order.stop_price is not None else ""
        what = "stop and take-profit pair" if order.order_class is OrderClass.OCO else "stop"
        question = (
            f"Cancel the protective {what}{stop} for {order.qty:g} {order.symbol}?\n\n"
            f"{order.symbol} has no stop until the desk places it again at its next bar."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.cancel_working_order(order.client_order_id)  # type: ignore[attr-defined]

        self.app.push_screen(
            ConfirmScreen(
                f"Cancel {order.symbol}'s protective {what}?",
                question,
                yes="Cancel it",
                no="Keep it",
            ),
            answered,
        )

    def action_close_position(self) -> None:
        """Close the selected position (the app asks first)."""
        symbol = self._selected("#working-positions")
        if symbol is None:
            self.notify("No position to close.", severity="warning")
            return
        self.app.close_position(symbol)  # type: ignore[attr-defined]

    def action_flatten(self) -> None:
        """Flatten everything (the app asks first)."""
        self.app.close_position(None)  # type: ignore[attr-defined]

    def action_close(self) -> None:
        """Back to the dashboard."""
        self.dismiss(None)
