"""The replay fast path (``replay_batch``) records exactly what the bar-by-bar engine records.

The same seeded replay file goes through ``TradingSession.run_iteration`` cycle by cycle and
through ``run_replay``'s batch path; every order (with its rationale), fill, round trip, risk
event, snapshot and the saved risk state must be the same, and so must the final account.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from tui_trader.brokers.paper import PaperBroker, PaperCosts
from tui_trader.core.clock import FrozenClock
from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.engine.replay_batch import BatchReplay, run_replay, unsupported
from tui_trader.engine.session import SessionConfig, TradingSession
from tui_trader.market.replay import ReplayMarket
from tui_trader.risk.gate import RiskLimits
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.strategies import FixedWeights
from tui_trader.strategies.crossover import MovingAverageCrossover

START = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
SYMBOLS = ("AAA", "BBB", "CCC", "FLAT")


def _file(steps: int, seed: int) -> pl.DataFrame:
    """Minute bars of random walks over several days; FLAT sits still for long stretches, so
    its averages tie exactly (the case a vectorized mean could round the other way)."""
    rng = random.Random(seed)
    rows = []
    prices = dict.fromkeys(SYMBOLS, 100.0)
    for i in range(steps):
        ts = START + timedelta(days=i // 390, minutes=i % 390)
        for symbol in SYMBOLS:
            prev = prices[symbol]
            if symbol == "FLAT" and (i // 120) % 2 == 0:
                close = prev
            else:
                close = round(prev * (1 + rng.gauss(0.0, 0.002)), 2)
            high, low = max(prev, close) + 0.01, min(prev, close) - 0.01
            rows.append((ts, symbol, prev, high, low, close, 1000.0))
            prices[symbol] = close
    frame = pl.DataFrame(
        rows, schema=["timestamp", "symbol", "open", "high", "low", "close", "volume"], orient="row"
    )
    return frame.with_columns(pl.col("timestamp").cast(pl.Datetime("us", "UTC")))


def _session(
    db: Path,
    frame: pl.DataFrame,
    limits: RiskLimits,
    short: bool,
    fractional: bool = False,
    capital: float | None = None,
    symbols: tuple[str, ...] = SYMBOLS,
) -> TradingSession:
    """A started replay session with batched commits and a snapshot every 50 cycles."""
    market = ReplayMarket(
        frame, "test", symbols, interval=parse_interval("1m"), period=parse_period("1d")
    )
    clock = FrozenClock(START, step=timedelta(seconds=1))
    config = SessionConfig(
        mode="local",
        symbols=symbols,
        interval=market.interval,
        period=market.period,
        data_label="test",
        start_cash=100_000.0,
        limits=limits,
        allocation_pct=30.0,
        allow_short=short,
        fractional=fractional,
        capital=capital,
        snapshot_every=50,
    )
    broker = PaperBroker(100_000.0, symbols, PaperCosts(), fractional, allow_short=short)
    audit = AuditLog(open_database(db), clock, commit_every=37)
    strategies = [MovingAverageCrossover(5, 15, allow_short=short)]
    allocator = FixedWeights({"trend": 1.0})
    session = TradingSession(config, market, broker, audit, clock, strategies, allocator)
    session.start()
    return session


def _rows(db: Path, key: str) -> dict[str, list[tuple]]:
    """Every trading fact the session left, with its session key masked."""
    queries = {
        "orders": "SELECT client_order_id, symbol, side, quantity, status, filled_qty, "
        "filled_price, error, rationale, iteration, market_time FROM live_orders ORDER BY id",
        "fills": "SELECT order_id, fill_key, symbol, side, quantity, price, commission, "
        "slippage, market_time FROM live_fills ORDER BY id",
        "trades": "SELECT symbol, side, quantity, entry_price, exit_price, market_time, "
        "entry_time, commission, pnl, client_order_id FROM live_trades ORDER BY id",
        "events": 'SELECT event_type, value, "limit", action_taken, symbol, detail, market_time '
        "FROM live_risk_events ORDER BY id",
        "snapshots": "SELECT iteration, market_time, cash, equity, buying_power, drawdown_pct, "
        "daily_pnl, state, positions FROM live_account_snapshots ORDER BY id",
        "risk": "SELECT state, peak_equity, day, day_open_equity, last_equity, orders_today, "
        "halt_reason FROM risk_state",
        "session": "SELECT status, iterations FROM sessions",
    }
    with sqlite3.connect(db) as con:
        return {
            name: [tuple(str(v).replace(key, "K") for v in row) for row in con.execute(sql)]
            for name, sql in queries.items()
        }


def _replay(
    db: Path,
    frame: pl.DataFrame,
    limits: RiskLimits,
    batch: bool,
    short: bool,
    first: int = 0,
    kill: bool = False,
    fractional: bool = False,
    symbols: tuple[str, ...] = SYMBOLS,
) -> tuple:
    """Run ``first`` cycles one by one, maybe press the kill switch (flattening), then run the
    file to its end one way or the other; the rows and the final account."""
    capital = 60_000.0 if fractional else None
    session = _session(db, frame, limits, short, fractional, capital, symbols)
    for _ in range(first):
        session.run_iteration()
    if kill:
        session.request_kill("test", flatten=True)
    assert unsupported(session) is None
    if batch:
        run_replay(session)
    else:
        while session.run_iteration() is not None:
            pass
    session.sync_orders()
    session.finish("end_of_data")
    account = session.broker.account()
    rows = _rows(db, session.audit.session.key)
    return rows, account, session.broker.positions(), session.last_prices


@pytest.mark.parametrize(
    ("limits", "short", "first", "kill", "fractional"),
    [
        (RiskLimits(100.0, 100.0, 100.0, 10**6), False, 0, False, False),
        (RiskLimits(), False, 0, False, False),
        (RiskLimits(1.0, 0.6, 12.0, 40), True, 0, False, False),
        (RiskLimits(50.0, 50.0, 12.0, 15), True, 0, False, False),
        (RiskLimits(), False, 500, False, False),
        (RiskLimits(100.0, 100.0, 100.0, 10**6), False, 500, True, False),
        (RiskLimits(), False, 0, False, True),
    ],
    ids=[
        "no-limits",
        "defaults",
        "halts-short",
        "rate-limit-short",
        "switch-midway",
        "killed",
        "fractional-capital",
    ],
)
def test_batch_replay_records_what_cycle_by_cycle_records(
    tmp_path: Path, limits: RiskLimits, short: bool, first: int, kill: bool, fractional: bool
) -> None:
    """Same orders, fills, trades, risk events, snapshots, risk state and final account."""
    frame = _file(3 * 390, seed=11)
    slow, slow_account, slow_positions, slow_prices = _replay(
        tmp_path / "a.db", frame, limits, False, short, first, kill, fractional
    )
    fast, fast_account, fast_positions, fast_prices = _replay(
        tmp_path / "b.db", frame, limits, True, short, first, kill, fractional
    )
    assert len(slow["orders"]) > 20, "the seeded file should trade"
    for kind in slow:
        assert fast[kind] == slow[kind], kind
    assert fast_account == slow_account
    assert fast_positions == slow_positions
    assert fast_prices == slow_prices


def _flat_targets(tmp_path: Path, frame: pl.DataFrame, symbols: tuple[str, ...]) -> tuple:
    """The fast path's first replayed row and its targets for a one-symbol file."""
    session = _session(tmp_path / "t.db", frame, RiskLimits(), False, symbols=symbols)
    replay = BatchReplay(session)
    assert not replay.live, "no symbol fed bar by bar (that turns the shortcut off)"
    first = replay.first_row
    return first, replay.targets.chunk(first, frame.height - first).target


