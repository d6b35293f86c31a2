"""Round trips written as a desk writes them: the fills that open and close them.

``report``, ``history``, ``pnl``, the monitor and the desk's line count the account's round
trips rebuilt from its fills (``reporting.account_pnl``), not a desk's ``live_trades`` rows: a
test that wants a round trip of a known PnL records its two fills."""

from __future__ import annotations

from datetime import datetime, timedelta

from tui_trader.core.orders import Fill, Side
from tui_trader.store.audit import AuditLog


def record_round_trip(
    audit: AuditLog, symbol: str, pnl: float, when: datetime, qty: float = 1.0
) -> None:
    """A long of ``qty`` ``symbol`` bought at 100 a second before ``when`` and sold at ``when``
    for ``pnl`` in all (no costs)."""
    n = len(audit.db.execute_sql("SELECT id FROM live_fills").fetchall())
    buy = Fill(f"b-{n}", symbol, Side.BUY, qty, 100.0, when - timedelta(seconds=1), fill_id=f"f{n}")
    sell = Fill(f"s-{n}", symbol, Side.SELL, qty, 100.0 + pnl / qty, when, fill_id=f"f{n + 1}")
    for fill in (buy, sell):
        assert audit.fill(fill, fill.timestamp)
