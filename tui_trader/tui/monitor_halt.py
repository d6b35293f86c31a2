"""The monitor's kill switch, written to the store in the background: ctrl+k never waits for it.

``live monitor`` halts the session it follows by writing a ``halt_requests`` row. The write ran
on the UI thread: while the store did not answer, ctrl+k froze the screen for the store's
deadline (5 s for a PostgreSQL server that is down, 30 s for one that takes connections and
says nothing) and then said only that it failed. Now the request is taken at once and written
by a thread of its own: each try ends by the store's own deadlines (``store.pg``,
``store.pg_deadline``, SQLite's busy timeout) and, while the store does not answer, the writer
tries again every ``RETRY_SECONDS`` until the row is written. Every change is told to the
asker as a ``HaltStatus`` whose ``text`` says in plain words whether the request is written
yet. The same request still waiting is not queued twice (a second ctrl+k writes no second
row), and a try whose write landed but whose answer was lost is not written again by the next
(``store.halt_requests``). No Textual here: ``MonitorHandle`` owns one writer.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tui_trader.core.clock import Clock
from tui_trader.security.redact import redact

RETRY_SECONDS = 2.0
"""How often an unwritten halt request is tried again while the store does not answer."""

Write = Callable[[bool, datetime], None]
"""Writes one request (``flatten``, when it was asked): returns once the row is committed."""
StatusSink = Callable[["HaltStatus"], None]
"""Hears every change of the requests' status (from the writer's thread)."""


@dataclass(frozen=True, slots=True)
class HaltStatus:
    """Where the user's halt requests stand: written, waiting for the store, or refused."""

    flatten: bool
    """The newest request asks to close every position too."""
    written: bool
    """Every request so far is in the store (the session picks it up at its next cycle)."""
    trouble: str = ""
    """Why the last try did not write it (the store's words, redacted), empty if none failed."""
    failed: bool = False
    """The store refused the row for good (not "not answering"): it is not tried again."""

    @property
    def brief(self) -> str:
        """The status in a few words, for the desk bar (beside HALT REQUESTED)."""
        if self.failed:
            return "the store refused your request: stop the session where it runs"
        if self.written:
            return "by you, written: the session halts at its next cycle"
        if self.trouble:
            return "by you, NOT written yet: the store is unreachable, retrying"
        return "by you, being written to the store"

    @property
    def text(self) -> str:
        """The status in plain words, for the screen."""
        what = "HALT and FLATTEN requested by you" if self.flatten else "HALT requested by you"
        if self.failed:
            refused = f"the store refused it ({self.trouble})"
            return f"{what}: NOT written, {refused}; stop the session where it runs"
        if self.written:
            return f"{what}: written; the session halts at its next cycle"
        if self.trouble:
            return (
                f"{what}: not written yet, the store is unreachable ({self.trouble}); retrying "
                f"every {RETRY_SECONDS:g} s"
            )
        return f"{what}: being written to the store"


def store_cause(exc: BaseException) -> str:
    """An error's own words on one line, redacted and short (never its class name)."""
    return redact(" ".join(str(exc).split()))[:160] or "no answer"


class HaltWriter:
    """Takes halt requests at once and writes them, in order, from a thread of its own."""

    def __init__(
        self,
        write: Write,
        clock: Clock,
        retry_on: tuple[type[BaseException], ...],
        drop: Callable[[], None] | None = None,
    ) -> None:
        """Write with ``write``; a try that raises one of ``retry_on`` (the store not
        answering) is tried again every ``RETRY_SECONDS``, any other error ends the request.
        ``drop`` closes the writer thread's store connection: after a failed try (the next
        one opens a fresh connection) and as the thread ends."""
        self._write = write
        self._clock = clock
        self._retry_on = retry_on
        self._drop = drop
        self._lock = threading.Lock()
        self._pending: list[tuple[bool, datetime]] = []
        """Requests not written yet, oldest first: (flatten, when asked)."""
        self._status: HaltStatus | None = None
        self._sink: StatusSink | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def request(
        self, flatten: bool, store_down: str = "", sink: StatusSink | None = None
    ) -> HaltStatus | None:
        """Queue a request and return its status at once (``store_down``: why the store is
        known not to answer now); None when the same request is already waiting to be
        written (nothing is queued). ``sink`` hears every later change."""
        with self._lock:
            if sink is not None:
                self._sink = sink
            if any(waiting == flatten for waiting, _ in self._pending):
                return None
            self._pending.append((flatten, self._clock.now()))
            trouble = store_down or (self._status.trouble if self._status else "")
            if self._status is not None and self._status.failed:
                trouble = store_down
            self._status = HaltStatus(flatten, written=False, trouble=trouble)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="monitor-halt", daemon=True)
                self._thread.start()
            return self._status

    def stop(self) -> None:
        """Stop trying (the monitor quits); a try under way ends by its own deadline."""
        self._stop.set()

    def _run(self) -> None:
        """Write every waiting request, oldest first, trying again while the store is away."""
        try:
            self._write_all()
        finally:
            self._drop_connection()

    def _drop_connection(self) -> None:
        """Close this thread's store connection (a broken one is dropped all the same)."""
        if self._drop is not None:
            with contextlib.suppress(Exception):
                self._drop()

    def _write_all(self) -> None:
        """The writer thread's loop: until nothing waits, or ``stop``."""
        while not self._stop.is_set():
            with self._lock:
                if not self._pending:
                    self._thread = None
                    return
                flatten, asked = self._pending[0]
            try:
                self._write(flatten, asked)
            except self._retry_on as exc:
                self._drop_connection()
                self._tell(trouble=store_cause(exc))
                self._stop.wait(RETRY_SECONDS)
                continue
            except Exception as exc:  # refused for good: said loudly, the request dropped
                with self._lock:
                    self._pending.clear()
                self._tell(trouble=store_cause(exc), failed=True)
                continue
            with self._lock:
                self._pending.pop(0)
            self._tell(written=True)
        with self._lock:
            self._thread = None

    def _tell(self, trouble: str = "", written: bool = False, failed: bool = False) -> None:
        """Record the new status and tell the sink (never raising into the writer)."""
        with self._lock:
            newest = self._pending[-1][0] if self._pending else self._status_flatten()
            left = bool(self._pending)
            status = HaltStatus(newest, written and not left, trouble, failed)
            self._status = status
            sink = self._sink
        if sink is not None:
            with contextlib.suppress(Exception):  # an app that is closing hears nothing
                sink(status)

    @property
    def status(self) -> HaltStatus | None:
        """Where the requests stand after the writer's last try (``None`` before any)."""
        with self._lock:
            return self._status

    def _status_flatten(self) -> bool:
        """The flatten flag of the last status (the requests are all written)."""
        return self._status.flatten if self._status is not None else False
