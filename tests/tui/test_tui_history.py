"""The history browser: filters, sorting, paging, order detail, CSV export, 100k orders."""

from __future__ import annotations

import csv
import sqlite3
import time
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, Static
from textual.widgets._select import SelectOverlay
from tui_helpers import wait_for

from tui_trader.session.local import LocalSettings, build_local_session
from tui_trader.session.runner import SessionRunner
from tui_trader.store import browse
from tui_trader.store.db import open_database
from tui_trader.store.models import LiveOrder, RiskEventRow
from tui_trader.tui.app import make_app
from tui_trader.tui.screens.history import HistoryScreen
from tui_trader.tui.screens.order_detail import OrderDetailScreen

SIZE = (120, 36)


def run_headless(db: Path, clock, iterations: int = 80) -> None:
    """Fill a database with one finished local session."""
    session = build_local_session(LocalSettings(db=db, symbols=("SPY", "QQQ", "IWM")), clock)
    SessionRunner(session, iterations).run()


async def _open_history(app, pilot) -> HistoryScreen:
    """F3, then wait for the first page."""
    await pilot.press("f3")
    await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "history")
    screen = app.screen
    await wait_for(pilot, lambda: screen.loaded == screen.seq, "the first page")
    # a filter's Select mounts its own label after the screen: setting its value before that
    # raised NoMatches under load (a test race; a person's key waits for the mount)
    await wait_for(pilot, lambda: bool(screen.query("#f-side #label")), "the filters")
    return screen


async def test_history_filters_sorts_and_shows_an_order(db_path, frozen) -> None:
    """Orders appear; a symbol filter narrows them; a header click sorts; Enter shows why."""
    run_headless(db_path, frozen)
    total = LiveOrder.select().count()
    assert total > 0
    app = make_app(db_path, clock=frozen)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_history(app, pilot)
        status = screen.query_one("#history-status", Static)
        await wait_for(pilot, lambda: f"of {total:,}" in str(status.render()), "the row count")
        screen.query_one("#f-symbol", Input).focus()
        await pilot.press("s", "p", "y")
        await wait_for(
            pilot,
            lambda: screen.rows and all(row[3] == "SPY" for row in screen.rows),
            "only SPY rows",
        )
        await pilot.click("#history-table", offset=(54, 0))
        await wait_for(pilot, lambda: screen.sort == "Qty" and screen.loaded == screen.seq, "sort")
        quantities = [row[5] for row in screen.rows]
        assert quantities == sorted(quantities)
        table = screen.query_one("#history-table", DataTable)
        table.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, OrderDetailScreen), "the detail")
        text = " ".join(str(s.render()) for s in app.screen.query(Static))
        assert "Rationale" in text and "target" in text
        await pilot.press("escape")
        await pilot.press("f7")
        await wait_for(
            pilot, lambda: screen.view == "events" and screen.loaded == screen.seq, "risk events"
        )


async def test_export_writes_the_filtered_view(db_path, frozen, tmp_path) -> None:
    """ctrl+e writes every filtered row (not just the page) to a CSV beside the database."""
    run_headless(db_path, frozen)
    expected = LiveOrder.select().where(LiveOrder.side == "buy").count()
    app = make_app(db_path, clock=frozen)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_history(app, pilot)
        screen.query_one("#f-side").value = "buy"
        await wait_for(
            pilot, lambda: screen.rows and all(r[4] == "buy" for r in screen.rows), "buy rows"
        )
        await pilot.press("ctrl+e")
        folder = db_path.parent / "exports"
        await wait_for(pilot, lambda: any(folder.glob("orders-*.csv")), "the CSV")
    with next(folder.glob("orders-*.csv")).open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "Id" and len(rows) - 1 == expected
    assert {row[4] for row in rows[1:]} == {"buy"}


