"""Audit throughput: orders, fills and snapshots per second that the store sustains.

Replay path: rows written inside decision cycles whose transaction is committed once per
``commit_every`` cycles (390: a simulated day of 1-minute bars). Live path: ``commit_before_send``
(each order row committed on its own before the broker is called, every statement its own
commit). Both on a WAL database with synchronous=NORMAL, as the desk opens it. One "order" is the
pending row plus the broker's acknowledgement; one "fill" is the fill row plus the order's update
to filled plus the round-trip row.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.harness import Stat


def _workload(commit_before_send: bool, n: int, target: Any = None) -> dict[str, float]:
    """Rows per second of each kind for one fresh database (a SQLite file in a temporary
    folder, or ``target``: a fresh PostgreSQL database's ``PgUrl``, ``benchmarks.pg_bench``)."""
    from tui_trader.core.clock import FrozenClock
    from tui_trader.core.domain import Account, Position, TradingState
    from tui_trader.core.ledger import ClosedTrade
    from tui_trader.core.orders import Fill, Order, OrderRequest, OrderStatus, OrderType, Side
    from tui_trader.store.audit import AuditLog
    from tui_trader.store.db import open_database

    start = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(target or Path(tmp) / "audit.db")
        clock = FrozenClock(start, timedelta(seconds=1))
        extra = {} if commit_before_send else {"commit_every": 390}
        audit = AuditLog(db, clock, commit_before_send=commit_before_send, **extra)
        audit.start_session("local", "paper", None, "bench", ("SPY",), {})
        key = audit.session.key
        account = Account(cash=1e5, equity=1e5, buying_power=1e5, account_id="x")
        positions = {"SPY": Position("SPY", 10.0, 100.0, 101.0)}
        t0 = time.perf_counter()
        for i in range(n):
            with audit.cycle():
                req = OrderRequest("SPY", Side.BUY, 10.0, f"tt-{key}-{i}-SPY-r", rationale="b")
                audit.order_pending(req, i, start)
                audit.order_update(
                    Order(
                        req.client_order_id,
                        "SPY",
                        Side.BUY,
                        10.0,
                        OrderType.MARKET,
                        OrderStatus.NEW,
                        broker_order_id=f"b{i}",
                    )
                )
        t1 = time.perf_counter()
        for i in range(n):
            with audit.cycle():
                cid = f"tt-{key}-{i}-SPY-r"
                audit.order_update(
                    Order(
                        cid,
                        "SPY",
                        Side.BUY,
                        10.0,
                        OrderType.MARKET,
                        OrderStatus.FILLED,
                        filled_qty=10.0,
                        filled_avg_price=100.0,
                        broker_order_id=f"b{i}",
                    )
                )
                fill = Fill(cid, "SPY", Side.BUY, 10.0, 100.0, start, fill_id=f"f{i}")
                audit.fill(fill, start)
                audit.trade(
                    ClosedTrade(
                        "SPY", Side.BUY, 10.0, 100.0, 101.0, start, start, 0.0, 0.0, 10.0, 1.0, cid
                    )
                )
        t2 = time.perf_counter()
        for i in range(n):
            with audit.cycle():
                audit.snapshot(i, account, positions, 0.0, 0.0, TradingState.ACTIVE, start)
        t3 = time.perf_counter()
        if hasattr(audit, "flush"):
            audit.flush()
        db.close()
    return {"orders": n / (t1 - t0), "fills": n / (t2 - t1), "snapshots": n / (t3 - t2)}


def run(quick: bool, runs: int, log: Any) -> list[dict[str, Any]]:
    """Rows per second, replay and live paths."""
    n = 200 if quick else 5_000
    rows = []
    for label, cbs in (
        ("replay (commit every 390 cycles)", False),
        ("live (commit before send)", True),
    ):
        figures: dict[str, list[float]] = {"orders": [], "fills": [], "snapshots": []}
        for _ in range(runs):
            for k, v in _workload(cbs, n).items():
                figures[k].append(v)
        log(f"  {label}: {figures}")
        for kind, values in figures.items():
            rows.append(
                {
                    "measure": f"{label}: {kind}/s ({n:,} each)",
                    "figure": Stat.of(values).fmt(),
                    "target": "—",
                    "met": "—",
                    "value": Stat.of(values),
                }
            )
    return rows
