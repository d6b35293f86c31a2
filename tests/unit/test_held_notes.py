"""The notes a batch replay keeps for its closing lines (``engine.held_notes``)."""

from __future__ import annotations

from tui_trader.engine.held_notes import LIMIT, HeldNotes


def test_a_batch_keeps_its_first_notes_and_counts_the_rest() -> None:
    """A long batch replay saying a hold at every onset keeps the first notes word for word
    for its closing lines and only counts the others (its memory stays bounded)."""
    held = HeldNotes()
    held.add([])
    for cycle in range(LIMIT + 5):
        held.add([f"BTC: note {cycle}"])
    assert held.kept == [f"BTC: note {n}" for n in range(LIMIT)]
    assert held.more == 5