@pytest.mark.parametrize("ends_flat", [False, True], ids=["whole-file", "ends-in-a-flat-stretch"])
def test_one_symbol_with_flat_stretches_replays_the_same(tmp_path: Path, ends_flat: bool) -> None:
    """One long-only symbol is flat between its crossovers; the fast path passes such stretches
    in one step each (up to a target, a new day, a snapshot or a commit), and must still leave
    the same rows, snapshots (the closing one included, also when the file ends flat) and
    account as the cycle-by-cycle loop."""
    frame = _file(3 * 390, seed=11).filter(pl.col("symbol") == "CCC")  # no exact tie
    one = ("CCC",)
    first, target = _flat_targets(tmp_path, frame, one)
    assert target.count(0.0) > 100, "flat stretches"
    if ends_flat:  # cut the file in the middle of its longest flat stretch
        runs, start = [], None
        for i, t in enumerate([*target, 1.0]):
            if t == 0.0 and start is None:
                start = i
            elif t != 0.0 and start is not None:
                runs.append((i - start, start))
                start = None
        length, start = max(runs)
        assert length > 20
        frame = frame.head(first + start + length // 2)
    limits = RiskLimits(100.0, 100.0, 100.0, 10**6)
    slow = _replay(tmp_path / "a.db", frame, limits, False, False, symbols=one)
    fast = _replay(tmp_path / "b.db", frame, limits, True, False, symbols=one)
    assert len(slow[0]["orders"]) > 10, "the seeded file should trade"
    assert len(slow[0]["snapshots"]) > 5
    for kind in slow[0]:
        assert fast[0][kind] == slow[0][kind], kind
    assert fast[1:] == slow[1:]


def test_the_scenarios_reach_every_control_and_a_tie(tmp_path: Path) -> None:
    """The scenarios above reach what the fast path hands back to the session: the position
    limit, the order rate limit, both halts and the new day that ends one, the kill switch, and
    a symbol whose averages tie exactly (its targets then come bar by bar)."""
    frame = _file(3 * 390, seed=11)
    kinds: set[str] = set()
    scenarios = [
        (RiskLimits(), False, 0, False),
        (RiskLimits(1.0, 0.6, 12.0, 40), True, 0, False),
        (RiskLimits(), False, 500, True),
    ]
    for i, (limits, short, first, kill) in enumerate(scenarios):
        rows, *_ = _replay(tmp_path / f"{i}.db", frame, limits, True, short, first, kill)
        kinds |= {event[0] for event in rows["events"]}
    assert kinds >= {
        "position_size_limit",
        "order_rate_limit",
        "daily_loss_limit",
        "daily_loss_reset",
        "drawdown_kill_switch",
        "manual_kill",
    }
    session = _session(tmp_path / "t.db", frame, RiskLimits(), False)
    assert "FLAT" in BatchReplay(session).targets.live


def test_sessions_the_fast_path_does_not_fit_replay_cycle_by_cycle(tmp_path: Path) -> None:
    """Committing every cycle (as a live session does) is one reason to go bar by bar; the
    replay still runs to its end."""
    frame = _file(400, seed=5)
    session = _session(tmp_path / "e.db", frame, RiskLimits(), False)
    session.audit.commit_every = 1
    assert unsupported(session) == "the audit trail commits every cycle"
    assert run_replay(session) == 10
    assert session.market_exhausted


def test_symbols_listed_out_of_order_replay_the_same(tmp_path: Path) -> None:
    """The symbols as a user lists them (not sorted) change nothing either way."""
    frame = _file(2 * 390, seed=4)
    listed = ("FLAT", "CCC", "AAA", "BBB")
    results = []
    for name, batch in (("a.db", False), ("b.db", True)):
        session = _session(tmp_path / name, frame, RiskLimits(), False, symbols=listed)
        if batch:
            assert unsupported(session) is None
            run_replay(session)
        else:
            while session.run_iteration() is not None:
                pass
        session.finish("end_of_data")
        rows = _rows(tmp_path / name, session.audit.session.key)
        results.append((rows, session.broker.account()))
    (slow, slow_account), (fast, fast_account) = results
    assert slow["orders"], "the seeded file should trade"
    assert fast == slow
    assert fast_account == slow_account


class _StopAfter(threading.Event):
    """A stop request that arrives after ``checks`` looks at it (a Ctrl+C at a known cycle)."""

    def __init__(self, checks: int) -> None:
        super().__init__()
        self.left = checks

    def is_set(self) -> bool:
        """False ``checks`` times, then True."""
        self.left -= 1
        return self.left < 0


def test_a_stopped_batch_replay_records_what_the_same_cycles_record(tmp_path: Path) -> None:
    """Ctrl+C in a batch replay stops between cycles: the rows, the account and the marks are
    those of the same number of cycles run one by one, and the data is not reported ended.
    (One session at a time: a session's store is bound process-wide while it runs.)"""
    frame = _file(3 * 390, seed=11)
    results = []
    ran = 0
    for name in ("fast", "slow"):
        session = _session(tmp_path / f"{name}.db", frame, RiskLimits(), False)
        if name == "fast":
            ran = run_replay(session, _StopAfter(700))
            assert 0 < ran < 3 * 390 - 390 and not session.market_exhausted
        else:
            for _ in range(ran):
                session.run_iteration()
        session.sync_orders()
        session.finish("stopped")
        rows = _rows(tmp_path / f"{name}.db", session.audit.session.key)
        after = session.market.next_bars()  # where a resumed replay would go on
        results.append((rows, session.broker.account(), session.last_prices, after))
    (fast_rows, *fast_rest), (slow_rows, *slow_rest) = results
    assert len(slow_rows["orders"]) > 5
    for kind in slow_rows:
        assert fast_rows[kind] == slow_rows[kind], kind
    assert fast_rest == slow_rest
