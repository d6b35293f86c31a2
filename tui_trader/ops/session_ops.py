"""Operations attached to a running session: its alerts and its periodic backups.

``attach_ops`` gives a started session an alert queue (``session.notify``) and, when asked, a
backup thread; it also sends what reconciliation found at start, which happened before the
queue existed. ``close`` waits (boundedly) for the last alerts and stops the backups. Nothing
here can stop trading: a failed backup is alerted, written as a risk event and printed, and the
session goes on.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tui_trader.engine.notices import Notice
from tui_trader.engine.reconcile import RECONCILIATION
from tui_trader.ops.alerts import AlertNotifier, AlertPolicy, Report
from tui_trader.ops.backup import BackupError, backup_database, default_backup_dir, rotate
from tui_trader.ops.backup_keep import DEFAULT_BACKUP_KEEP
from tui_trader.store.own_connection import own_connection, own_errors

BACKUP_FAILED = "backup_failed"


@dataclass(frozen=True, slots=True)
class OpsSettings:
    """``--alert``, ``--backup-every``, ``--backup-keep``, ``--alert-slippage-bps``."""

    alerts: tuple[str, ...] = ()
    backup_every: float = 0.0
    """Minutes between backups; 0: none."""
    backup_keep: int = DEFAULT_BACKUP_KEEP
    """Backups kept (the oldest are deleted); 0 (``--backup-keep all``): every one
    (``ops.backup_keep`` says why the default is bounded)."""
    backup_dir: Path | None = None
    """Where backups go (default: ``backups/`` beside the database)."""
    slippage_alert_bps: float | None = None
    """Alert on a fill whose slippage exceeds this many basis points."""
    policy: AlertPolicy = field(default_factory=AlertPolicy)

    @property
    def active(self) -> bool:
        """Whether there is anything to attach."""
        return bool(self.alerts or self.backup_every > 0)


class SessionOps:
    """The alert queue and backup thread of one session."""

    def __init__(self, session, settings: OpsSettings, db: Path, report: Report) -> None:
        """Attach to ``session`` (already started)."""
        self.session = session
        self.settings = settings
        self.db = db
        self.report = report
        self.notifier: AlertNotifier | None = None
        self.backups: list[Path] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if settings.alerts:
            self.notifier = AlertNotifier(settings.alerts, db, report, settings.policy)
            session.notify = self.notifier.submit
            session.slippage_alert_bps = settings.slippage_alert_bps
            for event in session.startup_events:
                if event.event_type == RECONCILIATION:
                    self._tell(event.event_type, event.value, event.action_taken, event.detail)
        if settings.backup_every > 0:
            self._thread = threading.Thread(target=self._backup_loop, name="backups", daemon=True)
            self._thread.start()

    def close(self, timeout: float | None = None) -> None:
        """Stop the backups and send the alerts still queued (bounded by the alert deadline)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout or 60.0)
        if self.notifier is not None and not self.notifier.close(timeout):
            self.report("alerts still being sent were abandoned at exit")

    def _backup_loop(self) -> None:
        """Back up every ``backup_every`` minutes until closed."""
        every = self.settings.backup_every * 60.0
        while not self._stop.wait(every):
            self.backup_now()

    def backup_now(self) -> Path | None:
        """One verified backup with rotation; a failure is alerted, recorded and printed."""
        folder = self.settings.backup_dir or default_backup_dir(self.db)
        try:
            path = backup_database(self.db, folder).path
        except BackupError as exc:
            self.report(f"backup failed (trading continues): {exc}")
            self._record_failure(str(exc))
            self._tell(BACKUP_FAILED, 0.0, "trading continues; no backup this time", str(exc))
            return None
        self.backups.append(path)
        rotate(folder, self.db, self.settings.backup_keep)
        return path

    def _tell(self, event: str, value: float, action: str, detail: str) -> None:
        """Queue a notice about this session (no-op without alerts)."""
        if self.notifier is None:
            return
        s = self.session
        equity = s.equity_seen
        self.notifier.submit(
            Notice(s.config.mode, s.account_key, event, value, 0.0, action, equity, detail)
        )

    def _record_failure(self, detail: str) -> None:
        """Write the failed backup as a risk event of this session's account."""
        row = getattr(self.session.audit, "session", None)
        with contextlib.suppress(*own_errors()):
            conn = own_connection(self.db)
            try:
                with conn:
                    conn.execute(
                        "INSERT INTO live_risk_events (session_id, account_key, timestamp, "
                        'event_type, value, "limit", action_taken, detail) '
                        "VALUES (?, ?, ?, ?, 0, 0, ?, ?)",
                        (
                            getattr(row, "id", None),
                            self.session.account_key,
                            datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" "),
                            BACKUP_FAILED,
                            "trading continues",
                            detail,
                        ),
                    )
            finally:
                conn.close()


def attach_ops(session, settings: OpsSettings, db: Path, report: Report) -> SessionOps:
    """Give a started session its alerts and backups."""
    return SessionOps(session, settings, db, report)
