"""The live-trading warning: real money, real losses, the active limits, and a typed phrase.

It fails safe: Cancel is first and focused, Escape cancels, Enter alone never confirms (not even
in the phrase field), and only the exact phrase enables the confirm button. It shows the
paper-to-live gate's answer (``tui/live_gate``); when the gate refuses, nothing enables it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from tui_trader.risk.limits import RiskLimits, capped_base
from tui_trader.tui.alpaca_status import adopt_warning, halt_warning
from tui_trader.tui.setup_form import LIVE_PHRASE
from tui_trader.tui.widgets.ordered_input import OrderedInput

if TYPE_CHECKING:
    from tui_trader.ops.readiness import Decision


class LiveWarningScreen(ModalScreen[bool]):
    """Dismisses with True only after the exact phrase and a press of the confirm button."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="live-cancel", tooltip="Stay out of live trading"),
    ]
    AUTO_FOCUS = "#live-cancel"

    def __init__(
        self,
        limits: RiskLimits,
        url: str,
        adopt_positions: bool = False,
        readiness: Decision | None = None,
        suspend_on_halt: bool = False,
        capital: float | None = None,
    ) -> None:
        """The limits, URL, position adoption, paper-to-live verdict and what a halt does to
        the account (``suspend_on_halt``) the warning names."""
        super().__init__(classes="dialog")
        self.limits = limits
        self.url = url
        self.adopt_positions = adopt_positions
        """Whether the session will adopt positions changed while no session ran: it changes
        what the desk may trade, so it is said beside the phrase."""
        self.readiness = readiness
        """The paper-to-live gate's answer (``None``: not asked, as in a test of the dialog
        alone): shown; when it refuses, the phrase field and the confirm button stay off."""
        self.suspend_on_halt = suspend_on_halt
        self.capital = capital
        """The equity cap typed in the form (``None``: the whole account): the limits'
        percentages are of it, so the warning says so."""
        """Whether a halt also suspends the whole Alpaca account (``suspend_trade``): said, so
        that a trader knows what a halt will stop besides this desk."""

    @property
    def refused(self) -> bool:
        """Whether the paper-to-live gate refuses live trading."""
        return self.readiness is not None and not self.readiness.go

    def compose(self) -> ComposeResult:
        """Warning text, the limits, the gate's answer, the phrase field, then Cancel before
        Confirm. Kept to 22 rows: at 80x24 the desk bar and the footer stay visible."""
        lim = self.limits
        with Vertical(id="dialog-body", classes="live-warning"):
            yield Static("LIVE TRADING — REAL MONEY", classes="dialog-title")
            yield Static(
                f"Orders go to your real Alpaca account at [b]{self.url}[/b]. Losses are real "
                "and may exceed what you expect: fills, gaps and outages are not simulated.\n"
                f"{_active_limits(lim, self.capital)}\n"
                f"{halt_warning(self.suspend_on_halt)}\n"
                f"{adopt_warning(self.adopt_positions)}\n"
                f"{_readiness_line(self.readiness)}"
                + (
                    ""
                    if self.refused
                    else f"Type [b]{LIVE_PHRASE}[/b] to enable the confirm button."
                ),
                classes="dialog-text",
            )
            # editing keys in turn with the characters (``OrderedInput``): with Textual's
            # Input, a typo's Backspace and its fix arriving in one read left the typo
            phrase = OrderedInput(placeholder=LIVE_PHRASE, id="live-phrase", compact=True)
            phrase.disabled = self.refused  # nothing to type: the gate refused
            phrase.display = not self.refused
            yield phrase
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
        refused = self.refused or event.value != LIVE_PHRASE
        self.query_one("#live-confirm", Button).disabled = refused

    @on(Input.Submitted, "#live-phrase")
    def _phrase_submitted(self, event: Input.Submitted) -> None:
        """Enter in the phrase field does nothing: going live takes a deliberate button press."""
        event.stop()

    @on(Button.Pressed, "#live-confirm")
    def _confirm(self) -> None:
        """Confirm, re-checking the phrase and the gate in case the button was enabled some
        other way."""
        if self.query_one("#live-phrase", Input).value == LIVE_PHRASE and not self.refused:
            self.dismiss(True)

    @on(Button.Pressed, "#live-cancel")
    def _cancel_pressed(self) -> None:
        """Cancel."""
        self.dismiss(False)

    def action_cancel(self) -> None:
        """Escape cancels."""
        self.dismiss(False)


def _readiness_line(readiness: Decision | None) -> str:
    """The paper-to-live gate's answer, a line of its own (empty when not asked)."""
    if readiness is None:
        return ""
    from tui_trader.tui.live_gate import readiness_line

    return readiness_line(readiness) + ("" if not readiness.go else "\n")


def _active_limits(lim: RiskLimits, capital: float | None) -> str:
    """The limits' line: of equity, or, with an equity cap, of the desk's cap."""
    base = capped_base(capital)
    if not base:
        return (
            f"Active limits: max drawdown [b]{lim.max_drawdown_pct:g}%[/b], max daily loss "
            f"[b]{lim.max_daily_loss_pct:g}%[/b], max position [b]{lim.max_position_pct:g}%"
            f"[/b] of equity, [b]{lim.max_orders_per_day}[/b] orders a day."
        )
    return (
        f"Active limits, in % of {base}: max drawdown [b]{lim.max_drawdown_pct:g}%[/b], max "
        f"daily loss [b]{lim.max_daily_loss_pct:g}%[/b], max position "
        f"[b]{lim.max_position_pct:g}%[/b], [b]{lim.max_orders_per_day}[/b] orders a day."
    )
