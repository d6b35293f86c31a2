"""A yes/no dialog that fails safe: the safe answer is first, focused, and what Escape gives."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    """Ask one question; dismiss with True only when the non-default button is pressed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="confirm-cancel", tooltip="Answer no and close"),
    ]
    AUTO_FOCUS = "#no"

    def __init__(
        self, title: str, question: str, yes: str = "Yes", no: str = "No", danger: bool = True
    ) -> None:
        """The dialog's title, question and button labels."""
        super().__init__(classes="dialog")
        self.title_text = title
        self.question = question
        self.yes_label = yes
        self.no_label = no
        self.danger = danger

    def compose(self) -> ComposeResult:
        """The title, the question, then the safe button first."""
        with Vertical(id="dialog-body"):
            # shown as written: a question quotes stored account keys, hosts and halt reasons
            yield Static(self.title_text, classes="dialog-title", markup=False)
            yield Static(self.question, classes="dialog-text", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.no_label, id="no", variant="primary")
                variant = "error" if self.danger else "success"
                yield Button(self.yes_label, id="yes", variant=variant)

    def on_mount(self) -> None:
        """The safe answer has the focus from the first moment."""
        self.query_one("#no", Button).focus()

    @on(Button.Pressed, "#yes")
    def _yes(self) -> None:
        """The user chose the action."""
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def _no(self) -> None:
        """The user chose the safe answer."""
        self.dismiss(False)

    def action_cancel(self) -> None:
        """Escape: the safe answer."""
        self.dismiss(False)
