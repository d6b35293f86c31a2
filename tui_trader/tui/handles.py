"""Session handles: one interface for a session the app runs and one it only follows.

The app's worker calls ``run``; the UI thread calls ``kill``, ``resume`` and ``stop``, which are
thread-safe. A local handle builds the session inside the worker (building may read files or the
network) and drives it with ``SessionRunner``; a monitor handle follows another process's session
through the database and reaches it with halt requests.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from tui_trader.core.clock import Clock
from tui_trader.core.domain import IterationReport
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.market.sources import is_recorded
from tui_trader.ops.session_ops import OpsSettings, SessionOps, attach_ops
from tui_trader.session.runner import RunResult, SessionRunner
from tui_trader.store.peewee_names import OperationalError
from tui_trader.tui.state import SessionInfo

ReportSink = Callable[[IterationReport], None]
NoticeSink = Callable[[str, bool], None]
"""A line about following the session (``True``: something is wrong, ``False``: it is over)."""
SessionFactory = Callable[[], TradingSession]


class SessionHandle(Protocol):
    """What the app needs from a session, whoever runs it."""

    def build(self) -> SessionInfo:
        """Open the session (worker thread); raise ``SettingsError``/``MarketDataError``."""
        ...

    def run(self, on_report: ReportSink, on_notice: NoticeSink | None = None) -> RunResult:
        """Drive or follow the session until it ends or ``stop`` is called (worker thread);
        ``on_notice`` hears what is wrong with following it (a store that stopped answering)."""
        ...

    def kill(self, flatten: bool) -> None:
        """Halt trading at once; with ``flatten``, close every position too (any thread)."""
        ...

    def resume(self) -> None:
        """Ask to lift the halt; the session decides whether the risk state allows it."""
        ...

    def resume_refusal(self) -> str | None:
        """Why a resume would be refused now, or ``None``."""
        ...

    def stop(self) -> None:
        """End the loop after the current cycle; the final state is written (any thread)."""
        ...


def session_info(session: TradingSession, connection: str) -> SessionInfo:
    """The dashboard's fixed facts about an in-process session."""
    cfg = session.config
    return SessionInfo(
        key=session.audit.session.key,
        mode=cfg.mode,
        connection=connection,
        symbols=cfg.symbols,
        start_cash=cfg.start_cash,
        max_drawdown_pct=cfg.limits.max_drawdown_pct,
        max_daily_loss_pct=cfg.limits.max_daily_loss_pct,
        max_orders_per_day=cfg.limits.max_orders_per_day,
        daily_bars=cfg.interval.is_daily,
        notices=tuple(session.startup_notes),
        startup_events=tuple(session.startup_events),
        capital=cfg.capital,
        recorded=is_recorded(cfg.data_label),
    )


class LocalHandle:
    """A session built and run in this process, in the app's trading worker."""

    def __init__(
        self,
        factory: SessionFactory,
        iterations: int,
        every: float,
        ops: OpsSettings | None = None,
        db: Path | None = None,
    ) -> None:
        """Remember how to build the session (it is built in the worker), and its alerts and
        backups (``ops``, on the database ``db``)."""
        self.factory = factory
        self.ops_settings = ops
        self.db = db
        self.ops: SessionOps | None = None
        self.iterations = iterations
        self.every = every
        self.session: TradingSession | None = None
        self._runner: SessionRunner | None = None
        self._lock = threading.Lock()
        self._early_kill: bool | None = None
        self._stopped = False

    def build(self) -> SessionInfo:
        """Build the session; a kill pressed while it was being built is applied at once."""
        session = self.factory()
        if self.ops_settings is not None and self.ops_settings.active and self.db is not None:
            self.ops = attach_ops(session, self.ops_settings, self.db, _log_line)
        with self._lock:
            self.session = session
            if self._early_kill is not None:
                session.request_kill("user", self._early_kill, "pressed while the session started")
        where = session.config.mode if session.config.mode != "local" else "local"
        return session_info(session, f"{where} {session.broker.name} broker")

    def run(self, on_report: ReportSink, on_notice: NoticeSink | None = None) -> RunResult:
        """Run the session with the runner until its end, a stop or a failure (its notes come
        in its reports: ``on_notice`` is not used here)."""
        assert self.session is not None
        with self._lock:
            self._runner = SessionRunner(self.session, self.iterations, self.every, on_report)
            if self._stopped:
                self._runner.stop()
        try:
            result = self._runner.run()
            if result.status == "stopped":
                final_snapshot(self.session)
        finally:
            if self.ops is not None:
                self.ops.close()
            self.session.broker.close()
            # This thread's connection: closing it lets SQLite fold the write-ahead log back
            # into the file (left open, the log outlived the app beside the database).
            with contextlib.suppress(OperationalError):  # a transaction left open: keep the log
                self.session.audit.db.close()
        return result

    def kill(self, flatten: bool) -> None:
        """Hand the kill to the session (or remember it until the session exists)."""
        with self._lock:
            if self.session is None:
                self._early_kill = bool(self._early_kill) or flatten
                return
            session = self.session
        reason = "flatten requested" if flatten else "ctrl+k"
        session.request_kill("user", flatten, reason)

    def resume(self) -> None:
        """Pass the resume request to the session's worker."""
        if self.session is not None:
            self.session.request_resume("user")

    def resume_refusal(self) -> str | None:
        """The session's own verdict on resuming."""
        if self.session is None or not self.session.started:
            return "the session has not started"
        return self.session.resume_refusal()

    def _started(self) -> TradingSession:
        """The session, once built (manual requests need one)."""
        if self.session is None:
            raise RuntimeError("the session is still starting")
        return self.session

    def manual_order(self, order: ManualOrder) -> None:
        """Queue a ticket for the session's thread (``ValueError`` if the ticket is unusable)."""
        self._started().request_manual_order(order)

    def cancel_order(self, client_order_id: str) -> None:
        """Queue the cancel of one working order."""
        self._started().request_cancel(client_order_id)

    def close_position(self, symbol: str | None) -> None:
        """Queue closing one position, or every position (``None``)."""
        self._started().request_close(symbol)

    def stop(self) -> None:
        """Stop the runner (or prevent it from starting)."""
        with self._lock:
            self._stopped = True
            runner = self._runner
        if runner is not None:
            runner.stop()


