"""Alerts: the session's notices sent through apprise, off the trading thread.

apprise speaks email over SMTP, SMS gateways, Telegram, Slack, Discord, ntfy, Pushover, JSON
webhooks and more from one URL notation, so no sender is written here. The trading thread only
puts a notice on a bounded queue (never waits; a full queue drops the notice and says so). Costly
fills wait in a queue of their own, behind halts and every other notice, so a flood of fills can
neither crowd a halt out nor hold it back. Each URL has its own queues and sender thread (a dead
URL never holds back the next one), each attempt under a deadline, retrying a bounded number of
times; a delivery that still fails is written as an ``alert_deliveries`` row and one printed
line. URLs are shown and stored only with
their tokens and passwords masked.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tui_trader.engine.notices import SLIPPAGE, Notice
from tui_trader.store.own_connection import own_connection, own_errors

Report = Callable[[str], None]
"""Where one-line messages go (stderr on the command line, the log in the desk)."""


class AlertURLError(ValueError):
    """An alert URL apprise cannot use (the message shows the URL masked)."""


def redact(url: str) -> str:
    """``url`` with every token and password masked (apprise's privacy form, short)."""
    plugin = _instantiate(url)
    if plugin is not None:
        return plugin.url(privacy=True).split("?", 1)[0]
    scheme = _SCHEME.match(url.strip())  # not urlsplit: it raised on json://u:p@[::1 (a crash)
    return f"{scheme.group(1) if scheme else '?'}://****"


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]{0,31})://")
"""An alert URL's scheme, the one part of an unreadable URL shown."""


def check_alert_url(url: str) -> str:
    """Refuse a URL apprise does not understand; returns its masked form."""
    if _instantiate(url) is None:
        raise AlertURLError(f"--alert {redact(url)}: not an alert URL apprise understands")
    return redact(url)


def _instantiate(url: str):
    """apprise's plugin for ``url``, or ``None`` (apprise is imported here, lazily)."""
    import apprise

    logging.getLogger("apprise").setLevel(logging.CRITICAL)  # its errors name hosts and users
    return apprise.Apprise.instantiate(url.strip())


def deliver(url: str, title: str, body: str, deadline: float, severity: str = "info") -> str | None:
    """Send one message to ``url`` within ``deadline`` seconds; ``None`` or why it failed.

    apprise blocks while it talks; it runs on a helper thread that is abandoned (it ends on
    apprise's own socket timeouts) when the deadline passes. apprise talks on that thread
    itself (``_sequential_asset``): on apprise's own worker pool the abandoned attempt held the
    process at exit until the server's socket timeout, 15 s past a 1 s deadline.
    """
    outcome: list[str | None] = []

    def send() -> None:
        try:
            import apprise

            sender = apprise.Apprise(asset=_sequential_asset())
            if not sender.add(url.strip()):
                outcome.append("not an alert URL apprise understands")
                return
            ok = bool(sender.notify(title=title, body=body, notify_type=severity))
            outcome.append(None if ok else "the server did not accept it")
        except Exception as exc:  # any failure of a best-effort delivery is just a failure
            outcome.append(f"{type(exc).__name__}")

    worker = threading.Thread(target=send, name="alert-delivery", daemon=True)
    worker.start()
    worker.join(deadline)
    if worker.is_alive() or not outcome:
        return f"no answer within {deadline:g} s"
    return outcome[0]


def _sequential_asset():
    """apprise's settings for sending on the calling thread: no worker pool (whose threads
    the interpreter waits for at exit) and no deadline of apprise's own (``deliver`` keeps
    it), which apprise would otherwise enforce from that pool."""
    import apprise

    settings: dict[str, object] = {"async_mode": False}
    if hasattr(apprise.AppriseAsset, "_service_timeout"):  # apprise 2: 0 turns it off
        settings["service_timeout"] = 0
    return apprise.AppriseAsset(**settings)


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """How hard to try: per-attempt deadline, retries after the first attempt, pause between."""

    deadline: float = 10.0
    retries: int = 2
    backoff: float = 1.0
    queue_size: int = 100


