"""The footer every desk screen uses: the kill switch first, then the screen's own keys.

Textual's footer lists the keys in the binding chain's order and lets the last ones run off
the right edge: at 80 columns the Report screen's footer did not lead with ``^k KILL SWITCH``,
the screen's own keys came after the app's f-keys, and a half-hidden key left fragments
("f3 H", a stray letter after "^p palette"). Here the kill switch leads, the keys of the screen
in front of the trader follow, then the desk's keys in a fixed order; only the keys that fit
the footer's width whole are shown (f1 and the command palette list every key).
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

KILL_SWITCH_ID = "kill-switch"
FLEET_ID = "fleet"
APP_ORDER = (
    "resume",
    "order-ticket",
    "working-orders",
    "stop-session",
    FLEET_ID,
    "help",
    "dashboard",
    "history",
    "setup",
    "report",
    "quit",
)
"""The App's own keys, after the screen's, in the order they matter to a trader: resume a
halt, trade by hand, the Fleet screen (where every session on the database can be halted),
the other screens, quit."""
GAP = 1
"""Columns between two keys (the footer's grid gutter)."""
PALETTE_WIDTH = 11
"""Columns the command palette's key takes at the right edge ("▏^p palette")."""


def key_width(key_display: str, description: str) -> int:
    """Columns a compact footer key takes: the key, a space, the description."""
    return len(key_display) + (1 + len(description) if description else 0)


class DeskFooter(Footer):
    """A compact footer whose first key is the kill switch and whose keys are never cut."""

    def __init__(self) -> None:
        """Compact: more keys fit an 80-column terminal."""
        super().__init__(compact=True)
        self._laid_out_for = 0
        """The width the keys were chosen for (a new width chooses again)."""

    def _rank(self, node: object, binding: Binding) -> tuple[int, int]:
        """Sort key: the kill switch, the screen's (or focused widget's) keys, the App's."""
        if binding.id == KILL_SWITCH_ID:
            return (0, 0)
        if node is not self.app:
            return (1, 0)
        order = APP_ORDER.index(binding.id) if binding.id in APP_ORDER else len(APP_ORDER)
        return (2, order)

    def _kill_switch(self) -> Binding | None:
        """The App's kill-switch binding (as remapped by a keymap, if one is set).

        A dialog's keys stop at the dialog (Textual lists no App keys there), but the kill
        switch is a priority key that works on every screen: a dialog's footer shows it too.
        """
        for _key, binding in self.app._bindings:
            if binding.id == KILL_SWITCH_ID:
                return binding
        return None

    def compose(self) -> ComposeResult:
        """The keys that fit, in the trader's order; the command palette at the right."""
        if not self._bindings_ready:
            return
        active = self.screen.active_bindings
        seen: set[str] = set()
        shown = []
        for node, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in seen:
                seen.add(binding.action)
                shown.append((self._rank(node, binding), binding, enabled, tooltip))
        kill = self._kill_switch()
        if kill is not None and kill.action not in seen:  # a dialog lists only its own keys
            shown.append(((0, 0), kill, True, kill.tooltip))
        shown.sort(key=lambda item: item[0])  # stable: keys of equal rank keep their order
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        with_palette = bool(self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE)
        width = self.size.width or self.app.size.width
        self._laid_out_for = width
        room = width - (PALETTE_WIDTH + GAP if with_palette and palette else 0)
        keys = []
        for _rank, binding, enabled, tooltip in shown:
            display = self.app.get_key_display(binding)
            need = key_width(display, binding.description) + (GAP if keys else 0)
            if need > room and keys:  # the kill switch is always shown, whatever the width
                break
            room -= need
            keys.append((binding, display, enabled, tooltip))
        self.styles.grid_size_columns = len(keys)
        for binding, display, enabled, tooltip in keys:
            yield FooterKey(
                binding.key,
                display,
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
        if with_palette and palette:
            _node, binding, enabled, tooltip = palette
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                classes="-command-palette",
                disabled=not enabled,
                tooltip=binding.tooltip or binding.description,
            )

    def on_resize(self, event: events.Resize) -> None:
        """Choose the keys again for a new width (a resized terminal, the HALTED frame)."""
        if self._laid_out_for and event.size.width != self._laid_out_for:
            self.call_after_refresh(self.recompose)
