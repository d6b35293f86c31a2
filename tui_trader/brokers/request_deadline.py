"""A deadline on the whole of every HTTP request to Alpaca, and a heartbeat while one blocks.

requests' ``timeout=`` bounds each socket operation, not a request: a server or a proxy that
trickles its answer (a byte every few seconds) kept one ``get_account`` going for as long as the
body lasted, past the heartbeat window (other desks then found this live desk dead and took its
symbols over) and, for an answer that never ends, for ever. So every request of a ``prepare``d
client runs under a deadline from its first byte sent to its last byte read: a watchdog thread
shuts the request's socket down when the deadline passes, the blocked read returns at once, and
the request raises ``DeadlineExceeded`` (a ``requests.Timeout``: a read counts it as a transient
failure and retries it within the policy; an order submission is an order in doubt, settled by
asking for its client id, ``brokers.alpaca_submit``). A connection still being opened has no
socket to shut: its connect timeout (the same seconds) bounds the opening, and once open it
finds its request cut and sends nothing (``_join``).

While a request blocks the thread that runs a session, that thread cannot beat. The watchdog
beats for it, about once a second, through the heartbeat the thread lent when the request began
(``core.waiting.beat_aside``: none inside an open transaction), and only while the request is in
flight and younger than its deadline: a session hung past it stops beating and goes stale, as a
hung session must. A request done within a second costs the watchdog nothing but a set entry.
Such a heartbeat waits for a busy store only until the first deadline in flight (it is told the
seconds left): written on the watchdog's thread, it held every cut back while it waited (its
own request's, and another desk's in the same process: ``serve``), and a request under a 2-s
deadline ended after 11 s (SQLite's 10-s busy timeout) while another connection held the
store's write lock.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from tui_trader.core import waiting

BEAT_EVERY = waiting.SLICE_S
"""Seconds between the watchdog's heartbeats for a request that blocks a session's thread."""
LINGER = 2.0
"""Seconds the idle watchdog still wakes on its own before it sleeps until the next request:
requests that follow one another need no wake-up call each."""


class DeadlineExceeded(requests.exceptions.Timeout):
    """A request not answered in full within its deadline (cut by the watchdog)."""


class Flight:
    """One request in flight: its deadline, its connections, the heartbeat lent for it."""

    __slots__ = ("beat", "beaten", "conns", "cut", "deadline", "done", "lock")

    def __init__(self, deadline: float, now: float, beat: waiting.Aside | None) -> None:
        """A request begun at ``now`` that must end by ``deadline`` (the watchdog's clock)."""
        self.deadline = deadline
        self.beat = beat
        self.beaten = now
        """When the watchdog last beat for it (its start at first)."""
        self.conns: list[Any] = []
        """The connections it sent on (a redirect may add one)."""
        self.cut = False
        self.done = False
        self.lock = threading.Lock()
        """Held while the watchdog beats or cuts, and by the request's end: neither happens
        once the request's thread goes on."""


class Watchdog:
    """Cuts requests past their deadline and beats for the ones younger than it.

    One per process runs in a daemon thread (``watchdog()``); a test makes its own with its
    own clock and calls ``tick`` itself."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, threaded: bool = True) -> None:
        """``clock``: seconds, for deadlines and beats; ``threaded``: run ``tick`` in a thread."""
        self.clock = clock
        self._threaded = threaded
        self._flights: set[Flight] = set()
        self._cond = threading.Condition()
        self._wake_at = float("inf")
        """When the sleeping watchdog wakes on its own (minus infinity while it is awake)."""
        self._earliest = float("inf")
        """The first beat or deadline due of the requests begun since its last tick."""
        self._thread: threading.Thread | None = None

    def begin(self, seconds: float, beat: waiting.Aside | None) -> Flight:
        """A request starts now and must end within ``seconds``; ``beat``, if any, is the
        heartbeat of the thread it blocks."""
        now = self.clock()
        flight = Flight(now + seconds, now, beat)
        first = min(flight.deadline, now + BEAT_EVERY) if beat else flight.deadline
        with self._cond:
            self._flights.add(flight)
            self._earliest = min(self._earliest, first)
            if self._threaded and self._thread is None:
                self._thread = threading.Thread(target=self._run, name="request-deadline")
                self._thread.daemon = True
                self._thread.start()
            if first < self._wake_at:
                self._cond.notify()
        return flight

    def end(self, flight: Flight) -> None:
        """The request is over (answered or failed): no beat or cut for it from now on."""
        with flight.lock:
            flight.done = True
        with self._cond:
            self._flights.discard(flight)

    def in_flight(self) -> int:
        """Requests being watched now."""
        with self._cond:
            return len(self._flights)

    def tick(self) -> float:
        """Cut the requests past their deadline, beat for the others due a heartbeat; returns
        when something is next due (infinity: nothing in flight)."""
        now = self.clock()
        with self._cond:
            flights = list(self._flights)
        for flight in flights:  # every cut first: no heartbeat holds one back
            if now >= flight.deadline:
                self._cut(flight)
        flights = [f for f in flights if now < f.deadline]
        # a heartbeat may wait for its store until the first deadline of any request (another
        # thread's, another desk's in this process), whose cut comes after it
        first = min((f.deadline for f in flights), default=float("inf"))
        due = first
        for flight in flights:
            if flight.beat is None:
                continue
            if now - flight.beaten >= BEAT_EVERY:
                self._beat(flight, now, first)
            due = min(due, flight.beaten + BEAT_EVERY)
        return due

    def _beat(self, flight: Flight, now: float, until: float) -> None:
        """Write the blocked thread's heartbeat. The session's own (``beat_aside``) swallows
        what a store may raise; anything else is a heartbeat missed, never the end of the
        watchdog, which holds every request's deadline: the session's next heartbeat on its
        own thread meets the same trouble where it can stop the session. It may wait for the
        store until ``until`` (the first deadline in flight), no longer: the cut comes after
        it."""
        with flight.lock:
            if flight.done or flight.beat is None:
                return
            flight.beaten = now
            with contextlib.suppress(Exception):
                flight.beat(max(until - self.clock(), 0.0))

    def _cut(self, flight: Flight) -> None:
        """Shut the request's sockets down: its blocked read returns at once. A connection
        still being opened has no socket yet: it shuts its own once open (``_Watched``)."""
        with flight.lock:
            if not flight.done and not flight.cut:
                flight.cut = True
                for conn in flight.conns:
                    _shut(conn)
        with self._cond:
            self._flights.discard(flight)

    def _run(self) -> None:
        """The watchdog thread: tick when something is due, linger a while once idle, then
        sleep until a request begins."""
        lingered = False
        while True:
            with self._cond:
                self._earliest = float("inf")
            due = self.tick()
            with self._cond:
                now = self.clock()
                if self._flights:
                    lingered, wake = False, min(due, self._earliest)
                elif not lingered:
                    lingered, wake = True, now + LINGER
                else:
                    wake = float("inf")
                self._wake_at = wake
                self._cond.wait(None if wake == float("inf") else max(wake - now, 0.0))
                self._wake_at = float("-inf")  # awake: a request begun now is seen anyway


_watchdog = Watchdog()
_here = threading.local()
"""The request this thread has in flight (``with_deadline``), for its connections to join."""


def watchdog() -> Watchdog:
    """The process's watchdog."""
    return _watchdog


def with_deadline(
    request: Callable[..., Any], seconds: float, dog: Watchdog | None = None
) -> Callable[..., Any]:
    """``requests.Session.request`` (of a session ``watch``ed) under a deadline of ``seconds``
    for the whole request; the watchdog beats for a session's thread it blocks meanwhile."""

    @functools.wraps(request)
    def send(*args: Any, **kwargs: Any) -> Any:
        keeper = dog or _watchdog
        flight = keeper.begin(seconds, waiting.beat_aside())
        before = getattr(_here, "flight", None)
        _here.flight = flight
        try:
            return request(*args, **kwargs)
        except Exception as exc:
            if flight.cut:
                raise DeadlineExceeded(f"no complete answer within {seconds:g} s") from exc
            raise
        finally:
            _here.flight = before
            keeper.end(flight)

    return send


def _shut(conn: Any) -> None:
    """Shut ``conn``'s socket down, if it has one: a read or a send on it fails at once."""
    sock = getattr(conn, "sock", None)
    if sock is not None:
        # already closed, or no plain socket (TLS inside TLS): nothing to do
        with contextlib.suppress(OSError, TypeError):
            # the plain socket's shutdown: an SSL socket's would unwrap it
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _join(conn: Any) -> None:
    """Make ``conn`` one of the request in flight on this thread (if any), to be cut at its
    deadline; one whose deadline already passed (while the connection was being opened,
    with no socket to shut) is cut now, so nothing more is sent or read on it: before, it went
    on unwatched, and a trickled answer blocked the thread for as long as it lasted."""
    flight: Flight | None = getattr(_here, "flight", None)
    if flight is None:
        return
    with flight.lock:  # against ``_cut``: either it sees this socket, or this sees the cut
        if conn not in flight.conns:
            flight.conns.append(conn)
        if flight.cut:
            _shut(conn)


class _Watched:
    """A connection that joins the request in flight on its thread, so it can be cut."""

    def connect(self) -> None:
        """Open the connection (a TLS one before its request is sent), then join the request:
        a deadline passed meanwhile cuts it at once."""
        super().connect()  # type: ignore[misc]
        _join(self)

    def request(self, *args: Any, **kwargs: Any) -> Any:
        """Send a request, known to the watchdog first."""
        _join(self)
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Watched, HTTPConnection):
    """A watched plain connection."""


class _HTTPSConnection(_Watched, HTTPSConnection):
    """A watched TLS connection."""


class _HTTPPool(HTTPConnectionPool):
    """A pool of watched plain connections."""

    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    """A pool of watched TLS connections."""

    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter whose pools (a proxy's included) hold watched connections."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """The direct pools."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        """A proxy's pools."""
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


def watch(session: requests.Session) -> None:
    """Make every connection of ``session`` one the watchdog can cut (``with_deadline``)."""
    for prefix in ("https://", "http://"):
        session.mount(prefix, _WatchedAdapter())
