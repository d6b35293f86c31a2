"""Fixtures shared by every test: a database file per test, a frozen clock, session builders.

Nothing here touches the network or the user's home: the data and log folders are pointed at the
test's own temporary directory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.bytecode import (  # noqa: F401 (hook: our modules' bytecode cached once)
    pytest_configure,
)
from tests.pg_cluster import TRADER_PASSWORD, PgCluster, running_cluster
from tests.reliability.summary import (  # noqa: F401 (hooks: the suite's figures)
    pytest_sessionfinish,
)
from tests.reliability.summary import pytest_terminal_summary as reliability_summary
from tests.schedule import (  # noqa: F401 (hook: the long tests start first under xdist)
    pytest_collection_modifyitems,
)
from tui_trader.brokers.paper import PaperBroker
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.clock import Clock, FrozenClock
from tui_trader.core.domain import Bar, Signal
from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.engine.session import SessionConfig, TradingSession
from tui_trader.market import MarketData
from tui_trader.market.sim import SimMarket
from tui_trader.risk.limits import RiskLimits
from tui_trader.risk.stops import StopRule
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.pg_url import PgUrl, parse_db_url
from tui_trader.store.stored_numbers import take_notes
from tui_trader.strategies import FixedWeights
from tui_trader.strategies.crossover import MovingAverageCrossover

FROZEN_START = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """The reliability figures, then the OpenAPI conformance line (operations and cases checked,
    recorded by tests/conformance as a test property, so it reaches here from xdist workers)."""
    reliability_summary(terminalreporter, exitstatus, config)
    lines = [
        value
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        if getattr(report, "when", "") == "call"
        for name, value in getattr(report, "user_properties", [])
        if name == "conformance"
    ]
    if lines:
        terminalreporter.section("openapi conformance")
        for line in lines:
            terminalreporter.write_line(line)


class BuyAndHold:
    """A test strategy that always wants to be fully long: it rides a crash all the way down."""

    name = "hold"

    def on_bar(self, bar: Bar) -> Signal:
        """Always +1."""
        return Signal(1.0, "buy and hold")


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test's data, cache and logs inside its own temporary folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    for name in ("APCA_API_KEY_ID", "APCA_API_SECRET_KEY", "APCA_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _no_warnings_left_over() -> Iterator[None]:
    """Each test's own warnings only: ``stored_numbers`` gathers its warnings in the process
    until the command line prints them, so a test reading a hand-edited store in-process (the
    Fleet screen's pid of 'xyzzy') handed them to the next in-process ``main()`` of its xdist
    worker, an extra stderr line there (test_data_cli's ``err == ""`` failed by the order)."""
    yield
    take_notes()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh audit database file."""
    return tmp_path / "audit.db"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A throwaway PostgreSQL cluster for this test process (each xdist worker has its own, on
    its own free port), stopped at the end."""
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster: PgCluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh empty PostgreSQL database's URL (no password in it: ``PGPASSWORD`` holds it),
    dropped when the test ends. Kept, a worker's databases (~300 files each) piled up in the
    cluster's folder until the worker removed it at the end of the suite: 34-53 s of
    unlinking on a loaded machine, on the critical path (the last worker to finish)."""
    monkeypatch.setenv("PGPASSWORD", TRADER_PASSWORD)
    name = pg_cluster.new_database()
    yield pg_cluster.url(name)
    pg_cluster.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Path | PgUrl:
    """The audit store on each engine: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "audit.db"
    return parse_db_url(request.getfixturevalue("pg_url"))


@pytest.fixture
def clock() -> FrozenClock:
    """A clock frozen at a known instant that moves one second per reading."""
    return FrozenClock(FROZEN_START, step=timedelta(seconds=1))


class Flipper:
    """Long on odd bars, flat on even ones: an order every bar, a round trip every two (the
    audit trail grows, and closing fills book trades)."""

    name = "flipper"

    def __init__(self) -> None:
        self.bars = 0

    def on_bar(self, bar: Bar) -> Signal:
        """Alternate between long and flat."""
        self.bars += 1
        return Signal(1.0 if self.bars % 2 else 0.0, "flip")


def file_rows(path: Path, sql: str, *args: object) -> list[tuple]:
    """Rows of a query on an SQLite file, read with a connection of the test's own."""
    conn = sqlite3.connect(path, timeout=10)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def make_session(
    db_path: Path | PgUrl,
    market: MarketData | None = None,
    limits: RiskLimits | None = None,
    clock: Clock | None = None,
    start_cash: float = 100_000.0,
    account_key: str | None = None,
    allocation_pct: float | None = None,
    flatten_on_halt: bool = False,
    costs: PaperCosts | None = None,
    commit_before_send: bool = False,
    broker: object | None = None,
    symbols: Iterable[str] = ("SPY", "QQQ", "IWM"),
    strategies: list | None = None,
    stop_loss: StopRule | None = None,
    take_profit_pct: float | None = None,
    capital: float | None = None,
    allow_short: bool = False,
    **engine_options: object,
) -> TradingSession:
    """A started local session on a seeded simulated market (or the market given)."""
    market = market or SimMarket(symbols, parse_interval("1d"), parse_period("60d"), seed=7)
    clock = clock or FrozenClock(FROZEN_START, step=timedelta(seconds=1))
    limits = limits or RiskLimits()
    config = SessionConfig(
        mode="local",
        symbols=tuple(market.symbols),
        interval=market.interval,
        period=parse_period("60d"),
        data_label="test",
        start_cash=start_cash,
        limits=limits,
        flatten_on_halt=flatten_on_halt,
        allocation_pct=allocation_pct,
        stop_loss=stop_loss,
        take_profit_pct=take_profit_pct,
        capital=capital,
        allow_short=allow_short,
    )
    broker = broker or PaperBroker(start_cash, tuple(market.symbols), costs or PaperCosts())
    db = open_database(db_path)
    strategies = strategies or [MovingAverageCrossover()]
    session = TradingSession(
        config,
        market,
        broker,  # type: ignore[arg-type]
        AuditLog(db, clock, commit_before_send=commit_before_send),
        clock,
        strategies,
        FixedWeights({s.name: 1.0 for s in strategies}),
        account_key=account_key,
        **engine_options,  # type: ignore[arg-type]
    )
    session.start()
    return session


def age_heartbeat(session_id: int, seconds: float) -> None:
    """Make a session's last heartbeat ``seconds`` old on both clocks it is stamped on: the
    wall clock (``heartbeat_at``) and the machine's boot clock (``heartbeat_uptime``), as a
    session that stopped beating that long ago left it (``store.liveness``)."""
    from tui_trader.store.db import to_db_time
    from tui_trader.store.models import SessionRow
    from tui_trader.store.process_identity import uptime

    now = uptime()
    SessionRow.update(
        heartbeat_at=to_db_time(datetime.now(UTC) - timedelta(seconds=seconds)),
        heartbeat_uptime=None if now is None else now - seconds,
    ).where(SessionRow.id == session_id).execute()


def simulate_death(session: TradingSession) -> None:
    """Make a session look as a hung or killed process does to other sessions: its heartbeat
    stops (here: ten minutes old), so start-up reconciliation treats its rows as a dead run's."""
    assert session.audit.session is not None
    age_heartbeat(session.audit.session.id, 600)
