"""A text field that applies keys in the order they were typed.

Textual's ``Input`` types a printable key in its own key handler but runs its editing keys
(Backspace, Delete, the arrows, Home, End) as bindings, once the key has come back from the
field unhandled. Keys that reach the desk in one read (a quick typist, a laggy SSH link, tmux
``send-keys``) were therefore applied out of order: with ``43`` in the ticket's Amount,
Backspace then ``9`` typed at once left ``43`` (the ``9`` went in first, and Backspace took it
back), and the order went out for 43 shares. Here those editing keys run in the field's own
key handler, in turn with the characters around them.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widgets import Input

EDITING_KEYS = ("backspace", "delete", "left", "right", "home", "end")
"""Keys whose bindings edit the text or move the cursor, with any modifier."""


def _editing_actions() -> dict[str, str]:
    """Input's own bindings for the editing keys: key (with modifiers) -> action."""
    actions: dict[str, str] = {}
    for binding in Input.BINDINGS:
        if not isinstance(binding, Binding):
            continue
        for key in binding.key.split(","):
            key = key.strip()
            if key.rsplit("+", 1)[-1] in EDITING_KEYS:
                actions[key] = binding.action
    return actions


EDITING_ACTIONS = _editing_actions()


class OrderedInput(Input):
    """``Input`` whose editing keys are applied in turn with the characters typed."""

    async def _on_key(self, event: events.Key) -> None:
        """An editing key runs its action here, before the next key is read."""
        action = None if event.is_printable else EDITING_ACTIONS.get(event.key)
        if action is None:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        self._restart_blink()
        await self.run_action(action)
