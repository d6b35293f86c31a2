"""Building a session on an Alpaca account (paper, live, or the sandbox).

Everything that can be checked before the first order is checked here, in the order a user
would want to hear about it: the URL matches the mode (before any connection), the credentials
are accepted, the account can trade, every symbol exists and is tradable. Each failure is one
``AlpacaSetupError`` sentence naming the URL and whether it is paper or live.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError, Throttled
from tui_trader.brokers.alpaca_budget import RATE_PER_MINUTE, RequestBudget
from tui_trader.brokers.alpaca_calls import CallPolicy, with_retries
from tui_trader.brokers.alpaca_config import (
    LIVE_HOST,
    LIVE_URL,
    PAPER_HOST,
    PAPER_URL,
    AlpacaEndpoint,
    url_kind,
)
from tui_trader.core.clock import Clock, WallClock
from tui_trader.core.domain import Account
from tui_trader.core.timeframes import TimeframeError, check_warmup, parse_interval, parse_period
from tui_trader.engine.session import SessionConfig, TradingSession
from tui_trader.learning.setup import LearningSettings, build_allocation
from tui_trader.risk.limits import RiskLimits
from tui_trader.risk.stops import StopRule
from tui_trader.security import redact
from tui_trader.session.key_minute import KeyBusyAtStart, with_room
from tui_trader.session.lost_store import lost_at_start
from tui_trader.session.stopped_start import end_stopped_start
from tui_trader.store.audit import AuditLog
from tui_trader.store.clock_check import clock_problem
from tui_trader.store.clock_watch import ClockWatch
from tui_trader.store.db import StoreError, open_database
from tui_trader.store.learning_journal import StoreLearningJournal
from tui_trader.store.sqlite_errors import is_read_only, read_only_message
from tui_trader.strategies.family import STRATEGY_NAMES

if TYPE_CHECKING:
    from tui_trader.brokers.alpaca import AlpacaBroker


class AlpacaSetupError(Exception):
    """The session cannot start; the message says why in plain words."""


STREAM_START_WAIT = 5.0
"""Least seconds the trade-updates stream gets to connect at start (``timeout`` if longer)."""


class AccountSuspendedError(AlpacaSetupError):
    """The account's ``suspend_trade`` is on (``--suspend-on-halt``): every order would be
    rejected, so the session does not start."""


@dataclass(frozen=True, slots=True)
class AlpacaSettings:
    """What a user chooses for an Alpaca session."""

    mode: str
    """``paper`` or ``live``."""
    db: Path
    symbols: tuple[str, ...] = ("SPY", "QQQ", "IWM")
    interval: str = "1m"
    period: str = "5d"
    limits: RiskLimits = field(default_factory=RiskLimits)
    flatten_on_halt: bool = False
    stop_loss: StopRule | None = None
    """``--stop-loss``: a broker-held stop for every position (``engine/protective_stops``)."""
    take_profit_pct: float | None = None
    suspend_on_halt: bool = False
    allocation_pct: float | None = None
    timeout: float = 10.0
    retry_backoff: float = 0.25
    """First wait before retrying a failed read (doubles each time, five attempts in all)."""
    require_open_market: bool = True
    capital: float | None = None
    """Trade as if the account held at most this much (``--start-cash``)."""
    learning: LearningSettings = field(default_factory=LearningSettings)
    """``--weights``, ``--learning-rate``, ``--weight-floor`` (as for local sessions)."""
    settle_window: float = 120.0
    """Seconds after an order was sent during which "no such order" is not final (see
    ``tui_trader.engine.settlement``)."""
    requests_per_minute: float = RATE_PER_MINUTE
    """``--requests-per-minute``: the account's client-side request budget per API, shared by
    the live sessions on the account (see ``brokers.alpaca_budget``)."""
    adopt_positions: bool = False
    """``--adopt-positions``: positions changed while no session ran are taken as the desk's."""


def _require_stream(broker: AlpacaBroker, endpoint: AlpacaEndpoint, waited: float) -> None:
    """Refuse to start when the trade-updates stream did not connect: the session would run
    without ever placing an order (the broker refuses new orders while the stream is down),
    printing that the stream is down at every iteration, which looks like a working session."""
    if broker.feed is None or broker.feed.connected:
        return
    broker.close()
    raise AlpacaSetupError(
        f"the trade-updates stream at {endpoint.stream_url} did not connect within "
        f"{waited:g} s, so no order could be followed: the session did not start (check the "
        "server, or set APCA_API_STREAM_URL if its stream is elsewhere)"
    )


