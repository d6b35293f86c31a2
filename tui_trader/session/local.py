"""Building a ready-to-run local session from the user's settings.

The CLI and the Textual setup screen both describe a session as ``LocalSettings`` and call
``build_local_session``; neither assembles markets, brokers or stores itself. Every setting is
checked here, so a bad value becomes one ``SettingsError`` sentence before anything starts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_trader.brokers.alpaca_budget import RATE_PER_MINUTE
from tui_trader.brokers.paper import PaperBroker
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.clock import Clock, WallClock
from tui_trader.core.timeframes import TimeframeError, check_warmup, parse_interval, parse_period
from tui_trader.engine.session import SessionConfig, TradingSession
from tui_trader.learning.setup import LearningSettings, build_allocation
from tui_trader.market import MarketDataError
from tui_trader.market.sources import open_market, parse_data_spec
from tui_trader.risk.limits import RiskLimits
from tui_trader.risk.stops import StopRule
from tui_trader.session.lost_store import lost_at_start
from tui_trader.session.stopped_start import end_stopped_start
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import StoreError, open_database
from tui_trader.store.learning_journal import StoreLearningJournal
from tui_trader.store.sqlite_errors import (
    disk_full_message,
    is_disk_full,
    is_read_only,
    read_only_message,
)
from tui_trader.strategies.family import STRATEGY_NAMES


class SettingsError(ValueError):
    """A setting that cannot work, said in one sentence a user can act on."""


@dataclass(frozen=True, slots=True)
class LocalSettings:
    """What a user chooses for a local paper session (CLI options or the setup screen)."""

    db: Path
    symbols: tuple[str, ...] | None = None
    interval: str = "1d"
    period: str = "60d"
    start_cash: float = 100_000.0
    data: str = "sim"
    seed: int = 7
    limits: RiskLimits = field(default_factory=RiskLimits)
    flatten_on_halt: bool = False
    stop_loss: StopRule | None = None
    """``--stop-loss``: a broker-held stop for every position (``engine/protective_stops``)."""
    take_profit_pct: float | None = None
    slippage_bps: float = 5.0
    commission_per_share: float = 0.005
    commission_min: float = 1.0
    fractional: bool = False
    allow_short: bool = False
    allocation_pct: float | None = None
    requests_per_minute: float = RATE_PER_MINUTE
    """The settings file's ``requests-per-minute``, for a desk's Alpaca session (the account's
    request budget, ``brokers.alpaca_budget``); a local session sends no requests."""
    timeout: float | None = None
    """The settings file's ``timeout``: seconds per request of a desk's Alpaca session (None:
    ``AlpacaSettings``' default). A local session reads Yahoo's deadline from ``yahoo``."""
    suspend_on_halt: bool = False
    ignore_market_hours: bool = False
    capital: float | None = None
    """The settings file's ``suspend-on-halt``, ``ignore-market-hours`` and ``start-cash`` as
    ``live paper`` reads them, for a desk's Alpaca session (a local account has no suspend
    flag, no market hours, and its cash is ``start_cash``)."""
    iterations: int | None = None
    """Decision cycles planned (bounds a Yahoo download; None or 0: another period)."""
    yahoo: Any = None
    """``YahooOptions`` for ``--data yahoo`` (cache folder, deadline, adjusted, offline)."""
    report: Callable[[str], None] | None = None
    """Where data-source notes go (an offline fallback and its age, dropped rows)."""
    learning: LearningSettings = field(default_factory=LearningSettings)
    """``--weights``, ``--learning-rate``, ``--weight-floor``."""
    snapshot_every: int = 1
    """Account snapshot cadence in cycles (``--snapshot-every``; a replay setting)."""
    commit_every: int = 1
    """Cycles per audit commit (``--commit-every``; a replay setting)."""


def build_local_session(settings: LocalSettings, clock: Clock | None = None) -> TradingSession:
    """Open the data, the paper broker and the audit database, and start the session."""
    clock = clock or WallClock()
    try:
        interval = parse_interval(settings.interval)
        period = parse_period(settings.period)
        check_warmup(period, interval)
        spec = parse_data_spec(settings.data)
    except (TimeframeError, MarketDataError) as exc:
        raise SettingsError(str(exc)) from None
    if not settings.start_cash > 0:
        raise SettingsError("starting cash must be greater than zero")
    if settings.snapshot_every < 1 or settings.commit_every < 1:
        raise SettingsError("snapshot and commit cadences are counted in cycles: at least 1")
    problem = settings.learning.check()
    if problem:
        raise SettingsError(problem)
    market = open_market(
        spec,
        settings.symbols,
        interval,
        period,
        seed=settings.seed,
        iterations=settings.iterations or None,
        yahoo=settings.yahoo,
        report=settings.report,
    )
    symbols = tuple(market.symbols)
    config = SessionConfig(
        mode="local",
        symbols=symbols,
        interval=interval,
        period=period,
        data_label=spec.label if spec.kind != "sim" else f"sim (seed {settings.seed})",
        start_cash=settings.start_cash,
        seed=settings.seed,
        limits=settings.limits,
        flatten_on_halt=settings.flatten_on_halt,
        fractional=settings.fractional,
        allow_short=settings.allow_short,
        allocation_pct=settings.allocation_pct,
        snapshot_every=settings.snapshot_every,
        stop_loss=settings.stop_loss,
        take_profit_pct=settings.take_profit_pct,
    )
    broker = PaperBroker(
        settings.start_cash,
        symbols,
        PaperCosts(settings.slippage_bps, settings.commission_per_share, settings.commission_min),
        fractional=settings.fractional,
        allow_short=settings.allow_short,
    )
    try:
        db = open_database(settings.db)
    except StoreError as exc:
        raise SettingsError(str(exc)) from None
    audit = AuditLog(db, clock, commit_every=settings.commit_every)
    strategies, allocator = build_allocation(
        settings.learning, settings.allow_short, StoreLearningJournal(audit, STRATEGY_NAMES)
    )
    session = TradingSession(config, market, broker, audit, clock, strategies, allocator)
    try:
        session.start()
    except KeyboardInterrupt:  # a stop signal while it starts (``session.stopped_start``)
        end_stopped_start(audit)
        raise
    except Exception as exc:
        lost = lost_at_start(audit, exc)
        if lost is not None:
            raise lost from None
        if is_read_only(exc):  # nothing could be written: no row to end
            audit.abandon()
            raise SettingsError(read_only_message(settings.db, running=False)) from None
        if not is_disk_full(exc):
            raise
        audit.abandon()  # what SQLite kept of the failed transaction
        with contextlib.suppress(Exception):  # the row, if it was written, says how it ended
            audit.end_session("failed", 0)
        raise SettingsError(disk_full_message(settings.db)) from None
    return session
