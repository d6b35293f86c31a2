"""The notes of cycles that print no line, kept for the closing lines.

A batch replay (``paper --batch``) builds no cycle report, so the notes a session says once per
onset (a share dearer than a full position: ``engine.whole_shares``; an exit it does not keep;
an order placed by hand) were said nowhere: a batch whose symbols never traded ended with 0
trades and no reason. They are kept here, the first ``LIMIT`` of them in order and a count of
the rest (a long replay may say a hold again at each onset: its memory stays bounded).
"""

from __future__ import annotations

from collections.abc import Iterable

LIMIT = 20
"""Notes kept word for word; later ones are only counted."""


class HeldNotes:
    """The first ``LIMIT`` notes of the cycles that printed none, and how many more there were."""

    __slots__ = ("kept", "more")

    def __init__(self) -> None:
        self.kept: list[str] = []
        """The notes kept, in the order they were said."""
        self.more = 0
        """Notes said after the first ``LIMIT`` (counted, not kept)."""

    def add(self, notes: Iterable[str]) -> None:
        """Keep a cycle's notes (or count them once ``LIMIT`` are kept)."""
        for note in notes:
            if len(self.kept) < LIMIT:
                self.kept.append(note)
            else:
                self.more += 1
