"""Waits inside a decision cycle that keep the session's heartbeat going.

Desks on one account judge each other alive by their heartbeats (``store.liveness``: dead after
``max(30 s, 3 x the cycle interval)`` without one). A session beats while it works and while it
waits between cycles, but inside a cycle it can also wait a long time: for the request budget's
next token (``brokers.alpaca_budget``: a share of Alpaca's 200 requests a minute, at the floor
a token every 5 s, one wait per request), between a read's retries (``brokers.alpaca_calls``),
for a protective stop's cancel to be confirmed (``brokers.alpaca_amend``). Added up past the
window, the other desks found this one dead, took its symbols and exits over, and the user saw
a "died" desk that was alive.

So such waits go through ``wait`` here: cut into slices of at most ``SLICE_S``, calling the
heartbeat the waiting thread installed with ``beating`` after each. The heartbeat is per
thread: only the thread that runs the session (and owns its store connection) writes it; a
wait on any other thread (a screen's, a stream's) just waits. Nothing here knows of the store:
the runner installs the session's own heartbeat (``store.session_rows.beat_waiting``).

A single request blocks its thread in one call, with no wait to beat in: there the thread lends
its heartbeat (``beat_aside``) to the watchdog that holds the request's deadline
(``brokers.request_deadline``), which beats for it while the request is younger than that.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator


class HeartbeatStop(RuntimeError):
    """What a heartbeat raises to stop its session (``store.session_rows.RowEnded``: its row
    recorded ended under it). Raised out of a wait inside a broker's request, it is the
    session's end, never that request's failure: a broker call passes it on as it came."""


SLICE_S = 1.0
"""Longest piece of a wait between two calls of the heartbeat (which writes at most once a
second itself)."""

_here = threading.local()
"""This thread's heartbeat while it runs a session (``beating``), else none."""


Aside = Callable[[float], None]
"""A heartbeat written from another thread, given the seconds it may wait for the store at
most (until the first request deadline in flight: it must hold no request past it)."""
Lend = Callable[[], Aside | None]
"""Asked on the session's thread as one request is about to block it: the heartbeat another
thread may write for it meanwhile, or None (inside an open transaction)."""


@contextlib.contextmanager
def beating(beat: Callable[[], None], aside: Lend | None = None) -> Iterator[None]:
    """While inside, every ``wait`` of this thread calls ``beat`` about once a second, and a
    request blocking it is beaten for from aside with what ``aside`` lends (``beat_aside``)."""
    before = getattr(_here, "beat", None), getattr(_here, "aside", None)
    _here.beat, _here.aside = beat, aside
    try:
        yield
    finally:
        _here.beat, _here.aside = before


def beat_aside() -> Aside | None:
    """For one request about to block this thread (``brokers.request_deadline``): the
    heartbeat its watchdog may write meanwhile from its own thread; None when this thread runs
    no session or cannot lend one now."""
    lend: Lend | None = getattr(_here, "aside", None)
    return None if lend is None else lend()


def wait(event: threading.Event, seconds: float) -> bool:
    """Wait up to ``seconds`` or until ``event`` is set (True then, at once), calling this
    thread's heartbeat (``beating``) after each slice of at most ``SLICE_S``. Whatever the
    heartbeat raises (its row recorded ended under it) ends the wait: the caller's cycle fails
    as it would at its own next heartbeat. (The session's heartbeat raises no store error
    here: ``store.session_rows.beat_waiting``.)"""
    beat: Callable[[], None] | None = getattr(_here, "beat", None)
    if beat is None:
        return event.wait(max(seconds, 0.0))
    remaining = seconds
    while True:
        step = min(remaining, SLICE_S)
        if event.wait(max(step, 0.0)):
            return True
        remaining -= step
        beat()
        if remaining <= 1e-9:
            return False
