"""A start that waits for the Alpaca key's next minute instead of failing on a busy one.

Alpaca allows a key 200 requests a minute (each API counted apart), and every answer says how
many are left and when that count changes (``brokers.alpaca_budget``). Another desk or program
on the same key may have spent nearly all of this minute when a session starts: its reads then
hold back for the minute's end (they leave the last requests to orders and cancels), and the
start was refused as if its input were wrong (exit 2). It is not the user's mistake, and it
passes by itself within a minute. So the start's first reads (the account, the symbols) are
judged before anything is written: when they were held back, or leave too few of the minute's
requests for the rest of the start (``START_ROOM`` beyond the reserve), the start waits for the
minute's end, says so in one line with the seconds, and goes on. A wait longer than
``MAX_WAIT_S`` (a count that changes only minutes from now), or reads still held back after
it, end the start with ``KeyBusyAtStart``: exit 1 in plain words, nothing written.

Only the Trading API's minute is judged here (the start's first reads are its); the market data
warm-up, one request or a few on the other API, is not.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import TypeVar

from tui_trader.brokers import Throttled
from tui_trader.brokers.alpaca_budget import RequestBudget, account_reserve

T = TypeVar("T")

START_ROOM = 10
"""Requests the rest of a start takes after its first reads (the account, positions and open
orders again, the reconciliation's listings: about 5 with three symbols, measured on the
sandbox), with a margin: fewer left beyond the reserve and the start waits."""
MAX_WAIT_S = 65.0
"""The longest a start waits for the key's next minute: a minute, and the few seconds the
server's reset time is rounded by. A longer wait is not a busy minute: the start ends."""


class KeyBusyAtStart(Exception):
    """The key's requests are spent for longer than a start waits: not started (exit 1)."""


def _pause(seconds: float) -> None:
    """Wait ``seconds``; a stop signal still ends the wait at once (it raises in the main
    thread, which an ``Event`` wait lets through)."""
    threading.Event().wait(seconds)


def with_room(
    read: Callable[[], T],
    budget: RequestBudget,
    say: Callable[[str], None] | None = None,
    pause: Callable[[float], None] = _pause,
) -> T:
    """``read`` (the start's first reads), then room for the rest of the start: held back
    (``Throttled``) or leaving too little of the key's minute, the start waits for the minute's
    end once (said through ``say``); ``KeyBusyAtStart`` if the wait would be longer than
    ``MAX_WAIT_S`` or the reads are still held back after it."""
    try:
        out = read()
    except Throttled:
        _wait(budget, say, pause)
        try:
            return read()
        except Throttled as exc:
            raise KeyBusyAtStart(
                f"the Alpaca key's requests are still spent after waiting for the next "
                f"minute ({exc}); the session did not start: try again in a minute"
            ) from None
    left, _ = budget.minute()
    if left is not None and left < account_reserve(budget.server_limit) + START_ROOM:
        _wait(budget, say, pause)
    return out


def _wait(
    budget: RequestBudget, say: Callable[[str], None] | None, pause: Callable[[float], None]
) -> None:
    """Wait for the key's minute to end, said in one line; ``KeyBusyAtStart`` when it ends
    later than ``MAX_WAIT_S`` from now."""
    left, ends_in = budget.minute()
    seconds = math.ceil(ends_in) + 1  # the server's reset is a whole epoch second
    spent = "nearly spent" if left else "spent"
    if ends_in > MAX_WAIT_S:
        raise KeyBusyAtStart(
            f"the Alpaca key's requests are {spent} for {seconds} s more (another desk or "
            "program uses the same key, or the server asked to wait): the session did not "
            "start; try again then"
        )
    if say is not None:
        held = f"{left} left" if left is not None else "none left"
        say(
            f"waiting {seconds} s before starting: the Alpaca key's requests for this minute "
            f"are {spent} ({held}; another desk or program uses the same key)"
        )
    pause(seconds)
