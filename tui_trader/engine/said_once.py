"""A session's memory of the holds it has said, so that each is said once per onset.

An order held back for the same reason cycle after cycle (a protective exit the session does
not keep, a symbol changed outside the session) is said in the first cycle's notes only: said
every cycle, the same line filled the trader's log all day and told nothing new. A symbol whose
reason ended or changed is forgotten at the next ``still``, so a hold that starts again, or for
another reason, is said again.
"""

from __future__ import annotations

from collections.abc import Mapping


class SaidOnce:
    """By symbol, the reason of the hold already said."""

    __slots__ = ("_said",)

    def __init__(self) -> None:
        self._said: dict[str, str] = {}

    def __bool__(self) -> bool:
        """Whether any hold is remembered (else ``still`` has nothing to forget)."""
        return bool(self._said)

    def first(self, symbol: str, reason: str) -> bool:
        """Whether a hold of ``symbol`` for ``reason`` is to be said: at its onset only."""
        if self._said.get(symbol) == reason:
            return False
        self._said[symbol] = reason
        return True

    def still(self, reasons: Mapping[str, str]) -> None:
        """Once a cycle, with this cycle's hold reasons by symbol: forget each symbol whose
        hold ended or changed, so that its next onset is said again."""
        said = self._said
        if said:
            for symbol in [s for s, reason in said.items() if reasons.get(s) != reason]:
                del said[symbol]