def _log_line(line: str) -> None:
    """An operations line (a failed alert or backup) goes to the log: the screen is Textual's."""
    logging.getLogger("tui_trader.ops").warning(line)


def local_factory(
    settings,
    clock: Clock | None = None,
    adopt_positions: bool = False,
    readiness_skipped: str | None = None,
    say: Callable[[str], None] | None = None,
) -> SessionFactory:
    """A factory that builds a local session from ``LocalSettings`` (inside the worker).
    ``adopt_positions``, ``readiness_skipped`` and ``say`` have nothing to do here: only this
    session moves a local account, no gate stands before simulated money, and nothing is
    waited for."""

    def build() -> TradingSession:
        from tui_trader.session.local import build_local_session

        return build_local_session(settings, clock)

    return build


def alpaca_factory(mode: str) -> Callable[..., SessionFactory]:
    """A builder of Alpaca sessions (``paper`` or ``live``) from the setup form's settings.

    Credentials and URLs come from the environment or ``.env`` exactly as on the command line;
    a missing key, a refused URL or an unreachable server fails the start in one sentence. A
    live session started past the paper-to-live gate with ``--skip-readiness`` records that
    (``readiness_skipped``, the verdict) as ``live trading`` does.
    """

    def builder(
        settings,
        clock: Clock | None = None,
        adopt_positions: bool = False,
        readiness_skipped: str | None = None,
        say: Callable[[str], None] | None = None,
    ) -> SessionFactory:
        def build() -> TradingSession:
            from tui_trader.brokers.alpaca_config import LIVE_URL, PAPER_URL, load_endpoint
            from tui_trader.session.alpaca import AlpacaSettings, build_alpaca_session

            endpoint = load_endpoint(LIVE_URL if mode == "live" else PAPER_URL)
            alpaca = AlpacaSettings(
                mode=mode,
                db=settings.db,
                symbols=settings.symbols or ("SPY", "QQQ", "IWM"),
                interval=settings.interval,
                period=settings.period,
                limits=settings.limits,
                flatten_on_halt=settings.flatten_on_halt,
                stop_loss=settings.stop_loss,
                take_profit_pct=settings.take_profit_pct,
                allocation_pct=settings.allocation_pct,
                requests_per_minute=settings.requests_per_minute,
                suspend_on_halt=settings.suspend_on_halt,
                require_open_market=not settings.ignore_market_hours,
                capital=settings.capital,
                **({} if settings.timeout is None else {"timeout": settings.timeout}),
                learning=settings.learning,
                adopt_positions=adopt_positions,
            )
            # a key whose minute is nearly spent: the start waits, said through ``say``
            session = build_alpaca_session(alpaca, endpoint, clock=clock, say=say)
            if mode == "live":  # the gate skipped (--skip-readiness): said in the audit trail
                from tui_trader.ops.readiness import record_skip

                skipped = record_skip(session, readiness_skipped)
                if skipped is not None:  # shown with the start's other events
                    session.startup_events.append(skipped)
            return session

        return build

    return builder


SESSION_BUILDERS: dict[str, Callable[..., SessionFactory]] = {
    "local": local_factory,
    "paper": alpaca_factory("paper"),
    "live": alpaca_factory("live"),
}
"""Session factories by mode: every mode is just another way to build a ``TradingSession``."""


def final_snapshot(session: TradingSession) -> None:
    """Record the account as it is when the user stops the session (a kill between bars may
    have changed it since the last cycle's snapshot), stamped with the last bar's time: a
    simulated or replayed session's market is not at the wall clock's time, and ``pnl`` and
    ``status`` read the snapshot's market time as the day it belongs to."""
    marker = session.fills_marker()  # before the positions: see ``AuditLog.snapshot``
    account = session.broker.account()
    session.audit.snapshot(
        session.iteration,
        account,
        session.broker.positions(),
        session.risk.drawdown_pct(account.equity),
        session.risk.daily_pnl(account.equity),
        session.risk.state.state,
        session.market_time or session.clock.now(),
        marker,
    )
