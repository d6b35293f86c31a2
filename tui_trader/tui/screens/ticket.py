"""The order ticket: symbol, side, shares or dollars, market, limit, stop or stop-limit, time
in force.

It only collects the ticket; ``ticket_form.parse_ticket`` reads it and the session's risk gate
decides what is sent. The amount has the focus (type it, Enter reviews); Escape or Cancel closes
the ticket. "Review order" dismisses with the order, and the app asks for confirmation in PAPER
and LIVE modes before sending it.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.tui.ticket_form import STOP_NOTE, parse_ticket
from tui_trader.tui.widgets.ordered_input import OrderedInput


class TicketScreen(ModalScreen[ManualOrder | None]):
    """Dismisses with the order typed, or ``None`` when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="ticket-cancel", tooltip="Close the ticket"),
    ]
    AUTO_FOCUS = "#ticket-amount"

    def __init__(self, symbols: tuple[str, ...], mode: str, symbol: str | None = None) -> None:
        """The session's symbols (the ticket trades those only) and its mode (the title)."""
        super().__init__(classes="dialog")
        self.symbols = symbols
        self.mode = mode
        self.first = symbol if symbol in symbols else symbols[0]
        self._error_field = ""
        """The field the error line names ("" while none shows)."""

    def compose(self) -> ComposeResult:
        """The fields, a note on order types, the error line, then Cancel before Review."""
        with Vertical(id="dialog-body", classes="ticket"):
            yield Static(f"Order ticket — {self.mode.upper()}", classes="dialog-title")
            with Horizontal(classes="ticket-row"):
                yield Label("Symbol", classes="ticket-label")
                yield Select(
                    [(s, s) for s in self.symbols],
                    value=self.first,
                    allow_blank=False,
                    compact=True,
                    id="ticket-symbol",
                )
                yield Label("Side", classes="ticket-label ticket-label2")
                yield Select(
                    [("Buy", "buy"), ("Sell", "sell")],
                    value="buy",
                    allow_blank=False,
                    compact=True,
                    id="ticket-side",
                )
            with Horizontal(classes="ticket-row"):
                yield Label("Amount", classes="ticket-label")
                yield OrderedInput("", placeholder="10", compact=True, id="ticket-amount")
                yield Label("in", classes="ticket-label ticket-label2")
                yield Select(
                    [("shares", "shares"), ("dollars", "dollars")],
                    value="shares",
                    allow_blank=False,
                    compact=True,
                    id="ticket-unit",
                )
            with Horizontal(classes="ticket-row"):
                yield Label("Type", classes="ticket-label")
                yield Select(
                    [
                        ("Market", "market"),
                        ("Limit", "limit"),
                        ("Stop", "stop"),
                        ("Stop limit", "stop_limit"),
                    ],
                    value="market",
                    allow_blank=False,
                    compact=True,
                    id="ticket-type",
                )
                yield Label("Limit", classes="ticket-label ticket-label2")
                yield OrderedInput(
                    "", placeholder="price", compact=True, id="ticket-limit", disabled=True
                )
            with Horizontal(classes="ticket-row"):
                yield Label("Time in force", classes="ticket-label")
                yield Select(
                    [("Day", "day"), ("Good till cancelled", "gtc")],
                    value="day",
                    allow_blank=False,
                    compact=True,
                    id="ticket-tif",
                )
            with Horizontal(classes="ticket-row"):
                yield Label("Stop", classes="ticket-label")
                yield OrderedInput(
                    "", placeholder="price", compact=True, id="ticket-stop", disabled=True
                )
            yield Static(STOP_NOTE, classes="ticket-note")
            yield Static("", id="ticket-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="ticket-cancel", variant="primary")
                yield Button("Review order", id="ticket-send", variant="warning")

    def values(self) -> dict[str, str]:
        """Every field's current value."""
        fields = ("symbol", "side", "amount", "unit", "type", "limit", "stop", "tif")
        out = {}
        for name in fields:
            widget = self.query_one(f"#ticket-{name}")
            out[name] = str(widget.value)  # type: ignore[attr-defined]
        return out

    @on(Select.Changed, "#ticket-type")
    def _type_changed(self, event: Select.Changed) -> None:
        """The limit price is open for limit and stop-limit orders, the stop price for stop and
        stop-limit orders."""
        limit = self.query_one("#ticket-limit", Input)
        stop = self.query_one("#ticket-stop", Input)
        limit.disabled = event.value not in ("limit", "stop_limit")
        stop.disabled = event.value not in ("stop", "stop_limit")
        for field in (limit, stop):
            if field.disabled:
                field.value = ""

    @on(Input.Submitted)
    @on(Button.Pressed, "#ticket-send")
    def _send(self) -> None:
        """Dismiss with the order if the ticket reads; else say which field and why."""
        result = parse_ticket(self.values(), self.symbols)
        if result.order is None:
            self._error_field = result.field
            self.query_one("#ticket-error", Static).update(f"{result.field}: {result.error}")
            self.query_one(f"#ticket-{result.field}").focus()
            return
        self.dismiss(result.order)

    @on(Input.Changed)
    @on(Select.Changed)
    def _recheck(self) -> None:
        """While a refusal shows, each edit reads the ticket again: the line keeps naming what
        is still wrong with that field and goes once it is mended (or the type no longer needs
        it). Before, "amount: a number in ASCII digits" stayed under an amount already fixed
        until the next Review, and a trader read it as the ticket's current state."""
        if not self._error_field:
            return
        result = parse_ticket(self.values(), self.symbols)
        line = self.query_one("#ticket-error", Static)
        if result.order is None and result.field == self._error_field:
            line.update(f"{result.field}: {result.error}")
        else:
            self._error_field = ""
            line.update("")

    @on(Button.Pressed, "#ticket-cancel")
    def _cancel_pressed(self) -> None:
        """Cancel."""
        self.dismiss(None)

    def action_cancel(self) -> None:
        """Escape cancels."""
        self.dismiss(None)
