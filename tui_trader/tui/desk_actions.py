"""Trading by hand from the desk: the order ticket, working orders, closing and flattening, and
stopping the session without quitting.

A mixin of ``TraderApp``. The screens collect what the user wants; these actions confirm where
money is at stake (PAPER and LIVE modes, closing, flattening, stopping) and hand the request to
the session handle, which queues it for the session's own thread. Nothing here sizes, gates or
sends an order: the session does, through the same risk gate and audit trail as the strategies.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.binding import Binding

from tui_trader.tui.screens.confirm import ConfirmScreen

if TYPE_CHECKING:
    from tui_trader.engine.manual_orders import ManualOrder
    from tui_trader.tui.handles import LocalHandle, SessionHandle
    from tui_trader.tui.state import DeskState

DESK_BINDINGS = [
    Binding(
        "t",
        "order_ticket",
        "Order",
        id="order-ticket",
        tooltip="Open the order ticket (same risk gate and audit trail as the strategies)",
    ),
    Binding(
        "w",
        "working_orders",
        "Working",
        id="working-orders",
        tooltip="Working orders (cancel) and positions (close one, flatten all)",
    ),
    Binding(
        "ctrl+s",
        "stop_session",
        "Stop",
        id="stop-session",
        tooltip="Stop the running session (asks first); the desk stays open",
    ),
]
"""The App's keys for trading by hand (single letters reach it when no field has the focus)."""


class DeskActions:
    """Ticket, working orders, close, flatten and stop for ``TraderApp``."""

    handle: SessionHandle | None
    desk: DeskState
    running: bool
    monitor: SessionHandle | None

    def desk_commands(self) -> Iterable[SystemCommand]:
        """The command palette's entries for trading by hand (while a session runs here)."""
        if self._local() is None:
            return
        yield SystemCommand("Order ticket", "Trade by hand (t)", self.action_order_ticket)
        yield SystemCommand(
            "Working orders", "Cancel, close, flatten (w)", self.action_working_orders
        )
        yield SystemCommand(
            "Flatten all", "Cancel every order, close every position", self._flatten_all
        )
        yield SystemCommand(
            "Stop session", "Stop it, keep the desk (ctrl+s)", self.action_stop_session
        )

    def _flatten_all(self) -> None:
        """Flatten everything (asks first)."""
        self.close_position(None)

    def _local(self) -> LocalHandle | None:
        """The running in-process session's handle (manual trading needs one)."""
        handle = self.handle
        if handle is None or not self.running:
            return None  # before any session: the session's modules are not imported yet
        from tui_trader.tui.handles import LocalHandle

        return handle if isinstance(handle, LocalHandle) else None

    def _manual_refusal(self) -> str | None:
        """Why manual trading is unavailable now, or ``None``."""
        if self.monitor is not None:
            return (
                "the monitor follows a session run elsewhere: trade by hand where it runs "
                "(the monitor can only halt it)"
            )
        if self.handle is None or not self.running or self.desk.info is None:
            return "no session is running"
        return None

    def action_order_ticket(self, symbol: str | None = None) -> None:
        """Open the ticket; send what it returns (after a confirmation in PAPER and LIVE)."""
        refusal = self._manual_refusal()
        if refusal:
            self.notify(f"Order ticket unavailable: {refusal}.", severity="warning")
            return
        info = self.desk.info
        assert info is not None
        from tui_trader.tui.screens.ticket import TicketScreen

        self.push_screen(TicketScreen(info.symbols, info.mode, symbol), self._ticket_done)

    def _ticket_done(self, order: ManualOrder | None) -> None:
        """Confirm where money is at stake, then hand the order to the session."""
        if order is None or self.desk.info is None:
            return
        if self.desk.info.mode == "local":
            self._send_manual(order)
            return
        mode = self.desk.info.mode.upper()
        from tui_trader.tui.ticket_form import describe

        self.push_screen(
            ConfirmScreen(
                f"Send this order? ({mode})",
                f"{describe(order)}\n\nIt goes through the risk limits like any order"
                + (" and to your real Alpaca account." if mode == "LIVE" else "."),
                yes="Send order",
                no="Do not send",
            ),
            lambda yes: self._send_manual(order) if yes else None,
        )

    def _send_manual(self, order: ManualOrder) -> None:
        """Queue the order for the session's thread; its outcome appears in the logs."""
        handle = self._local()
        if handle is None:
            self.notify("The session ended: the order was not sent.", severity="error")
            return
        try:
            handle.manual_order(order)
        except (ValueError, RuntimeError) as exc:
            self.notify(f"Order not sent: {exc}", severity="error")
            return
        from tui_trader.tui.ticket_form import describe

        self.notify(f"Order requested: {describe(order)}. Its fate shows in Orders & fills.")

    def action_working_orders(self) -> None:
        """Open the working-orders panel."""
        refusal = self._manual_refusal()
        if refusal:
            self.notify(f"Working orders unavailable: {refusal}.", severity="warning")
            return
        from tui_trader.tui.screens.working import WorkingOrdersScreen

        if not isinstance(self.screen, WorkingOrdersScreen):
            self.push_screen(WorkingOrdersScreen())

    def cancel_working_order(self, client_order_id: str) -> None:
        """Ask the session to cancel one working order (the panel asks first for a protective
        exit, whose cancel leaves a position without its stop)."""
        handle = self._local()
        if handle is None:
            self.notify("No session is running.", severity="warning")
            return
        handle.cancel_order(client_order_id)
        self.notify(f"Cancel requested for {client_order_id}.")

    def close_position(self, symbol: str | None) -> None:
        """Ask first, then ask the session to close one position (or flatten every one)."""
        if self._local() is None:
            self.notify("No session is running.", severity="warning")
            return
        if symbol is None:
            title, question = (
                "Flatten everything?",
                "Cancel every working order and close every position at market?\n\n"
                "Trading is not halted: the strategies may trade again at the next bar "
                "(ctrl+k halts them).",
            )
        else:
            title, question = (
                f"Close {symbol}?",
                f"Cancel {symbol}'s working orders and close the position at market?",
            )

        def answered(yes: bool | None) -> None:
            handle = self._local()
            if yes and handle is not None:
                handle.close_position(symbol)
                self.notify(
                    "Flatten requested." if symbol is None else f"Close {symbol} requested."
                )

        self.push_screen(ConfirmScreen(title, question, yes="Close at market", no="Keep"), answered)

    def action_stop_session(self) -> None:
        """Ask, then stop the running session after its current step; the desk stays open."""
        if self.monitor is not None:
            self.notify("The monitor cannot stop a session run elsewhere (ctrl+k halts it).")
            return
        if self.handle is None or not self.running:
            self.notify("No session is running.", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes and self.handle is not None and self.running:
                self.handle.stop()
                self.notify("Stopping the session after its current step.")

        self.push_screen(
            ConfirmScreen(
                "Stop the session?",
                "Stop after the current step and write the session's final state. Open orders "
                "and positions stay as they are (ctrl+k halts and cancels). The desk stays "
                "open: F4 sets up the next session.",
                yes="Stop session",
                no="Keep running",
            ),
            answered,
        )
