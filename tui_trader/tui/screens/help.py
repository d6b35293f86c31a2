"""The keys of the app and of the screen underneath, with what each does."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS_TEXT = """\
[b]Everywhere[/b]
  [b]ctrl+k[/b]   KILL SWITCH: halt trading now, cancel open orders, then ask about flattening
  [b]ctrl+r[/b]   resume a halted session (asks first; refused while the risk state forbids it)
  [b]f1[/b]       this help          [b]f2[/b] dashboard      [b]f3[/b] history      [b]f4[/b] setup
  [b]f9[/b]       report: return, Sharpe, drawdown, trades by symbol and strategy, charts
  [b]f12[/b]      fleet: every session on this database (other processes and machines too)
  [b]ctrl+p[/b]   command palette (every main action)
  [b]ctrl+q[/b]   quit (asks first while a session runs, then stops it cleanly)

[b]Setup[/b]
  [b]enter[/b]    start the session (Start is disabled while a field is invalid)
  [b]tab[/b]      next field; the reason for a bad value is shown next to it

[b]History[/b]
  [b]f5[/b] orders  [b]f6[/b] trades  [b]f7[/b] risk events  [b]f8[/b] PnL by day
  [b]ctrl+n[/b] / [b]ctrl+b[/b]   next / previous page     [b]ctrl+e[/b]  export the view to CSV
  [b]enter[/b]    details of the selected order (with its rationale)
  click a column header to sort by it (again to reverse)

[b]Fleet[/b]
  [b]ctrl+k[/b]   halt the selected row's ACCOUNT: every session on it stops (asks first)
  [b]h[/b]        halt every account with a session (asks first, says how many)

[b]Dialogs[/b]
  [b]escape[/b]   cancel (the safe answer is always first and focused)
"""


class HelpScreen(ModalScreen[None]):
    """Every key in one place; Escape or F1 closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1", "close", "Close", id="help-close", tooltip="Close the help"),
    ]

    def compose(self) -> ComposeResult:
        """The key list."""
        with VerticalScroll(id="help-body"):
            yield Static("tui-trader keys", classes="dialog-title")
            yield Static(KEYS_TEXT)

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
