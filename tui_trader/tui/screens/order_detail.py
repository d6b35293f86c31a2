"""One order in full: every stored field, its fills, and the rationale that explains it."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui_trader.cli.shown_console import shown

FIELD_ORDER = (
    "id",
    "session",
    "client_order_id",
    "broker_order_id",
    "symbol",
    "side",
    "quantity",
    "order_type",
    "limit_price",
    "status",
    "filled_qty",
    "filled_price",
    "error",
    "timestamp",
    "market_time",
    "updated_at",
    "iteration",
)


class OrderDetailScreen(ModalScreen[None]):
    """Read-only detail of one order; Escape closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "close", "Close", id="detail-close", tooltip="Close the detail"),
    ]

    def __init__(self, detail: dict[str, Any]) -> None:
        """The order's fields as read from the database."""
        super().__init__()
        self.detail = detail

    def compose(self) -> ComposeResult:
        """Fields, rationale, fills."""
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for name in FIELD_ORDER:
            value = self.detail.get(name)
            table.add_row(name.replace("_", " "), shown("" if value is None else value))
        fills = self.detail.get("fills", [])
        fill_text = "\n".join(
            f"{qty:g} @ {price:,.2f} (fee {fee:.2f}) bar {when}" for qty, price, fee, when in fills
        )
        with VerticalScroll(id="order-detail"):
            yield Static(f"Order {self.detail.get('id')}", classes="dialog-title")
            yield Static(table)
            yield Static(Text("\nRationale", style="bold"))
            yield Static(shown(self.detail.get("rationale") or "(none recorded)"))
            yield Static(Text("\nFills", style="bold"))
            yield Static(fill_text or "(no fills)")

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)
