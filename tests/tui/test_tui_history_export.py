"""The History screen's CSV export (ctrl+e) of a store with hand-edited numbers: an audit file
a spreadsheet sums correctly, with nothing invented and nothing left unsaid."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

from tui_helpers import wait_for

from tui_trader.session.local import LocalSettings, build_local_session
from tui_trader.session.runner import SessionRunner
from tui_trader.store import browse
from tui_trader.store.db import open_database
from tui_trader.tui.app import make_app
from tui_trader.tui.screens.history import HistoryScreen


def _hand_edited(db: Path, clock) -> tuple[int, int]:
    """A finished local session whose newest filled order's fill price and newest trade's PnL
    and quantity were edited by hand to ``inf``, text and ``1e308``: (order id, trade id)."""
    session = build_local_session(LocalSettings(db=db, symbols=("SPY", "QQQ", "IWM")), clock)
    SessionRunner(session, 80).run()
    with sqlite3.connect(db) as con:
        order = con.execute("SELECT MAX(id) FROM live_orders WHERE filled_price > 0").fetchone()[0]
        trade = con.execute("SELECT MAX(id) FROM live_trades").fetchone()[0]
        con.execute("UPDATE live_orders SET filled_price = 9e999 WHERE id = ?", (order,))
        con.execute("UPDATE live_trades SET pnl = 'xyzzy', quantity = 1e308 WHERE id = ?", (trade,))
    return order, trade


def _rows(path: Path) -> dict[str, dict[str, str]]:
    """An exported CSV's rows by id."""
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["Id"]: row for row in csv.DictReader(fh)}


def test_unreadable_numbers_are_exported_empty_and_counted_by_column(db_path, frozen) -> None:
    """Before, the export wrote them raw ("inf", "xyzzy", "1e+308"): a spreadsheet's total of
    the quantity column was 1e308. Now each is an empty cell, counted under its column; every
    readable number is written as stored."""
    order, trade = _hand_edited(db_path, frozen)
    db = open_database(db_path)
    try:
        out = db_path.parent / "trades.csv"
        empty: dict[str, int] = {}
        count = browse.export_csv("trades", browse.HistoryFilter(), out, unreadable=empty)
        orders: dict[str, int] = {}
        browse.export_csv(
            "orders", browse.HistoryFilter(), db_path.parent / "o.csv", "Id", True, orders
        )
    finally:
        db.close()
    rows = _rows(out)
    assert count == len(rows) > 1
    assert (rows[str(trade)]["PnL"], rows[str(trade)]["Qty"]) == ("", "")
    assert empty == {"Qty": 1, "PnL": 1}
    assert orders == {"Fill px": 1}
    assert _rows(db_path.parent / "o.csv")[str(order)]["Fill px"] == ""
    with sqlite3.connect(db_path) as con:  # the audit trail keeps what is stored
        stored = dict(con.execute("SELECT id, pnl FROM live_trades").fetchall())
    assert stored[trade] == "xyzzy"
    assert {int(key): float(row["PnL"]) for key, row in rows.items() if key != str(trade)} == {
        key: pnl for key, pnl in stored.items() if key != trade
    }, "every readable number as stored"


async def test_ctrl_e_says_how_many_cells_it_left_empty_and_where(db_path, frozen) -> None:
    """ctrl+e on the orders view: the file's hand-edited cell is empty and the export's
    notification says so, by column. Before, the notification said only where the file was.
    (The trades view shows the account's round trips rebuilt from its fills, which leave an
    unreadable fill out: ``test_tui_history_trips.py``.)"""
    order, _ = _hand_edited(db_path, frozen)
    app = make_app(db_path, clock=frozen)
    notified: list[tuple[str, str]] = []  # kept: a notification leaves after its timeout
    notify = app.notify

    def keep(message: str, **kwargs) -> None:
        notified.append((message, kwargs.get("severity", "information")))
        notify(message, **kwargs)

    app.notify = keep  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "history")
        screen = app.screen
        await wait_for(
            pilot, lambda: screen.view == "orders" and screen.loaded == screen.seq, "orders"
        )
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: any("Exported" in m for m, _ in notified), "the export")
    [(said, severity)] = [(m, s) for m, s in notified if "Exported" in m]
    assert "1 hand-edited number(s) nobody can read left empty (Fill px 1)" in said, said
    assert severity == "warning"
    [path] = (db_path.parent / "exports").iterdir()
    assert str(path) in said
    assert _rows(path)[str(order)]["Fill px"] == ""
