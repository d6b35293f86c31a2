"""The keys of the app and of the screen underneath, with what each does.

Every line fits the dialog at 80 columns (72 columns inside its border and padding): a
key's description that was cut at the right edge told a trader half of what it does.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS_TEXT = """\
[b]Everywhere[/b]
  [b]ctrl+k[/b]   KILL SWITCH: halt trading now, cancel open orders,
           then ask about flattening
  [b]ctrl+r[/b]   resume a halted session (asks first; refused while
           the risk state forbids it)
  [b]f1[/b] this help   [b]f2[/b] dashboard   [b]f3[/b] history   [b]f4[/b] setup
  [b]escape[/b]   from history, report or fleet: back to the dashboard
           (or to setup, when opened from it)
  [b]f9[/b]       report: return, Sharpe, drawdown, trades, charts
  [b]f12[/b]      fleet: every session on this database (other
           processes and machines too)
  [b]ctrl+p[/b]   command palette (every main action)
  [b]ctrl+q[/b]   quit (asks first while a session runs, then stops it)

[b]Dashboard[/b] (while a session runs here)
  [b]t[/b]        order ticket (same risk gate and audit trail)
  [b]w[/b]        working orders and positions: [b]x[/b] cancels an order,
           [b]c[/b] closes a position, [b]f[/b] flattens all (asks first)
  [b]ctrl+s[/b]   stop the session (asks first); the desk stays open

[b]Setup[/b]
  [b]enter[/b]    start the session (disabled while a field is invalid)
  [b]tab[/b]      next field; a bad value's reason is shown beside it

[b]History[/b]
  [b]f5[/b] orders  [b]f6[/b] trades  [b]f7[/b] risk events  [b]f8[/b] PnL by day
  [b]ctrl+n[/b] / [b]ctrl+b[/b]   next / previous page
  [b]ctrl+e[/b]   export the view to CSV
  [b]enter[/b]    details of the selected order (with its rationale)
  click a column header to sort by it (again to reverse)

[b]Report[/b]
  [b]ctrl+l[/b]   read the report again

[b]Fleet[/b]
  [b]ctrl+k[/b]   halt the selected row's ACCOUNT: every session on it
           stops (asks first)
  [b]h[/b]        halt every account with a session (asks first)

[b]Dialogs[/b]
  [b]escape[/b]   cancel (the safe answer is always first and focused)
"""


class HelpScreen(ModalScreen[None]):
    """Every key in one place; Escape or F1 closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1", "close", "Close", id="help-close", tooltip="Close the help"),
        # The keys this help lists under "Everywhere" work from it too: a modal screen holds
        # back the app's own (not priority) keys, so f2, f3, f12 or ctrl+r here did nothing.
        *[
            Binding(key, f"leave('{action}')", what, show=False, id=f"help-{key}", tooltip=what)
            for key, action, what in (
                ("f2", "show_dashboard", "Close the help and go to the dashboard"),
                ("f3", "show_history", "Close the help and go to the history"),
                ("f4", "show_setup", "Close the help and go to the setup"),
                ("f9", "show_report", "Close the help and go to the report"),
                ("f12", "show_fleet", "Close the help and go to the fleet"),
                ("ctrl+r", "resume", "Close the help and ask to resume"),
            )
        ],
    ]

    def compose(self) -> ComposeResult:
        """The key list."""
        with VerticalScroll(id="help-body"):
            yield Static("tui-trader keys", classes="dialog-title")
            yield Static(KEYS_TEXT, id="help-text")

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)

    def action_leave(self, action: str) -> None:
        """Close the help, then do what the key does on any other screen (the app's action)."""
        self.dismiss(None)
        self.app.call_next(self.app.run_action, f"app.{action}")