def _bulk_orders(db: Path, n: int) -> None:
    """Insert ``n`` order rows quickly (one executemany on a plain sqlite3 connection)."""
    open_database(db).close()
    con = sqlite3.connect(db)
    con.execute(
        "INSERT INTO sessions (key, mode, broker, data_source, symbols, parameters, account_key,"
        " started_at, status, iterations) VALUES ('bulk', 'local', 'paper', 'sim', 'A', '{}',"
        " 'local:bulk', '2024-01-02 00:00:00', 'completed', 0)"
    )
    rows = (
        (
            1,
            f"c{i}",
            f"S{i % 50:02d}",
            "buy" if i % 3 else "sell",
            float(i % 97 + 1),
            "market",
            "filled",
            f"2024-01-{2 + i % 28:02d} 14:30:00",
            "2024-01-02 00:00:00",
            f"2024-01-{2 + i % 28:02d} 14:30:00",
            "bulk",
        )
        for i in range(n)
    )
    con.executemany(
        "INSERT INTO live_orders (session_id, client_order_id, symbol, side, quantity, order_type,"
        " status, timestamp, updated_at, market_time, rationale, filled_qty)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
        rows,
    )
    con.commit()
    con.close()


def test_pages_stay_fast_on_100k_orders(db_path) -> None:
    """A filtered, sorted page of 100,000 orders comes back quickly (no full loads)."""
    _bulk_orders(db_path, 100_000)
    filt = browse.HistoryFilter(symbol="S07", side="buy")
    start = time.perf_counter()
    rows, total = browse.fetch_page("orders", filt, sort="Qty", descending=True, offset=500)
    elapsed = time.perf_counter() - start
    assert len(rows) == browse.PAGE_SIZE and total > 1_000
    assert elapsed < 1.0, f"page took {elapsed:.2f}s"
    assert [r[5] for r in rows] == sorted((r[5] for r in rows), reverse=True)


def test_filters_by_date_range_session_and_event_type(db_path, frozen) -> None:
    """Each filter narrows the rows it should, and only those."""
    run_headless(db_path, frozen, iterations=60)
    run_headless(db_path, frozen, iterations=10)
    first, second = [row[0] for row in browse.sessions()][::-1]
    rows, total = browse.fetch_page("orders", browse.HistoryFilter(session_id=first))
    assert total == LiveOrder.select().where(LiveOrder.session == first).count() > 0
    assert {row[2] for row in rows} == {first}
    day = rows[-1][1].date()
    rows, _ = browse.fetch_page("orders", browse.HistoryFilter(start=day, end=day))
    assert rows and {row[1].date() for row in rows} == {day}
    _, none = browse.fetch_page("events", browse.HistoryFilter(event_type="no_such_event"))
    assert none == 0
    _, mine = browse.fetch_page("orders", browse.HistoryFilter(session_id=second))
    assert mine == LiveOrder.select().where(LiveOrder.session == second).count()


async def test_a_session_started_after_the_first_visit_joins_the_session_filter(
    db_path, frozen
) -> None:
    """History seen once, then another session runs on the database: back on F3 the session
    filter lists both (it kept the first visit's list until the app restarted), and a session
    chosen in it stays chosen."""
    run_headless(db_path, frozen, iterations=5)
    app = make_app(db_path, clock=frozen)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_history(app, pilot)
        select = screen.query_one("#f-session", Select)
        await wait_for(pilot, lambda: len(select._options) == 2, "one session (and 'any')")
        first = select._options[1][1]
        select.value = first
        await wait_for(pilot, lambda: screen.loaded == screen.seq, "the filtered page")
        await pilot.press("f2")
        run_headless(db_path, frozen, iterations=5)
        await _open_history(app, pilot)
        await wait_for(pilot, lambda: len(select._options) == 3, "both sessions")
        assert select.value == first
        # open, each session reads on one line (16 columns wrapped each over three)
        select.focus()
        await pilot.press("enter")
        overlay = select.query_one(SelectOverlay)
        await wait_for(pilot, lambda: overlay.region.height > 0, "the open list")
        assert overlay.region.height == 3


