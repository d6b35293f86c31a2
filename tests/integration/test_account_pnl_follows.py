"""The realized PnL a desk's line and ``live monitor`` show, kept up to date by the fills
recorded since the last look (``reporting.account_pnl``), is what reading every fill gives
(``report``'s round trips), whatever order the fills come in.

A reader that only added the new fills would be wrong where a fill executed before one it
took (a stream's late news), where a fill of a lower id is committed after a higher one
(PostgreSQL hands ids out at insert), or where a snapshot it looked at changed: there it reads
every fill again. Where fills come in order, it never does (the monitor looks every second on
stores of 200,000 fills).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_account_trips_same import T0, _store
from tui_trader.reporting.account_pnl import AccountPnl, Realized, ScopePnl
from tui_trader.reporting.account_trips import account_trips
from tui_trader.store.db import open_database
from tui_trader.store.models import AccountSnapshot, LiveFill, SessionRow


def _same(reader: Realized, sessions: list[SessionRow]) -> None:
    """The reader's sums are those of every round trip ``report`` rebuilds for ``sessions``."""
    trips = account_trips(sessions)
    assert reader.trades == len(trips)
    assert reader.total == pytest.approx(sum(t.trade.pnl for t in trips), abs=1e-6)
    symbols: dict[str, float] = {}
    for t in trips:
        symbols[t.trade.symbol] = symbols.get(t.trade.symbol, 0.0) + t.trade.pnl
    assert reader.by_symbol == pytest.approx(symbols, abs=1e-6)
    days = {t.trade.exit_time.date() for t in trips}
    assert set(reader.by_day) == days


