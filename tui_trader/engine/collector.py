"""Python's cyclic garbage collector kept out of decision cycles: it runs between them.

A decision cycle allocates thousands of short-lived objects (bars, signals, reasons, rows)
that die by reference counting, but while a cycle holds many of them at once the young
generation's count (allocations less deallocations) crosses its threshold, every hundred or
so cycles at 50 symbols, and the collection then ran wherever that allocation happened: in the
middle of a cycle, between a bar's arrival and its orders (0.15-0.25 ms for the young
generation, ~0.4 ms for the middle one, more for a full collection; issue 17's bar -> order
p99). Counted at the cycle's end instead, the same garbage needs a quarter of the collections.

``CycleCollector`` turns automatic collection off from the moment a cycle has its bars until
it ends, and back on then: the allocation counts keep growing meanwhile, so the collections
that fell due run at the first allocation after the cycle, between cycles, by the
interpreter's own generational rules. Garbage is collected at most one cycle later than
before, so memory stays bounded as before. Fetching the bars (an HTTP request on Alpaca,
retried for a few seconds when it fails) is not held: a collection due then runs before the
bars are in hand. The rest of a cycle is, its broker requests included on Alpaca: the
collector is off for at most one cycle's length (seconds only when the broker is slow to
answer, and the cycle then fails or ends).

The switch is process-wide (the interpreter has one collector). Each cycle turns it back on
only if it found it on: a program (or a test) that turned the collector off keeps it off, and
when two sessions' cycles overlap in one process, the collector is on again once the first of
them ends, so it is never held off for longer than one cycle. The start-up heap is frozen once
per process (``freeze_startup_heap``, before a session's first cycle: ``SessionRunner.run`` and
a batch replay's ``run_replay``), so the collections that do run walk only what was created
since.
"""

from __future__ import annotations

import gc
from types import TracebackType

_enabled = gc.isenabled
_disable = gc.disable
_enable = gc.enable

_heap_frozen = False


def freeze_startup_heap() -> bool:
    """Keep the garbage collector off what exists once the first session has started; True
    if this call froze it (once per process).

    Modules, the market's warm-up and the strategies' and learner's state live as long as the
    session; a full collection walked all of them again: at 50 symbols some 20-30 ms in the
    middle of a decision cycle every few hundred cycles, which was the local bar -> order p99
    (issue 17). Frozen objects that are dropped later are still freed by reference counting
    (only a cycle among them would stay, so later sessions of the process are not frozen
    again); anything created later is collected as before. The desk freezes its own widgets
    the same way once the first session is drawn.

    The interpreter's collections at exit do not walk them either: a batch replay of 100
    symbols spent ~60 ms of CPU after its summary collecting a heap the process was about to
    hand back whole (issue 17's whole-process figure). Nothing written depends on that: every
    row is committed before the summary, and a committed transaction is in the database (or
    its write-ahead log, which the next open reads) whether or not a connection is closed.
    """
    global _heap_frozen
    if _heap_frozen:
        return False
    _heap_frozen = True
    gc.freeze()
    return True


class CycleCollector:
    """``with collector:`` around one decision cycle (one object per session, entered every
    cycle): no automatic collection inside it; the collections that fell due run right after
    it."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held = False
        """Whether this cycle turned the collector off (and so turns it back on)."""

    def __enter__(self) -> None:
        """Turn automatic collection off if it is on."""
        if _enabled():
            _disable()
            self._held = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Turn it back on if this cycle turned it off (whatever the cycle raised)."""
        if self._held:
            self._held = False
            _enable()
