"""The History screen's trades (f6) are the account's round trips, as ``tui-trader history``
shows them: rebuilt from the fills of every desk of the account (``reporting.trip_pages``).

The screen showed each desk's own ``live_trades`` rows: on an account two desks trade, a
round trip one desk's ledger never booked (the other desk sold its shares, an ended desk's
stop filled late) was missing there and its numbers differed from ``history``'s. The store
here is two desks of one account whose fills cross, with no ``live_trades`` rows at all (the
screen said "no rows match" where ``history`` listed the round trips).
"""

from __future__ import annotations

import csv
import threading
from datetime import date
from typing import Any

from textual.widgets import Input, Static
from tui_helpers import wait_for

from tests.integration.test_account_trips_same import _store
from tui_trader.reporting import trip_pages
from tui_trader.reporting.account_trips import trip_rows
from tui_trader.store import browse
from tui_trader.store.db import open_database
from tui_trader.tui.app import make_app
from tui_trader.tui.screens.history import HistoryScreen

SIZE = (120, 36)


def _history_rows(db_path: Any) -> list[tuple[Any, ...]]:
    """``tui-trader history --session all``'s round trips, newest first, as the screen's rows."""
    db = open_database(db_path)
    try:
        _store(7)
        rows = trip_rows(10_000, None)
    finally:
        db.close()
    columns = ("id", "market_time", "session_id", "symbol", "side", "quantity")
    columns += ("entry_price", "exit_price", "pnl", "pnl_pct", "commission")
    # the side as ``history`` prints it: long or short (the screen said buy/sell)
    words = {"buy": "long", "sell": "short"}
    return [tuple(words.get(v, v) if c == "side" else v for c, v in zip(columns, (getattr(r, c)
            for c in columns), strict=True)) for r in rows]  # fmt: skip


async def _trades(app: Any, pilot: Any) -> HistoryScreen:
    """F3, then f6: the trades view loaded."""
    await pilot.press("f3")
    await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "history")
    screen = app.screen
    await pilot.press("f6")
    await wait_for(pilot, lambda: screen.view == "trades" and screen.loaded == screen.seq, "trades")
    return screen


async def test_the_trades_are_the_round_trips_history_shows(db_path, frozen) -> None:
    expected = _history_rows(db_path)
    assert len(expected) > 20
    app = make_app(db_path, clock=frozen)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _trades(app, pilot)
        assert screen.total == len(expected)
        assert screen.rows == expected[: browse.PAGE_SIZE]  # by id, newest first
        status = str(screen.query_one("#history-status", Static).render())
        assert f"of {len(expected)}" in status, status
        qqq = [r for r in expected if r[3] == "QQQ"]
        screen.query_one("#f-symbol", Input).value = "qqq"  # a filter: the same trips, fewer
        await wait_for(pilot, lambda: screen.total == len(qqq), "the filtered trips")
        assert qqq and screen.rows == qqq[: browse.PAGE_SIZE]
        day = date(2026, 3, 3)  # (every trip is on the 2nd: none from the 3rd)
        screen.query_one("#f-start", Input).value = day.isoformat()
        await wait_for(pilot, lambda: screen.total == 0, "no trips from the 3rd")
        screen.query_one("#f-start", Input).value = expected[0][1].date().isoformat()
        await wait_for(pilot, lambda: screen.total == len(qqq), "the 2nd's trips")
        await pilot.press("ctrl+e")  # the file holds the round trips on screen
        exports = db_path.parent / "exports"
        await wait_for(pilot, lambda: exports.exists() and any(exports.iterdir()), "the file")
    [path] = exports.iterdir()
    with path.open(newline="", encoding="utf-8") as fh:
        written = [(int(r["Id"]), r["Symbol"], float(r["PnL"])) for r in csv.DictReader(fh)]
    assert written == [(r[0], r[3], r[8]) for r in qqq]


async def test_the_screen_says_loading_and_answers_while_the_trips_are_read(
    db_path, frozen, monkeypatch
) -> None:
    """A big account's round trips take seconds to rebuild: the screen says it is loading
    them and takes keys meanwhile (the read is in a worker)."""
    expected = _history_rows(db_path)
    release = threading.Event()
    read = trip_pages.account_trips

    def slow(*args: Any) -> Any:
        release.wait(timeout=60)
        return read(*args)

    monkeypatch.setattr(trip_pages, "account_trips", slow)
    app = make_app(db_path, clock=frozen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "history")
        screen = app.screen
        await wait_for(pilot, lambda: screen.loaded == screen.seq, "the orders")
        await pilot.press("f6")
        status = screen.query_one("#history-status", Static)
        await wait_for(pilot, lambda: "loading" in str(status.render()), "the loading line")
        await pilot.press("f5")  # the screen answers: back to the orders while it reads
        await wait_for(pilot, lambda: screen.view == "orders" and screen.loaded == screen.seq, "o")
        await pilot.press("f6")
        release.set()
        await wait_for(
            pilot, lambda: screen.view == "trades" and screen.loaded == screen.seq, "trades"
        )
        assert screen.rows == expected[: browse.PAGE_SIZE]
        assert "loading" not in str(status.render())
