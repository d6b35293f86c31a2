"""The PostgreSQL audit store: throughput on loopback and many desks at once (issue 18).

Starts its own throwaway cluster (``tests.pg_cluster``, fsync on: the server as a user would run
it), or prints one plain line and skips when the PostgreSQL binaries are not installed.

1. Audit rows per second, as ``audit_bench`` measures them on SQLite: a replay's batches
   (commit every 390 cycles, psycopg pipeline) and the live path (each order row committed
   before it is sent). Target: ≥ 5,000 orders/s with replay batching.
2. 10 sessions × 1,000 cycles at once, 10 processes, one shared account: every cycle's snapshot
   and every order a session reports sent must be in the database (0 lost rows), and no
   session may fail (a deadlock or a serialization error shown to the user counts). The day's
   order counter is not compared with the order rows here: the sessions' simulated 1-minute bars
   cross trading days at different moments, and each new day restarts the count (the counter
   across processes is tested in tests/integration/test_shared_account_processes.py).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.harness import Stat

SESSIONS = 10
CYCLES = 1_000
ACCOUNT = "bench:shared"


def _desk(url: str, seed: int, cycles: int) -> dict[str, Any]:
    """One desk process: a local session on the shared account, ``cycles`` cycles."""
    from tui_trader.brokers.paper import PaperBroker
    from tui_trader.brokers.paper_account import PaperCosts
    from tui_trader.core.clock import FrozenClock
    from tui_trader.core.timeframes import parse_interval, parse_period
    from tui_trader.engine.session import SessionConfig, TradingSession
    from tui_trader.market.sim import SimMarket
    from tui_trader.risk.limits import RiskLimits
    from tui_trader.store.audit import AuditLog
    from tui_trader.store.db import open_database
    from tui_trader.store.pg_url import parse_db_url
    from tui_trader.strategies import FixedWeights
    from tui_trader.strategies.crossover import MovingAverageCrossover

    symbols = ("SPY", "QQQ", "IWM")
    market = SimMarket(symbols, parse_interval("1m"), parse_period("5d"), seed=seed)
    clock = FrozenClock(datetime(2026, 1, 5, 14, 30, tzinfo=UTC), step=timedelta(seconds=1))
    limits = RiskLimits(max_orders_per_day=100_000, max_drawdown_pct=99.0, max_daily_loss_pct=99.0)
    config = SessionConfig(
        mode="local",
        symbols=symbols,
        interval=market.interval,
        period=parse_period("5d"),
        data_label="bench",
        start_cash=100_000.0,
        limits=limits,
    )
    db = open_database(parse_db_url(url))
    strategies = [MovingAverageCrossover(3, 8)]
    session = TradingSession(
        config,
        market,
        PaperBroker(100_000.0, symbols, PaperCosts()),
        AuditLog(db, clock),
        clock,
        strategies,  # type: ignore[arg-type]
        FixedWeights({s.name: 1.0 for s in strategies}),
        account_key=ACCOUNT,
    )
    session.start()
    reports = sent = 0
    error = ""
    started = time.perf_counter()
    try:
        for _ in range(cycles):
            report = session.run_iteration()
            if report is None:
                break
            reports += 1
            sent += report.orders_sent
        session.finish("completed")
    except Exception as exc:  # a deadlock or serialization failure shown to the user
        error = f"{type(exc).__name__}: {exc}"
    assert session.audit.session is not None
    return {
        "session_id": session.audit.session.id,
        "cycles": reports,
        "orders_sent": sent,
        "error": error,
        "seconds": time.perf_counter() - started,
    }


def _desk_star(args: tuple[str, int, int]) -> dict[str, Any]:
    """``_desk`` for ``Pool.map``."""
    return _desk(*args)


def _many_desks(cluster: Any, sessions: int, cycles: int) -> dict[str, Any]:
    """``sessions`` processes × ``cycles`` cycles at once on one database; what was lost."""
    from tui_trader.store.db import open_database
    from tui_trader.store.pg_url import parse_db_url

    url = cluster.url(cluster.new_database("fleet"))
    open_database(parse_db_url(url)).close()  # the schema first, as a fleet's first desk does
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(sessions) as pool:
        results = pool.map(_desk_star, [(url, seed, cycles) for seed in range(1, sessions + 1)])
    wall = time.perf_counter() - started
    database = url.rsplit("/", 1)[1]
    lost = 0
    for r in results:
        sid = r["session_id"]
        snaps = cluster.rows(
            database, f"SELECT count(*) FROM live_account_snapshots WHERE session_id = {sid}"
        )[0][0]
        orders = cluster.rows(
            database, f"SELECT count(*) FROM live_orders WHERE session_id = {sid}"
        )[0][0]
        lost += max(r["cycles"] - snaps, 0) + max(r["orders_sent"] - orders, 0)
    orders_total = cluster.rows(database, "SELECT count(*) FROM live_orders")[0][0]
    return {
        "cycles": sum(r["cycles"] for r in results),
        "orders": orders_total,
        "lost": lost,
        "errors": [r["error"] for r in results if r["error"]],
        "wall": wall,
    }


def run(quick: bool, runs: int, log: Any) -> list[dict[str, Any]]:
    """The PostgreSQL rows of the table (one plain row when PostgreSQL is not installed)."""
    from tests.pg_cluster import TRADER_PASSWORD, pg_bin_dir, running_cluster

    if pg_bin_dir() is None:
        log("  PostgreSQL binaries not found: section skipped (apt-get install postgresql)")
        skipped = "skipped: PostgreSQL binaries not found"
        return [{"measure": "PostgreSQL store", "figure": skipped, "target": "—", "met": "—"}]
    from benchmarks.audit_bench import _workload
    from tui_trader.store.pg_url import parse_db_url

    os.environ.setdefault("PGPASSWORD", TRADER_PASSWORD)
    n = 200 if quick else 5_000
    rows: list[dict[str, Any]] = []
    with running_cluster(durable=True) as cluster:
        for label, cbs, size in (
            ("replay (commit every 390 cycles, pipelined)", False, n),
            ("live (commit before send)", True, n // 10),
        ):
            figures: dict[str, list[float]] = {"orders": [], "fills": [], "snapshots": []}
            for _ in range(runs):
                target = parse_db_url(cluster.url(cluster.new_database("audit")))
                for k, v in _workload(cbs, size, target).items():
                    figures[k].append(v)
            log(f"  PostgreSQL {label}: {figures}")
            for kind, values in figures.items():
                stat = Stat.of(values)
                replay_orders = not cbs and kind == "orders"
                rows.append(
                    {
                        "measure": f"PostgreSQL {label}: {kind}/s ({size:,} each)",
                        "figure": stat.fmt(),
                        "target": "≥ 5,000" if replay_orders else "—",
                        "met": ("yes" if stat.median >= 5_000 else "NO") if replay_orders else "—",
                        "value": stat,
                    }
                )
        sessions, cycles = (3, 50) if quick else (SESSIONS, CYCLES)
        fleet = _many_desks(cluster, sessions, cycles)
        log(f"  PostgreSQL {sessions} desks x {cycles} cycles: {fleet}")
        ok = fleet["lost"] == 0 and not fleet["errors"]
        shown = "; ".join(fleet["errors"])[:200] or "none"
        rows.append(
            {
                "measure": f"PostgreSQL {sessions} sessions × {cycles:,} cycles at once "
                f"(processes, one account): lost rows / errors shown",
                "figure": f"{fleet['lost']} lost of {fleet['cycles']:,} cycles and "
                f"{fleet['orders']:,} orders; errors: {shown}; "
                f"{fleet['cycles'] / fleet['wall']:,.0f} cycles/s in all ({fleet['wall']:.1f} s)",
                "target": "0 lost, no deadlock shown",
                "met": "yes" if ok else "NO",
            }
        )
    return rows
