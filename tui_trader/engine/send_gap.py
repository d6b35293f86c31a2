"""The gap between an order's slot and its sending: an order held up in it is not sent into a
halt written meanwhile.

A session whose rows commit one by one (Alpaca) takes each order's slot of the account's daily
count with one ``UPDATE`` that fails while the account is halted (``store.risk_store``: the
fence). Then the order's row is written (a durable commit) and the HTTP request goes out. A
process stopped between the slot and the send (SIGSTOP or Ctrl+Z, a laptop's suspend, a paused
VM, a long stall) could wake after another process halted the account (``fleet halt``, another
desk's kill switch) and still send that one order.

So the slot's commit is timed on the boot clock (``CLOCK_BOOTTIME``: it runs on while a process
is stopped and while the machine is suspended, so a process that was frozen sees the time it
lost), and right before the request, once more than ``SEND_GAP`` has passed, the account's row
is read again: halted, the order is not sent. Its row ends ``rejected`` with the reason in plain
words, a ``halted_order_refused`` event says so, and the halt is adopted and acted on in the
cycle, as for a fenced slot. On the normal path (a gap of a few milliseconds) this costs two
clock readings and no statement.

What remains, and cannot be closed from this side: a process stopped after that last look and
before its request leaves (a few Python statements and the HTTP client's own code), or a pause
shorter than ``SEND_GAP`` with a halt written inside it, still sends its order into the halt;
so does a guest whose boot clock stops while its VM is paused. Only the broker can refuse
every order of a halted account: a session run with ``--suspend-on-halt`` sets Alpaca's
``suspend_trade`` when it takes the halt.
"""

from __future__ import annotations

import time
from collections.abc import Callable

SEND_GAP = 0.05
"""Seconds between an order's slot and its sending past which the account's halt is read
again (the normal gap, a durable commit and a little code, is a few milliseconds)."""
_BOOT_CLOCK = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)


def since_boot() -> float:
    """Seconds on the boot clock (the monotonic clock where there is none)."""
    return time.clock_gettime(_BOOT_CLOCK)


class SendGap:
    """When the slot of the order about to be sent was taken, on the boot clock."""

    __slots__ = ("_at", "_client_order_id", "_clock")

    def __init__(self, clock: Callable[[], float] = since_boot) -> None:
        self._clock = clock
        self._client_order_id: str | None = None
        self._at = 0.0

    def slot_taken(self, client_order_id: str) -> None:
        """A fenced slot was just taken for this order."""
        self._client_order_id = client_order_id
        self._at = self._clock()

    def overdue(self, client_order_id: str) -> float | None:
        """Seconds since this order's slot was taken, if more than ``SEND_GAP`` (its halt is
        to be read again); ``None`` otherwise, or if no slot was noted for it. Forgets it."""
        if client_order_id != self._client_order_id:
            return None
        self._client_order_id = None
        gap = self._clock() - self._at
        return gap if gap > SEND_GAP else None


def gap_words(gap: float) -> str:
    """How the refusal names the gap."""
    return (
        f"during the {gap:.1f} s between the order's slot and its sending (this process was "
        "stopped, suspended or stalled)"
    )