def check_url(mode: str, endpoint: AlpacaEndpoint) -> None:
    """Refuse Alpaca's live host for paper and its paper host for live, before connecting
    anywhere: by each URL's parsed host name (any case, trailing dot, port, path or user info),
    for the trading URL and the data and stream URLs alike."""
    wrong = "live" if mode == "paper" else "paper"
    for name, url in endpoint.urls().items():
        if url_kind(url) != wrong:
            continue
        if mode == "paper":
            raise AlpacaSetupError(
                f"refusing to paper-trade: {name} points at Alpaca's LIVE host {LIVE_HOST} "
                f"(real money): set APCA_API_BASE_URL={PAPER_URL} (or use 'live trading "
                "--enable-live')"
            )
        raise AlpacaSetupError(
            f"refusing live trading: {name} points at Alpaca's PAPER host {PAPER_HOST}: set "
            f"APCA_API_BASE_URL={LIVE_URL} for real money, or use 'live paper'"
        )


def build_alpaca_session(
    settings: AlpacaSettings,
    endpoint: AlpacaEndpoint,
    clock: Clock | None = None,
    use_stream: bool = True,
    say: Callable[[str], None] | None = None,
) -> TradingSession:
    """Connect, check the account and symbols, and start the session (reconciling first).
    A start on a key whose requests this minute are nearly spent waits for the next minute,
    said through ``say`` (``session.key_minute``); ``KeyBusyAtStart`` if it will not."""
    from tui_trader.brokers.alpaca import AlpacaBroker
    from tui_trader.market.alpaca import AlpacaMarketData

    check_url(settings.mode, endpoint)
    problem = settings.learning.check()
    if problem:
        raise AlpacaSetupError(problem)
    try:
        interval = parse_interval(settings.interval)
        period = parse_period(settings.period)
        check_warmup(period, interval)
    except TimeframeError as exc:
        raise AlpacaSetupError(str(exc)) from None
    policy = CallPolicy(timeout=settings.timeout, retries=4, backoff=settings.retry_backoff)
    # the account's budget per API, shared with the other live sessions on the account
    trading_budget = RequestBudget(settings.requests_per_minute)
    data_budget = RequestBudget(settings.requests_per_minute)
    where = f"{endpoint.base_url} ({'live' if settings.mode == 'live' else 'paper'})"
    _first_contact(endpoint, settings.timeout, where)
    try:
        broker = AlpacaBroker(
            endpoint,
            policy,
            use_stream=use_stream,
            stream_wait=max(settings.timeout, STREAM_START_WAIT),
            require_open_market=settings.require_open_market,
            budget=trading_budget,
        )
    except (ValueError, OSError) as exc:
        raise AlpacaSetupError(
            f"cannot set up the Alpaca client for {where}: {redact.describe(exc)}"
        ) from None
    _require_stream(broker, endpoint, max(settings.timeout, STREAM_START_WAIT))

    def first_reads() -> Account:
        """The account and the symbols, and whether the account may trade at all."""
        account = broker.account()
        _check_symbols(broker, settings.symbols, policy)
        if account.trading_blocked:
            raise AlpacaSetupError(f"the Alpaca account at {where} is blocked from trading")
        _refuse_suspended(broker, policy, where)
        return account

    try:
        account = with_room(first_reads, trading_budget, say)
    except BrokerError as exc:
        broker.close()
        raise AlpacaSetupError(connection_message(str(exc), where)) from None
    except BaseException:  # refused, busy, or a stop signal while it waits
        broker.close()
        raise
    try:
        db = open_database(settings.db, durable=True)  # its orders outlive a power loss
    except StoreError as exc:
        broker.close()
        raise AlpacaSetupError(str(exc)) from None
    clock = clock or WallClock()
    off = clock_problem(db) if isinstance(clock, WallClock) else None
    if off is not None:  # its order times would mislead the desks beside it: fail closed
        broker.close()
        db.close()
        raise AlpacaSetupError(off)
    config = SessionConfig(
        mode=settings.mode,
        symbols=settings.symbols,
        interval=interval,
        period=period,
        data_label=f"alpaca ({endpoint.data_url or 'data.alpaca.markets'})",
        start_cash=account.equity,
        capital=settings.capital,
        limits=settings.limits,
        flatten_on_halt=settings.flatten_on_halt,
        suspend_on_halt=settings.suspend_on_halt,
        allocation_pct=settings.allocation_pct,
        settle_window_s=settings.settle_window,
        stop_loss=settings.stop_loss,
        take_profit_pct=settings.take_profit_pct,
        adopt_positions=settings.adopt_positions,
    )
    market = AlpacaMarketData(
        endpoint,
        settings.symbols,
        interval,
        period,
        policy,
        data_budget,
    )
    audit = AuditLog(db, clock, commit_before_send=True)
    audit.on_share = lambda sessions: _share(sessions, trading_budget, data_budget)
    if isinstance(clock, WallClock):  # checked at the start: judged at every heartbeat too
        audit.clock_watch = ClockWatch(db)
    strategies, allocator = build_allocation(
        settings.learning, False, StoreLearningJournal(audit, STRATEGY_NAMES)
    )
    session = TradingSession(
        config,
        market,
        broker,
        audit,
        clock,
        strategies,
        allocator,
        account_key=f"alpaca:{account.account_id}",
        endpoint=endpoint.base_url,
        session_day=_calendar_session_day(),
    )
    try:
        session.start()
    except Throttled as exc:  # the key's minute spent meanwhile: not the user's input
        broker.close()
        raise KeyBusyAtStart(
            f"Alpaca at {where}: {exc}; the session did not start: try again in a minute"
        ) from None
    except BrokerError as exc:
        broker.close()
        raise AlpacaSetupError(connection_message(str(exc), where)) from None
    except KeyboardInterrupt:  # a stop signal while it starts (``session.stopped_start``)
        end_stopped_start(audit)
        broker.close()
        raise
    except Exception as exc:
        lost = lost_at_start(audit, exc)
        if lost is not None:
            broker.close()
            raise lost from None
        if not is_read_only(exc):
            raise
        broker.close()
        audit.abandon()
        raise AlpacaSetupError(read_only_message(settings.db, running=False)) from None
    return session


