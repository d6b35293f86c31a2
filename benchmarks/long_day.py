"""A trader's week at the desk: memory and redraw cost of the desk over many cycles, and the
History browser's reads on a big store.

``python -m benchmarks.long_day desk [CYCLES] [EVERY]`` runs the desk (Textual's ``run_test``,
160x50) on a local session of 50 simulated symbols, one-minute bars, as fast as they come, and
prints every ``EVERY`` cycles the process's RSS, the objects the collector sees (outside the
start-up heap the desk freezes) and the lines its two logs hold, then the dashboard's UI-thread
CPU per redraw in windows of 195 cycles.

``python -m benchmarks.long_day history DB`` times (wall, median of 5 with min-max) the reads
behind the History screen on the database ``DB``: a page, a deep page, sorts, filters, the PnL
view (CPU too, and its traced peak memory) and the CSV export.

``python -m benchmarks.long_day build DB [ROWS]`` makes such a database: one session of 50
symbols with ``ROWS`` (200,000) orders, fills, trades and risk events each, a bar every 150 s
through 2025 (a desk's year), rationales and details as long as the desk writes them.

Results: README, Performance, "A week at the desk".
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path


def _rss_mb() -> float:
    """This process's resident memory now."""
    with open("/proc/self/status") as fh:
        line = next(line for line in fh if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def desk(cycles: int = 1950, every: int = 390) -> None:
    """The desk over ``cycles`` cycles, sampled every ``every``."""
    from tui_trader.risk.limits import RiskLimits
    from tui_trader.session.local import LocalSettings, build_local_session
    from tui_trader.tui.app import make_app
    from tui_trader.tui.screens.dashboard import DashboardScreen
    from tui_trader.tui.setup_form import DEFAULTS, validate

    db = Path(tempfile.mkdtemp()) / "week.db"
    symbols = tuple(f"S{i:02d}" for i in range(50))
    limits = RiskLimits(max_drawdown_pct=50, max_daily_loss_pct=50)
    settings = LocalSettings(db=db, symbols=symbols, interval="1m", period="5d", limits=limits)
    redraws: list[tuple[int, float]] = []
    original = DashboardScreen.refresh_desk

    def timed(self, state, now):  # type: ignore[no-untyped-def]
        if state.version == self._drawn:
            return original(self, state, now)
        start = time.thread_time()
        original(self, state, now)
        redraws.append((state.reports_applied, time.thread_time() - start))

    DashboardScreen.refresh_desk = timed  # type: ignore[method-assign]

    async def run() -> None:
        app = make_app(
            db, every=0, iterations=cycles, session_factory=lambda: build_local_session(settings)
        )
        values = dict(DEFAULTS, db=str(db), symbols=",".join(symbols), period="5d")
        plan = validate(values | {"interval": "1m"}).plan
        assert plan is not None
        async with app.run_test(size=(160, 50)) as pilot:
            app.start_plan(plan)
            mark = 0
            while True:
                await pilot.pause(0.05)
                state = app.desk
                done = state.latest.iteration if state.latest else 0
                if done >= mark:
                    gc.collect()
                    live = len(gc.get_objects())
                    logs = {
                        s: len(app.screen.query_one(s).lines)
                        for s in ("#orders-log", "#events-log")
                        if app.screen.query(s)
                    }
                    print(
                        json.dumps(
                            {"cycle": done, "rss_mb": round(_rss_mb(), 1), "objects": live, **logs}
                        ),
                        flush=True,
                    )
                    mark += every
                if state.ended or done >= cycles:
                    break
        for low in range(0, cycles, 195):
            ms = [1000 * cpu for n, cpu in redraws if low <= n < low + 195]
            if ms:
                print(
                    f"redraw CPU, cycles {low}-{low + 195}: {statistics.median(ms):.2f} ms "
                    f"({min(ms):.2f}-{max(ms):.2f}, {len(ms)} redraws)"
                )

    asyncio.run(run())


def history(path: Path) -> None:
    """The History screen's reads on the database at ``path``."""
    from tui_trader.store import browse
    from tui_trader.store.queries import pnl_by_day
    from tui_trader.tui.dbaccess import ensure_database

    ensure_database(path)
    every = browse.HistoryFilter()

    def timed(label: str, read, runs: int = 5) -> None:  # type: ignore[no-untyped-def]
        walls, cpus = [], []
        for _ in range(runs):
            wall, cpu = time.perf_counter(), time.process_time()
            read()
            walls.append(1000 * (time.perf_counter() - wall))
            cpus.append(1000 * (time.process_time() - cpu))
        print(
            f"{label:40s} wall {statistics.median(walls):7.0f} ms "
            f"({min(walls):.0f}-{max(walls):.0f}), CPU {statistics.median(cpus):6.0f} ms"
        )

    timed("orders, first page", lambda: browse.fetch_page("orders", every))
    timed("orders, page 1000", lambda: browse.fetch_page("orders", every, offset=99_900))
    timed(
        "orders by bar time, first page",
        lambda: browse.fetch_page("orders", every, "Bar time", False),
    )
    timed(
        "orders by bar time, page 1000",
        lambda: browse.fetch_page("orders", every, "Bar time", False, 99_900),
    )
    timed(
        "trades by exit bar, page 1000",
        lambda: browse.fetch_page("trades", every, "Exit bar", True, 99_900),
    )
    timed(
        "events by bar time, page 1000",
        lambda: browse.fetch_page("events", every, "Bar time", True, 99_900),
    )
    timed(
        "orders of one symbol",
        lambda: browse.fetch_page("orders", browse.HistoryFilter(symbol="S07")),
    )
    june = browse.HistoryFilter(start=date(2025, 6, 1), end=date(2025, 6, 30))
    timed("orders of one month", lambda: browse.fetch_page("orders", june))
    timed("trades by PnL", lambda: browse.fetch_page("trades", every, "PnL", True))
    timed("PnL by day (every day)", lambda: pnl_by_day(3650, None, notes=[]))
    tracemalloc.start()
    pnl_by_day(3650, None, notes=[])
    print(f"PnL by day, traced peak {tracemalloc.get_traced_memory()[1] / 1e6:.1f} MB")
    tracemalloc.stop()
    out = Path(tempfile.mkdtemp()) / "orders.csv"
    timed("CSV export of every order", lambda: browse.export_csv("orders", every, out), runs=3)


def build(path: Path, rows: int = 200_000) -> None:
    """A store of ``rows`` orders, fills, trades and risk events (see the module's docstring)."""
    from datetime import datetime, timedelta

    from tui_trader.store.db import open_database
    from tui_trader.store.models import LiveFill, LiveOrder, LiveTrade, RiskEventRow, SessionRow

    db = open_database(path)
    session = SessionRow.create(
        key="b1g5t0re", mode="local", broker="paper", data_source="sim", symbols="S00",
        parameters="{}", account_key="local:b1g5t0re", started_at=datetime(2025, 1, 1),
    )  # fmt: skip
    start, wall = datetime(2025, 1, 1, 14, 30), datetime(2026, 12, 6, 9, 0)
    why = "crossover 10/30 long; learned exposure x1.23; regime trend (t=2.4); " * 3
    for at in range(0, rows, 5_000):
        ids = range(at, min(rows, at + 5_000))
        bar = [str(start + timedelta(seconds=150 * i)) for i in ids]
        now = [str(wall + timedelta(milliseconds=i)) for i in ids]
        with db.atomic():
            LiveOrder.insert_many(
                {
                    "session": session.id, "client_order_id": f"tt-b1g5t0re-{i}-S{i % 50:02d}-r",
                    "broker_order_id": f"p-{i}", "symbol": f"S{i % 50:02d}",
                    "side": "buy" if i % 2 else "sell", "quantity": 10.0 + i % 7,
                    "order_type": "market", "status": "filled", "timestamp": now[n],
                    "market_time": bar[n], "updated_at": now[n], "filled_qty": 10.0 + i % 7,
                    "filled_price": 100.0 + i % 13, "rationale": why, "iteration": i,
                }
                for n, i in enumerate(ids)
            ).execute()  # fmt: skip
            LiveFill.insert_many(
                {
                    "session": session.id, "order": i + 1, "fill_key": f"f-{i}",
                    "symbol": f"S{i % 50:02d}", "side": "buy" if i % 2 else "sell",
                    "quantity": 10.0 + i % 7, "price": 100.0 + i % 13, "timestamp": now[n],
                    "market_time": bar[n],
                }
                for n, i in enumerate(ids)
            ).execute()  # fmt: skip
            LiveTrade.insert_many(
                {
                    "session": session.id, "symbol": f"S{i % 50:02d}", "side": "long",
                    "quantity": 10.0, "entry_price": 100.0, "exit_price": 100.0 + i % 5 - 2,
                    "timestamp": now[n], "market_time": bar[n], "entry_time": bar[n],
                    "pnl": 10.0 * (i % 5 - 2), "pnl_pct": 0.01 * (i % 5 - 2),
                }
                for n, i in enumerate(ids)
            ).execute()  # fmt: skip
            RiskEventRow.insert_many(
                {
                    "session": session.id, "account_key": "local:b1g5t0re", "timestamp": now[n],
                    "market_time": bar[n], "event_type": "position_limit", "value": 0.3,
                    "limit": 0.25, "action_taken": "order trimmed", "symbol": f"S{i % 50:02d}",
                    "detail": why,
                }
                for n, i in enumerate(ids)
            ).execute()  # fmt: skip
    db.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["history"]:
        history(Path(sys.argv[2]))
    elif sys.argv[1:2] == ["build"]:
        build(Path(sys.argv[2]), *(int(arg) for arg in sys.argv[3:4]))
    else:
        numbers = [int(arg) for arg in sys.argv[2:4]]
        desk(*numbers)
