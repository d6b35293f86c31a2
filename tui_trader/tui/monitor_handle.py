"""``tui-trader live monitor``'s session handle: follow another process's session through the
audit store, and press its kill switch there.

While the store does not answer (a PostgreSQL server down or restarting, a connection the
server ended, a locked file), the monitor says so once in plain words, tries again every
``RETRY_SECONDS`` (each try bounded by the store's own deadlines: it never hangs) and follows
the session again once the store answers, saying that too.

Its kill switch never waits for the store: the request is taken at once and written in the
background (``monitor_halt``), retried while the store does not answer; the screen says
whether it is written yet.
"""

from __future__ import annotations

import threading

from tui_trader.session.runner import RunResult
from tui_trader.tui.handles import NoticeSink, ReportSink
from tui_trader.tui.monitor import POLL_SECONDS, UNREACHABLE, DbFollower
from tui_trader.tui.monitor_halt import HaltStatus, HaltWriter, StatusSink, store_cause
from tui_trader.tui.state import SessionInfo

RETRY_SECONDS = 2.0
"""How often the monitor tries a store that stopped answering."""


def unreachable(where: object, exc: BaseException) -> str:
    """What the monitor says while the store does not answer: plain words, the cause as the
    store gave it (redacted), never an exception's class name."""
    cause = store_cause(exc)
    return (
        f"the audit store {where} is unreachable ({cause}); the monitor tries again every "
        f"{RETRY_SECONDS:g} s and follows the session once it answers. The session itself "
        "runs on where it runs"
    )


def reachable_again(where: object) -> str:
    """What the monitor says once the store answers again."""
    return f"the audit store {where} answers again: following the session"


class MonitorHandle:
    """The session handle for ``live monitor``: follow the rows, kill through the database."""

    def __init__(self, follower: DbFollower, poll_seconds: float = POLL_SECONDS) -> None:
        """Follow through ``follower``, polling every ``poll_seconds``."""
        self.follower = follower
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._lost = ""
        """Why the store did not answer the last poll (empty while it answers)."""
        self.halts = HaltWriter(
            follower.write_halt, follower.clock, UNREACHABLE, drop=follower.drop_connection
        )
        """Writes the kill switch's requests in the background."""

    def build(self) -> SessionInfo:
        """Open the database and pick the session to follow."""
        return self.follower.open()

    def run(self, on_report: ReportSink, on_notice: NoticeSink | None = None) -> RunResult:
        """Poll until stopped; ends by itself shortly after the followed session ends. While
        the store does not answer, ``on_notice`` hears so once (and once when it is back)."""
        status = "stopped"
        polls = 0
        lost = False
        say = on_notice or (lambda text, trouble: None)
        while not self._stop.is_set():
            try:
                for report in self.follower.poll():
                    on_report(report)
                polls += 1
                if polls % 4 == 0 and self.follower.status() != "running":
                    for report in self.follower.poll():
                        on_report(report)
                    status = f"ended in the other process ({self.follower.status()})"
                    break
            except UNREACHABLE as exc:
                if not lost:
                    say(unreachable(self.follower.db_path, exc), True)
                lost = True
                self._lost = store_cause(exc)
                self.follower.drop_connection()
                self._stop.wait(RETRY_SECONDS)
                continue
            if lost:
                lost = False
                self._lost = ""
                say(reachable_again(self.follower.db_path), False)
            self._stop.wait(self.poll_seconds)
        return RunResult(status, 0)

    def kill(self, flatten: bool) -> None:
        """Ask the followed session to halt (written in the background, never waited for)."""
        self.request_halt(flatten)

    def request_halt(self, flatten: bool, sink: StatusSink | None = None) -> HaltStatus | None:
        """Queue a halt request and return its status at once; None when the same request
        is still waiting to be written. ``sink`` hears when it is written (or why not yet)."""
        return self.halts.request(flatten, self._lost, sink)

    def resume(self) -> None:
        """Never: a followed session is resumed where it runs."""

    def resume_refusal(self) -> str | None:
        """The monitor cannot lift a halt in another process."""
        return "resume from the process that runs the session (tui-trader risk reset)"

    def stop(self) -> None:
        """End the polling loop and stop trying to write halt requests."""
        self._stop.set()
        self.halts.stop()