@pytest.mark.parametrize("seed", [5, 6])
def test_the_reader_that_follows_the_fills_is_what_reading_them_all_gives(
    store: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two desks and a desk of no account write fills at random times (ties, heard late, out
    of id order) and snapshots of shares no fill bought; after every few rows each desk's
    reader is compared with the round trips read whole."""
    db = open_database(store)
    readers: dict[int, AccountPnl] = {}
    written = [0]
    create: Callable[..., Any] = LiveFill.create.__func__  # type: ignore[attr-defined]

    def look() -> None:
        for row in SessionRow.select():
            reader = readers.setdefault(row.id, AccountPnl([row.id]))
            _same(reader.refresh(), [row])

    def counted(cls: type[LiveFill], **fields: Any) -> LiveFill:
        made = create(cls, **fields)
        written[0] += 1
        if written[0] % 7 == 0:
            look()
        return made

    try:
        monkeypatch.setattr(LiveFill, "create", classmethod(counted))
        _store(seed)
        look()
        assert written[0] > 150 and readers
        assert any(r.rebuilds > 1 for r in readers.values()), "no fill came out of order"
    finally:
        db.close()


def test_fills_in_order_are_added_and_a_late_lower_id_is_read_again(store: Path) -> None:
    """Fills of two desks of one account in time order: the reader reads them all once, then
    only the new ones; a fill committed late with a lower id than one it took (PostgreSQL)
    makes it read them all again, and counts it."""
    db = open_database(store)
    try:
        desks = [
            SessionRow.create(key=f"d{i}", mode="paper", broker="alpaca", data_source="alpaca",
                              symbols="SPY", parameters="{}", account_key="alpaca:X",
                              started_at=T0, status="running")
            for i in range(2)
        ]  # fmt: skip
        reader = AccountPnl([desks[0].id])

        def fill(n: int, side: str, price: float, desk: SessionRow, row: int | None = None) -> None:
            fields: dict[str, Any] = {"id": row} if row is not None else {}
            LiveFill.create(session=desk, fill_key=f"f{n}", symbol="SPY", side=side,
                            quantity=2.0, price=price, timestamp=T0 + timedelta(minutes=n),
                            **fields)  # fmt: skip

        for n in range(40):  # each desk buys 2 and sells them; B's sale of A's shares too
            desk = desks[(n // 2) % 2] if n % 5 else desks[1]
            fill(n, "buy" if n % 2 == 0 else "sell", 100.0 + n, desk)
            _same(reader.refresh(), desks[:1])
        assert reader.rebuilds == 1
        top = LiveFill.select().order_by(LiveFill.id.desc()).first().id
        fill(41, "buy", 90.0, desks[0], row=top + 10)
        _same(reader.refresh(), desks[:1])
        assert reader.rebuilds == 1
        fill(42, "sell", 95.0, desks[0], row=top + 5)  # (committed after top + 10)
        made = reader.refresh()
        _same(made, desks[:1])
        assert reader.rebuilds == 2 and made.by_symbol["SPY"] == pytest.approx(
            sum(t.trade.pnl for t in account_trips(desks[:1]))
        )
    finally:
        db.close()


def test_a_snapshot_written_since_the_last_look_prices_shares_held_by_hand(store: Path) -> None:
    """A desk's sale of shares bought by hand (no fill of theirs recorded) is a round trip
    entered at what the account's snapshot before it says: a snapshot written after the
    reader's last look is taken, added to those it read (no fill read again)."""
    db = open_database(store)
    try:
        desk = SessionRow.create(key="d", mode="paper", broker="alpaca", data_source="alpaca",
                                 symbols="SPY", parameters="{}", account_key="alpaca:X",
                                 started_at=T0, status="running")  # fmt: skip
        reader = AccountPnl([desk.id])

        def snapshot(minute: int, symbol: str, qty: float, price: float) -> None:
            AccountSnapshot.create(session=desk, timestamp=T0 + timedelta(minutes=minute),
                                   cash=1.0, equity=1.0, buying_power=1.0, drawdown_pct=0.0,
                                   daily_pnl=0.0,
                                   positions=json.dumps([[symbol, qty, price, price]]))  # fmt: skip

        def sell(minute: int, symbol: str, qty: float, price: float) -> None:
            LiveFill.create(session=desk, fill_key=f"f{minute}", symbol=symbol, side="sell",
                            quantity=qty, price=price, market_time=T0 + timedelta(minutes=minute),
                            timestamp=T0 + timedelta(minutes=minute))  # fmt: skip

        snapshot(1, "QQQ", 3.0, 50.0)
        sell(2, "QQQ", 3.0, 51.0)  # 3 QQQ held by hand, sold: +3
        assert reader.refresh().total == pytest.approx(3.0)
        snapshot(3, "SPY", 7.0, 90.0)  # 7 SPY bought by hand since
        sell(4, "SPY", 7.0, 100.0)
        made = reader.refresh()
        _same(made, [desk])
        assert made.total == pytest.approx(73.0) and reader.rebuilds == 1
    finally:
        db.close()


def test_the_history_screens_days_read_only_the_fills_since_their_last_load(store: Path) -> None:
    """The History screen's PnL days (``ScopePnl``): a round trip recorded since the last load
    is counted at the next, the fills before it not read again; a new session is read."""
    db = open_database(store)
    try:
        desk = SessionRow.create(key="d", mode="paper", broker="alpaca", data_source="alpaca",
                                 symbols="SPY", parameters="{}", account_key="alpaca:X",
                                 started_at=T0, status="running")  # fmt: skip
        days = ScopePnl()

        def trip(n: int, gain: float, on: SessionRow) -> None:
            for k, (side, price) in enumerate((("buy", 100.0), ("sell", 100.0 + gain))):
                LiveFill.create(session=on, fill_key=f"f{n}-{k}", symbol="SPY", side=side,
                                quantity=1.0, price=price,
                                timestamp=T0 + timedelta(days=n, minutes=k))  # fmt: skip

        trip(0, 2.0, desk)
        notes: list[str] = []
        assert days.realized(None, notes).by_day == {T0.date(): (1, 2.0)}
        trip(1, 3.0, desk)
        made = days.realized(None, notes)
        assert made.total == pytest.approx(5.0) and made.trades == 2
        assert days._reader is not None and days._reader.rebuilds == 1
        other = SessionRow.create(key="e", mode="paper", broker="alpaca", data_source="alpaca",
                                  symbols="SPY", parameters="{}", account_key="alpaca:X",
                                  started_at=T0, status="running")  # fmt: skip
        trip(2, -1.0, other)
        assert days.realized(None, notes).total == pytest.approx(4.0)
        assert days.realized([desk], notes).total == pytest.approx(5.0) and not notes
    finally:
        db.close()
