"""The footer every desk screen uses: the kill switch's key always comes first.

Textual's footer lists the focused widget's and the screen's keys before the app's, so on a
narrow terminal the screen's own keys pushed ``^k KILL SWITCH`` off the right edge (the history
browser at 80 columns). Here the kill switch leads, the Fleet key follows, and the rest keep
their order.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

KILL_SWITCH_ID = "kill-switch"
FLEET_ID = "fleet"
_LEAD = {KILL_SWITCH_ID: 0, FLEET_ID: 1}
"""Keys shown first, in this order: the kill switch, then the Fleet screen (where every
session on the database can be halted); the rest keep their order."""


class DeskFooter(Footer):
    """A compact footer whose first key is the kill switch."""

    def __init__(self) -> None:
        """Compact: more keys fit an 80-column terminal."""
        super().__init__(compact=True)

    def compose(self) -> ComposeResult:
        """The keys in the chain's order, the kill switch moved to the front."""
        if not self._bindings_ready:
            return
        active = self.screen.active_bindings
        seen: set[str] = set()
        shown = []
        for _node, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in seen:
                seen.add(binding.action)
                shown.append((binding, enabled, tooltip))
        shown.sort(key=lambda item: _LEAD.get(item[0].id or "", 2))  # stable: the rest keep order
        self.styles.grid_size_columns = len(shown)
        for binding, enabled, tooltip in shown:
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE and palette:
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
