"""A look of the realized PnL reader (``reporting.account_pnl``) that the store stops answering
part-way through (a PostgreSQL server restarted, a dropped connection, a disk error): the next
look is what reading every fill gives.

The reader had added the new fills of one account to its book when the store stopped
answering in the middle of the next account's, but still remembered the store as it was at the
look before: the next look took the first account's new fill a second time. The History
screen's PnL days (every session: a desk's Alpaca account and a local desk's) counted a +10
round trip twice, +20 on its day where ``report`` and ``pnl`` said +10, until the screen was
opened again.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.integration.test_account_trips_same import T0
from tui_trader.reporting import held_before
from tui_trader.reporting.account_pnl import AccountPnl, ScopePnl
from tui_trader.reporting.account_trips import account_trips
from tui_trader.store.db import open_database
from tui_trader.store.models import AccountSnapshot, LiveFill, SessionRow
from tui_trader.store.peewee_names import OperationalError


def _desk(key: str, account: str) -> SessionRow:
    """A running desk of ``account``."""
    return SessionRow.create(key=key, mode="paper", broker="alpaca", data_source="alpaca",
                             symbols="SPY", parameters="{}", account_key=account,
                             started_at=T0, status="running")  # fmt: skip


def _fill(desk: SessionRow, minute: int, symbol: str, side: str, qty: float, price: float) -> None:
    """One fill of ``desk`` at ``minute`` past T0."""
    LiveFill.create(session=desk, fill_key=f"f{desk.id}-{minute}", symbol=symbol, side=side,
                    quantity=qty, price=price, market_time=T0 + timedelta(minutes=minute),
                    timestamp=T0 + timedelta(minutes=minute))  # fmt: skip


def _hand_bought(desk: SessionRow, minute: int, symbol: str, qty: float, price: float) -> None:
    """The account's snapshot (written by ``desk``) says ``qty`` ``symbol`` held by hand."""
    AccountSnapshot.create(session=desk, timestamp=T0 + timedelta(minutes=minute), cash=1.0,
                           equity=1.0, buying_power=1.0, drawdown_pct=0.0, daily_pnl=0.0,
                           positions=json.dumps([[symbol, qty, price, price]]))  # fmt: skip


def test_a_look_the_store_stops_answering_midway_counts_no_fill_twice(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Desk A (account X) bought 2 SPY, desk B (account Y) holds 3 QQQ bought by hand. A
    sells 1 SPY at +10, B sells the 3 QQQ at +3: the store answers the look's reads up to
    B's snapshot's positions, then not. The next look's days say +13, as ``report`` does."""
    db = open_database(store)
    try:
        a, b = _desk("a", "alpaca:X"), _desk("b", "local:Y")
        _fill(a, 1, "SPY", "buy", 2.0, 100.0)
        _hand_bought(b, 5, "QQQ", 3.0, 50.0)
        days = ScopePnl()
        assert days.realized(None, []).total == 0.0

        _fill(a, 10, "SPY", "sell", 1.0, 110.0)  # +10
        _fill(b, 11, "QQQ", "sell", 3.0, 51.0)  # +3, held by hand: the snapshot is read
        real_read = held_before._read_positions

        def gone(snapshot: int) -> dict[str, tuple[float, float]]:
            raise OperationalError("server closed the connection unexpectedly")

        monkeypatch.setattr(held_before, "_read_positions", gone)
        with pytest.raises(OperationalError):
            days.realized(None, [])
        monkeypatch.setattr(held_before, "_read_positions", real_read)

        made = days.realized(None, [])
        report = sum(t.trade.pnl for t in account_trips([a, b]))
        assert report == pytest.approx(13.0)
        assert made.total == pytest.approx(report)
        assert made.trades == 2
        assert made.by_symbol == pytest.approx({"SPY": 10.0, "QQQ": 3.0})
        assert made.by_day == pytest.approx({T0.date(): (2, 13.0)})

        _fill(a, 12, "SPY", "sell", 1.0, 105.0)  # +5: A's last SPY
        made = days.realized(None, [])
        assert made.total == pytest.approx(18.0) and made.trades == 3
        assert made.total == pytest.approx(AccountPnl([a.id, b.id]).refresh().total)
    finally:
        db.close()