def test_an_export_is_whole_under_its_name_or_not_there(db_path, frozen, monkeypatch) -> None:
    """A file under the export's name is always the whole view: while rows are still being
    written nothing has that name, and an export that fails half-way leaves nothing behind."""
    run_headless(db_path, frozen)
    path = db_path.parent / "exports" / "orders-x.csv"
    real_rows = browse.iter_rows
    seen_midway: list[bool] = []

    def rows_then_fail(*args, **kwargs):
        for n, row in enumerate(real_rows(*args, **kwargs)):
            if n == 3:
                seen_midway.append(path.exists())
                raise OSError("disk went away")
            yield row

    monkeypatch.setattr(browse, "iter_rows", rows_then_fail)
    with pytest.raises(OSError, match="disk went away"):
        browse.export_csv("orders", browse.HistoryFilter(), path)
    assert seen_midway == [False]
    assert list(path.parent.iterdir()) == []
    monkeypatch.setattr(browse, "iter_rows", real_rows)
    count = browse.export_csv("orders", browse.HistoryFilter(), path)
    assert count == LiveOrder.select().count() > 3
    assert [p.name for p in path.parent.iterdir()] == ["orders-x.csv"]


async def test_the_keys_hint_is_whole_at_80_columns(db_path, frozen) -> None:
    """At 80x24 the footer has no room for ^e CSV, and the status line's hint was cut after
    "ctrl+n/ctrl+b": the export key was nowhere on the screen. The hint now wraps below."""
    run_headless(db_path, frozen, iterations=40)
    app = make_app(db_path, clock=frozen)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_history(app, pilot)
        status = screen.query_one("#history-status", Static)
        await wait_for(pilot, lambda: "rows 1–" in str(status.render()), "the status line")
        await pilot.pause()
        shown = " ".join(strip.text.strip() for strip in status.render_lines(status.size.region))
        assert "ctrl+e" in shown and "sorted by Id desc" in shown


async def test_every_filter_is_on_screen_at_80_columns(db_path, frozen) -> None:
    """In one row the six filters need 104 columns: at 80 the session filter was cut and the
    event-type filter lay off the screen. Below 104 they take two rows of three."""
    run_headless(db_path, frozen, iterations=40)
    app = make_app(db_path, clock=frozen)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_history(app, pilot)
        names = ("symbol", "side", "start", "end", "session", "event")

        def off_screen() -> list[str]:
            regions = {name: screen.query_one(f"#f-{name}").region for name in names}
            return [
                name
                for name, region in regions.items()
                if region.width < 12 or not screen.region.contains_region(region)
            ]

        # the narrow layout follows the screen's first resize: wait for it, not a fixed pause
        await wait_for(pilot, lambda: not off_screen(), "every filter on screen")


async def test_a_number_wider_than_its_column_is_rounded_not_cut(db_path, frozen) -> None:
    """A halt's risk event carries the equity (100,000 and more) in the 8-wide Value column:
    the table cut "100,568.38" to "100,568." (a cut number misreads: "1,234,56"). It is now
    rounded to what the column shows whole."""
    session = build_local_session(LocalSettings(db=db_path, symbols=("SPY",)), frozen)
    SessionRunner(session, 5).run()
    session.request_kill("user")
    session.apply_kill_requests()
    session.finish("stopped")
    [(value,)] = RiskEventRow.select(RiskEventRow.value).tuples()
    assert value >= 100_000 and len(f"{value:,.2f}") > 8
    app = make_app(db_path, clock=frozen)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_history(app, pilot)
        await pilot.press("f7")
        await wait_for(
            pilot, lambda: screen.view == "events" and screen.loaded == screen.seq, "risk events"
        )
        await pilot.pause()
        table = screen.query_one("#history-table", DataTable)
        lines = [strip.text for strip in table.render_lines(table.size.region)]
        [line] = [line for line in lines if "manual_kill" in line]
        shown = line.split("manual_kill")[1].split()[0]
        assert shown == f"{value:,.0f}", line


