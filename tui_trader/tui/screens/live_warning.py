"""The live-trading warning: real money, real losses, the active limits, and a typed phrase.

It fails safe: Cancel is first and focused, Escape cancels, Enter alone never confirms (not even
in the phrase field), and only the exact phrase enables the confirm button.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from tui_trader.risk.limits import RiskLimits
from tui_trader.tui.alpaca_status import adopt_warning
from tui_trader.tui.setup_form import LIVE_PHRASE


class LiveWarningScreen(ModalScreen[bool]):
    """Dismisses with True only after the exact phrase and a press of the confirm button."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="live-cancel", tooltip="Stay out of live trading"),
    ]
    AUTO_FOCUS = "#live-cancel"

    def __init__(
        self, limits: RiskLimits, url: str, adopt_positions: bool = False, unchecked: str = ""
    ) -> None:
        """The limits, URL and position adoption the warning names."""
        super().__init__(classes="dialog")
        self.limits = limits
        self.url = url
        self.adopt_positions = adopt_positions
        """Whether the session will adopt positions changed while no session ran: it changes
        what the desk may trade, so it is said beside the phrase."""
        self.unchecked = unchecked
        """The settings file's readiness keys (``setup_carried.NOT_CHECKED``): the desk has no
        readiness gate, and a trader who set one must not go live believing it checked."""

    def compose(self) -> ComposeResult:
        """Warning text, the limits, the phrase field, then Cancel before Confirm."""
        lim = self.limits
        with Vertical(id="dialog-body", classes="live-warning"):
            yield Static("LIVE TRADING — REAL MONEY", classes="dialog-title")
            yield Static(
                "Orders will be sent to your real Alpaca brokerage account at "
                f"[b]{self.url}[/b].\n"
                "Losses are real and may exceed what you expect: fills, gaps and outages are not "
                "simulated.\n\n"
                f"Active limits: max drawdown [b]{lim.max_drawdown_pct:g}%[/b], max daily loss "
                f"[b]{lim.max_daily_loss_pct:g}%[/b], max position [b]{lim.max_position_pct:g}%"
                f"[/b] of equity, [b]{lim.max_orders_per_day}[/b] orders a day.\n"
                f"{adopt_warning(self.adopt_positions)}\n"
                f"{_unchecked_warning(self.unchecked)}\n"
                f"Type [b]{LIVE_PHRASE}[/b] to enable the confirm button.",
                classes="dialog-text",
            )
            yield Input(placeholder=LIVE_PHRASE, id="live-phrase")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="live-cancel", variant="primary")
                yield Button(
                    "Trade with real money", id="live-confirm", variant="error", disabled=True
                )

    def on_mount(self) -> None:
        """Cancel has the focus from the first moment, so a stray Enter cancels."""
        self.query_one("#live-cancel", Button).focus()

    @on(Input.Changed, "#live-phrase")
    def _phrase_changed(self, event: Input.Changed) -> None:
        """Enable confirm only for the exact phrase (case and spaces matter)."""
        self.query_one("#live-confirm", Button).disabled = event.value != LIVE_PHRASE

    @on(Input.Submitted, "#live-phrase")
    def _phrase_submitted(self, event: Input.Submitted) -> None:
        """Enter in the phrase field does nothing: going live takes a deliberate button press."""
        event.stop()

    @on(Button.Pressed, "#live-confirm")
    def _confirm(self) -> None:
        """Confirm, re-checking the phrase in case the button was enabled some other way."""
        if self.query_one("#live-phrase", Input).value == LIVE_PHRASE:
            self.dismiss(True)

    @on(Button.Pressed, "#live-cancel")
    def _cancel_pressed(self) -> None:
        """Cancel."""
        self.dismiss(False)

    def action_cancel(self) -> None:
        """Escape cancels."""
        self.dismiss(False)


def _unchecked_warning(keys: str) -> str:
    """The line about the settings file's readiness bar, which the desk does not check (empty
    when the file sets none)."""
    if not keys:
        return ""
    return (
        f"The settings file's readiness bar ({keys}) is [b]NOT checked[/b] by the desk: run "
        "'tui-trader live readiness' first.\n"
    )