def _share(sessions: int, *budgets: RequestBudget) -> None:
    """Give each of the session's budgets its part of the account's: ``sessions`` live on
    the account (this one included), counted at its start and at each heartbeat."""
    for budget in budgets:
        budget.share(sessions)


def _refuse_suspended(broker: object, policy: CallPolicy, where: str) -> None:
    """Refuse to start on an account whose ``suspend_trade`` is on (the caller closes the
    broker)."""
    from tui_trader.brokers.alpaca_suspend import is_suspended

    suspended = is_suspended(broker.client, policy)  # type: ignore[attr-defined]
    if suspended:
        raise AccountSuspendedError(
            f"trading is suspended on the Alpaca account at {where} (suspend_trade is on, "
            "e.g. after a halt with --suspend-on-halt): run 'tui-trader risk reset' to clear it"
        )


def _calendar_session_day():
    """The exchange calendar's session of a timestamp, loaded now rather than mid-cycle."""
    from tui_trader.market import calendar

    calendar.us_equity_calendar()
    return calendar.session_day


def _check_symbols(broker: object, symbols: tuple[str, ...], policy: CallPolicy) -> None:
    """Every symbol must be a tradable asset (transient failures are retried like any read)."""
    client = broker.client  # type: ignore[attr-defined]
    for symbol in symbols:
        try:
            asset = with_retries(lambda s=symbol: client.get_asset(s), policy, f"checking {symbol}")
        except BrokerError as exc:
            if "HTTP 404" in str(exc) or "HTTP 422" in str(exc):
                raise AlpacaSetupError(
                    f"unknown symbol {symbol}: Alpaca has no such asset"
                ) from None
            raise
        if not asset.tradable:
            raise AlpacaSetupError(f"{symbol} is not tradable on Alpaca")


def _first_contact(endpoint: AlpacaEndpoint, timeout: float, where: str) -> None:
    """One request, one attempt, before anything else: an unreachable or silent server is
    reported within ``timeout`` (the session's reads would retry it five times, and its stream
    would wait for a connection first). A server that answers at all, even with an error, passes
    here: the session's own reads then retry or explain it."""
    from tui_trader.brokers.alpaca import AlpacaBroker

    try:
        probe = AlpacaBroker(endpoint, CallPolicy(timeout=timeout, retries=0), use_stream=False)
    except (ValueError, OSError) as exc:
        raise AlpacaSetupError(
            f"cannot set up the Alpaca client for {where}: {redact.describe(exc)}"
        ) from None
    try:
        probe.account()
    except BrokerError as exc:
        if "no answer" in str(exc) or "HTTP 401" in str(exc):
            raise AlpacaSetupError(connection_message(str(exc), where, timeout)) from None
    finally:
        probe.close()


def connection_message(detail: str, where: str, timeout: float | None = None) -> str:
    """Plain words for the usual ways a first contact fails (never urllib3's own text)."""
    lowered = detail.lower()
    # the broker's status reads "HTTP 401: ..." (brokers.alpaca_calls.describe); a bare "401"
    # would also match a port or a host in a no-answer's text (127.0.0.1:44017)
    if "http 401" in lowered or ("http 403" in lowered and "unauthorized" in lowered):
        return f"Alpaca rejected the credentials at {where}: check APCA_API_KEY_ID/SECRET_KEY"
    if "no answer" in lowered or "connection" in lowered:
        if "timeout" in lowered or "timed out" in lowered:
            after = f" after {timeout:g} s" if timeout else ""
            return f"cannot reach Alpaca at {where}: no answer{after} (--timeout)"
        return (
            f"cannot reach Alpaca at {where}: the connection failed (nothing listening, "
            "no network, or the name does not resolve)"
        )
    return f"Alpaca at {where}: {redact.redact(detail)}"