async def test_pnl_by_day_of_one_chosen_session(db_path, frozen) -> None:
    """F8 with a session chosen in the filter: that session's days, trades, realized PnL and
    end equity, as with no filter (one session here; its first day's change is then taken from
    its starting cash). The screen handed the query one session row where it takes a list, so
    the page's worker died of a TypeError and the filtered view never came."""
    run_headless(db_path, frozen, iterations=20)
    app = make_app(db_path, clock=frozen)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_history(app, pilot)
        await pilot.press("f8")
        # the view is set at once, its page comes later: until then the rows are the orders'
        await wait_for(
            pilot,
            lambda: screen.view == "pnl" and screen.loaded == screen.seq and screen.rows,
            "the days",
        )
        every = list(screen.rows)
        select = screen.query_one("#f-session", Select)
        await wait_for(pilot, lambda: len(select._options) == 2, "one session (and 'any')")
        asked = screen.seq
        select.value = select._options[1][1]
        await wait_for(pilot, lambda: screen.seq > asked, "the filtered view asked for")
        await wait_for(pilot, lambda: screen.loaded == screen.seq, "the filtered days")
        assert screen.view == "pnl" and [r[:4] for r in screen.rows] == [r[:4] for r in every]
        assert app.is_running and not app.return_code


def _table_text(screen: HistoryScreen) -> str:
    """What the history table shows, as text."""
    table = screen.query_one("#history-table", DataTable)
    return "\n".join(strip.text for strip in table.render_lines(table.size.region))


async def test_hand_edited_numbers_show_as_a_dash_with_one_note_naming_the_row(
    db_path, frozen
) -> None:
    """A hand edit left ``inf`` in the newest order's fill price, text in the newest trade's
    PnL and ``1e308`` in its quantity. The History screen showed them raw ("inf", "xyzzy",
    "1e+308") and summed the PnL view over them, said nothing; the command line's ``history``
    and ``pnl`` show "-" with one warning naming the row. Now the screen does as they do: "-",
    and one notification per row, not repeated when the view is loaded again. The trades view
    shows the account's round trips rebuilt from its fills (``trips31``): a fill's price
    edited to text leaves that fill out, with one note naming it, as ``history`` does; the PnL
    view's realized PnL comes from the same round trips (``answer32``: it summed ``live_trades``,
    whose hand-edited PnL made its day "-"): the fill left out there too, its note not said
    again."""
    run_headless(db_path, frozen)
    with sqlite3.connect(db_path) as con:
        order = con.execute("SELECT MAX(id) FROM live_orders WHERE filled_price > 0").fetchone()[0]
        fill = con.execute("SELECT MAX(id) FROM live_fills").fetchone()[0]
        con.execute("UPDATE live_orders SET filled_price = 9e999 WHERE id = ?", (order,))
        con.execute("UPDATE live_fills SET price = 'xyzzy' WHERE id = ?", (fill,))
    app = make_app(db_path, clock=frozen)
    notified: list[str] = []  # kept: a notification leaves the screen after its timeout
    notify = app.notify

    def keep(message: str, **kwargs) -> None:
        notified.append(message)
        notify(message, **kwargs)

    app.notify = keep  # type: ignore[method-assign]

    def said(text: str) -> int:
        return sum(text in message for message in notified)

    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_history(app, pilot)
        note = f"live_orders row {order} column filled_price holds 'inf', not a readable number"
        await wait_for(pilot, lambda: said(note) == 1, "the order's note")
        [row] = [r for r in screen.rows if r[0] == order]
        assert str(row[9]) == "-" and "inf" not in _table_text(screen)
        await pilot.press("f6")
        await wait_for(
            pilot, lambda: screen.view == "trades" and screen.loaded == screen.seq, "trades"
        )
        fill_note = f"live_fills row {fill} column price holds 'xyzzy'"
        await wait_for(pilot, lambda: said(fill_note) == 1, "the fill's note")
        assert screen.rows and "xyzzy" not in _table_text(screen)
        await pilot.press("f8")
        await wait_for(
            pilot, lambda: screen.view == "pnl" and screen.loaded == screen.seq, "the days"
        )
        assert screen.rows and all(isinstance(r[2], float) for r in screen.rows), screen.rows
        assert "xyzzy" not in _table_text(screen) and said(fill_note) == 1
        await pilot.press("f6")  # again: the rows are the same, nothing said twice
        await wait_for(
            pilot, lambda: screen.view == "trades" and screen.loaded == screen.seq, "trades"
        )
        await pilot.press("f5")
        await wait_for(
            pilot, lambda: screen.view == "orders" and screen.loaded == screen.seq, "orders"
        )
        assert said(note) == 1 and said(fill_note) == 1
