"""A paper record written the way an Alpaca paper session writes it, for tests of the gate.

Only sessions on Alpaca's paper host count for the paper-to-live gate, and the tests have no
network: the record is written through the store's own API (``AuditLog``), with the rows a
``live paper`` session on ``https://paper-api.alpaca.markets`` stores (its mode, broker,
endpoint, starting equity, one account snapshot per cycle), not through any switch in the
product. ``endpoint`` lets a test store another host in the same rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tui_trader.brokers.alpaca_config import PAPER_URL
from tui_trader.core.clock import WallClock
from tui_trader.core.domain import Account, TradingState
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.models import database
from tui_trader.store.pg_url import PgUrl

PAPER_ACCOUNT = "alpaca:PA3GATE25TEST"
"""The account key of the written record (``alpaca:`` and the account id, as Alpaca's)."""


def write_paper_record(
    db: Path | PgUrl,
    endpoint: str | None = PAPER_URL,
    cycles: int = 12,
    gain: float = 250.0,
    deepest_drawdown_pct: float = 1.5,
    account: str = PAPER_ACCOUNT,
) -> str:
    """One completed ``paper`` session of ``cycles`` cycles on ``endpoint`` whose equity ends
    ``gain`` above its start, its deepest drawdown ``deepest_drawdown_pct``; the account key."""
    start = 100_000.0
    audit = AuditLog(open_database(db), WallClock())
    audit.start_session(
        "paper",
        "alpaca-paper",
        endpoint,
        "alpaca (data.alpaca.markets)",
        ("SPY",),
        {"start_cash": start},
        account_key=account,
    )
    first_bar = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    for n in range(1, cycles + 1):
        equity = start + gain * n / cycles
        drawdown = deepest_drawdown_pct if n == cycles // 2 else 0.0
        audit.snapshot(
            n,
            Account(cash=equity, equity=equity, buying_power=equity, account_id=account[7:]),
            {},
            drawdown,
            equity - start,
            TradingState.ACTIVE,
            first_bar + timedelta(minutes=n),
        )
    audit.end_session("completed", cycles)
    database.close()
    return account
