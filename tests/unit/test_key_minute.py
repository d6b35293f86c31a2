"""How a start judges the key's minute (``session.key_minute``): enough left, it goes at once;
too few for the rest of a start, it waits for the minute's end and says so; a count that
changes only minutes from now ends the start instead (exit 1 at the command line)."""

from __future__ import annotations

import pytest

from tui_trader.brokers.alpaca_budget import RequestBudget
from tui_trader.session.key_minute import KeyBusyAtStart, with_room


def _start(left: int, reset_in: float) -> tuple[list[str], list[float]]:
    """A start whose first reads were answered with ``left`` of 200 requests, the count
    changing in ``reset_in`` seconds: what it said and how long it waited."""
    budget = RequestBudget(clock=lambda: 1000.0)
    budget.observe(left, 200, reset_in)
    said: list[str] = []
    waits: list[float] = []
    assert with_room(lambda: "read", budget, said.append, waits.append) == "read"
    return said, waits


def test_a_minute_with_room_starts_at_once() -> None:
    assert _start(150, 30.0) == ([], [])


def test_a_minute_too_short_for_a_start_waits_for_its_end_and_says_so() -> None:
    """15 left: above the reserve (10), too few for the rest of a start."""
    said, waits = _start(15, 30.0)
    assert waits == [31]
    assert said == [
        "waiting 31 s before starting: the Alpaca key's requests for this minute are nearly "
        "spent (15 left; another desk or program uses the same key)"
    ]


def test_a_count_that_changes_only_minutes_from_now_ends_the_start() -> None:
    with pytest.raises(KeyBusyAtStart, match="nearly spent for 601 s more"):
        _start(15, 600.0)
