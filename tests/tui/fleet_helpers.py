"""A seeded fleet for the Fleet screen's tests: sessions on other hosts, written straight into
the store before the app starts (imported as ``fleet_helpers``)."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from tui_helpers import FROZEN_START

from tui_trader.store.db import open_database, to_db_time
from tui_trader.store.liveness import this_host
from tui_trader.store.models import AccountSnapshot, SessionRow, database

SEEDED = (
    # key, host, pid, mode, account, symbols, heartbeat age (s), status, equity, day PnL
    ("aaaa1111", "desk-a", 4101, "paper", "alpaca:PA1", "SPY,QQQ", 2, "running", 100250.5, 250.5),
    ("bbbb2222", "desk-b", 4102, "paper", "alpaca:PA1", "IWM", 5, "running", 100250.5, 250.5),
    (
        "cccc3333",
        "desk-c",
        4103,
        "live",
        "alpaca:LV9",
        "AAPL,MSFT,NVDA",
        400,
        "running",
        5e4,
        -75.0,
    ),
    ("dddd4444", "desk-a", 4104, "local", "local:dddd4444", "SPY", 3600, "stopped", 99e3, -12.25),
)
"""Two sessions sharing a paper account, one live session whose heartbeat is stale (it looks
dead), one that ended an hour ago."""


def seed_fleet(db: Path, gone_here: bool = False) -> None:
    """Write the seeded sessions (``gone_here``: plus one on this host whose process is gone)."""
    open_database(db)
    rows = list(SEEDED)
    if gone_here:
        rows.append(
            (
                "eeee5555",
                this_host(),
                dead_pid(),
                "local",
                "local:eeee5555",
                "SPY",
                1,
                "running",
                1e5,
                0.0,
            )
        )
    for key, host, pid, mode, account, symbols, age, status, equity, pnl in rows:
        beat = FROZEN_START - timedelta(seconds=age)
        session = SessionRow.create(
            key=key,
            mode=mode,
            broker="alpaca" if account.startswith("alpaca:") else "paper",
            data_source="test",
            symbols=symbols,
            parameters="{}",
            account_key=account,
            started_at=to_db_time(beat - timedelta(minutes=30)),
            ended_at=to_db_time(beat) if status != "running" else None,
            status=status,
            pid=pid,
            host=host,
            heartbeat_at=to_db_time(beat),
            heartbeat_window=30.0,
        )
        AccountSnapshot.create(
            session=session,
            iteration=10,
            timestamp=to_db_time(beat),
            cash=equity,
            equity=equity,
            buying_power=equity,
            drawdown_pct=0.0,
            daily_pnl=pnl,
        )
    database.close()


def dead_pid() -> int:
    """The id of a process that has just ended (no process has it now)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stdout)