class AlertNotifier:
    """Delivers notices to alert URLs, each URL on its own thread; ``submit`` never blocks."""

    def __init__(
        self,
        urls: tuple[str, ...],
        db: Path | None = None,
        report: Report | None = None,
        policy: AlertPolicy | None = None,
    ) -> None:
        """``db``: where failed deliveries are recorded (``alert_deliveries``); ``report``: where
        their one line goes."""
        self.urls = urls
        self.db = db
        self.report = report or (lambda line: None)
        self.policy = policy or AlertPolicy()
        self._shown = {url: redact(url) for url in urls}
        self._waiting = {url: (deque[Notice](), deque[Notice]()) for url in urls}
        """Per URL: halts, reconciliation differences, failed backups and the session's end,
        sent first; then costly fills (``--alert-slippage-bps``)."""
        self._ready = threading.Condition()
        self._ending = False
        self._closing = threading.Event()
        self.delivered = 0
        self.failed = 0
        self.dropped = 0
        self._threads = [
            threading.Thread(target=self._run, args=(url,), name="alert-sender", daemon=True)
            for url in urls
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, notice: Notice) -> None:
        """Queue a notice for every URL (the trading thread calls this); a full queue drops it
        for its URL. Each URL has two queues of ``queue_size`` notices: a hundred costly fills
        waiting behind a slow server once dropped the halt that came after them."""
        fill = notice.event == SLIPPAGE
        full: list[str] = []
        with self._ready:
            for url, (urgent, fills) in self._waiting.items():
                waiting = fills if fill else urgent
                if len(waiting) >= self.policy.queue_size:
                    full.append(url)
                else:
                    waiting.append(notice)
            self.dropped += len(full)
            self._ready.notify_all()
        for url in full:
            self.report(f"alert queue full: {notice.event} not sent to {self._shown[url]}")

    def close(self, timeout: float | None = None) -> bool:
        """Send what is queued (retries shortened to none) and stop; True when all was sent."""
        if timeout is None:
            timeout = (self.policy.deadline + 1) * max(len(self.urls), 1) * 2
        self._closing.set()
        with self._ready:
            self._ending = True
            self._ready.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def _next(self, url: str) -> Notice | None:
        """The next notice for ``url``, urgent ones first; ``None`` once closed and all sent."""
        urgent, fills = self._waiting[url]
        with self._ready:
            while not (urgent or fills or self._ending):
                self._ready.wait()
            if urgent:
                return urgent.popleft()
            return fills.popleft() if fills else None

    def _run(self, url: str) -> None:
        """One URL's sender loop, one notice at a time: a dead URL (retrying, or waiting on a
        server that never answers) held back every URL after it."""
        while (notice := self._next(url)) is not None:
            self._send(url, notice)

    def _count(self, delivered: bool) -> None:
        """One more delivered, or failed, notice (the senders share the counters)."""
        with self._ready:
            if delivered:
                self.delivered += 1
            else:
                self.failed += 1

    def _send(self, url: str, notice: Notice) -> None:
        """Deliver to one URL with bounded retries; record a final failure."""
        attempts = 0
        error: str | None = "not tried"
        while True:
            attempts += 1
            error = deliver(
                url, notice.title(), notice.body(), self.policy.deadline, notice.severity
            )
            if error is None:
                self._count(delivered=True)
                return
            if attempts > self.policy.retries or self._closing.wait(self.policy.backoff * attempts):
                break
        self._count(delivered=False)
        target = self._shown[url]
        self.report(
            f"alert not delivered to {target} ({notice.event}, {attempts} attempt(s)): {error}"
        )
        self._record(notice, target, attempts, error)

    def _record(self, notice: Notice, target: str, attempts: int, error: str) -> None:
        """Write the failed delivery as a row (its own connection: this is not the session's
        thread); a database that cannot take it loses only this row."""
        if self.db is None:
            return
        try:
            conn = own_connection(self.db)
            try:
                with conn:
                    conn.execute(
                        "INSERT INTO alert_deliveries "
                        "(timestamp, account_key, event, target, attempts, error) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (_now_text(), notice.account, notice.event, target, attempts, error),
                    )
            finally:
                conn.close()
        except own_errors() as exc:
            self.report(f"could not record the failed alert in {self.db}: {exc}")


def _now_text() -> str:
    """Now as the naive UTC text the tables store."""
    return datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
