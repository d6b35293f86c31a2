"""The history browser: orders, trades, risk events and PnL by day, straight from the database
(the trades are the account's round trips rebuilt from its fills, as ``tui-trader history``
shows them: ``reporting.trip_pages``).

Filters narrow the view, a click on a column header sorts by it, pages are fetched with
LIMIT/OFFSET in a thread worker (the UI never holds more than one page), Enter opens an order's
detail with its rationale, and ctrl+e writes the whole filtered view to CSV.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Input, Select, Static, Tab, Tabs

from tui_trader.core.clock import Clock
from tui_trader.core.order_ids import short_key
from tui_trader.reporting.account_pnl import ScopePnl
from tui_trader.reporting.trip_pages import TripCache, sorted_rows, trip_page
from tui_trader.store import browse
from tui_trader.store.models import database
from tui_trader.store.queries import pnl_by_day
from tui_trader.tui.dbaccess import ensure_database
from tui_trader.tui.history_cells import (
    PNL_COLUMNS,
    UNREADABLE,
    VIEW_TITLES,
    Page,
    PageLoaded,
    filter_date,
    pnl_cells,
    table_cell,
)
from tui_trader.tui.screens.first_resume import StyledOnMount
from tui_trader.tui.screens.order_detail import OrderDetailScreen
from tui_trader.tui.widgets.desk_footer import DeskFooter
from tui_trader.tui.widgets.deskbar import DeskBar
from tui_trader.tui.widgets.ordered_input import OrderedInput


class HistoryScreen(StyledOnMount, Screen[None]):
    """Browses the audit trail; reads run in a worker so the screen never stalls."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "view('orders')", "Orders", id="history-orders", tooltip="Show orders"),
        Binding("f6", "view('trades')", "Trades", id="history-trades", tooltip="Closed trades"),
        Binding("f7", "view('events')", "Risks", id="history-events", tooltip="Risk events"),
        Binding("f8", "view('pnl')", "PnL", id="history-pnl", tooltip="PnL by day"),
        Binding("ctrl+n", "page(1)", "Next", id="history-next", tooltip="Next page"),
        Binding("ctrl+b", "page(-1)", "Prev", id="history-prev", tooltip="Previous page"),
        Binding(
            "ctrl+e",
            "export",
            "CSV",
            id="history-export",
            tooltip="Write the whole filtered view to a CSV file",
        ),
        Binding(
            "enter",
            "detail",
            "Details",
            id="history-detail",
            show=False,
            tooltip="Details of the selected order",
        ),
    ]
    AUTO_FOCUS = "#history-table"
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (104, "-wide")]
    """Below 104 columns the six filters take two rows of three (screens.tcss): in one row
    the session filter was cut and the event-type filter was off the screen at 80 columns."""

    def __init__(self, db_path: Path, clock: Clock) -> None:
        """The database to read and the clock that names exports."""
        super().__init__(id="history")
        self.db_path = db_path
        self.clock = clock
        self.view = "orders"
        self.sort = "Id"
        self.descending = True
        self.page_offset = 0
        self.total = 0
        self.seq = 0
        self.loaded = 0
        """Sequence number of the page on screen (tests wait on it)."""
        self.rows: list[tuple] = []
        self._sessions_shown: object = None
        """The sessions the filter lists (refreshed when a load finds others)."""
        self._warned: set[str] = set()
        """The unreadable-number notes already said (a reload does not say them again)."""
        self._trips = TripCache()
        """The account's round trips last read (the trades view: ``reporting.trip_pages``)."""
        self._days = ScopePnl()
        """The PnL days' realized PnL, kept while the scope is the same (``account_pnl``)."""

    def compose(self) -> ComposeResult:
        """Desk bar, view tabs, filters, status line, table."""
        yield DeskBar()
        yield Tabs(*[Tab(title, id=view) for view, title in VIEW_TITLES.items()], id="views")
        with Horizontal(id="filters"):
            yield OrderedInput(placeholder="symbol", id="f-symbol", compact=True)
            yield Select(
                [("buy/long", "buy"), ("sell/short", "sell")],
                prompt="any side",
                id="f-side",
                compact=True,
            )
            yield OrderedInput(placeholder="from YYYY-MM-DD", id="f-start", compact=True)
            yield OrderedInput(placeholder="to YYYY-MM-DD", id="f-end", compact=True)
            yield Select([], prompt="any session", id="f-session", compact=True)
            yield OrderedInput(placeholder="event type", id="f-event", compact=True)
        yield Static("", id="history-status")
        yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
        yield DeskFooter()

    def on_mount(self) -> None:
        """Load the first page."""
        self._columns()
        self.reload()

    def on_screen_resume(self) -> None:
        """Fresh rows each time the screen is shown (a session may have written more)."""
        if self.loaded:
            self.reload(keep_offset=True)

    # -- filters, sorting, paging --------------------------------------------------------------

    def current_filter(self) -> browse.HistoryFilter | None:
        """The filter the inputs describe, or None (with the reason shown) if one is invalid."""
        try:
            start = filter_date(self.query_one("#f-start", Input).value)
            end = filter_date(self.query_one("#f-end", Input).value)
        except ValueError:
            self.query_one("#history-status", Static).update(
                Text("dates must be YYYY-MM-DD", style="bold red")
            )
            return None
        side = self.query_one("#f-side", Select).value
        session = self.query_one("#f-session", Select).value
        return browse.HistoryFilter(
            symbol=self.query_one("#f-symbol", Input).value.strip(),
            side=side if isinstance(side, str) else "",
            start=start,
            end=end,
            session_id=session if isinstance(session, int) else None,
            event_type=self.query_one("#f-event", Input).value.strip(),
        )

    @on(Input.Changed)
    @on(Select.Changed)
    def _filter_changed(self) -> None:
        """Any filter edit goes back to the first page."""
        self.reload()

    @on(Tabs.TabActivated, "#views")
    def _tab(self, event: Tabs.TabActivated) -> None:
        """Switch view from the tab bar."""
        if event.tab.id and event.tab.id != self.view:
            self.action_view(event.tab.id)

    def action_view(self, view: str) -> None:
        """Show another table."""
        self.view = view
        self.sort, self.descending = ("Id", True)
        self.query_one("#views", Tabs).active = view
        self._columns()
        self.reload()

    @on(DataTable.HeaderSelected)
    def _sort(self, event: DataTable.HeaderSelected) -> None:
        """Sort by the clicked column; clicking it again reverses the order."""
        title = str(event.label)
        if self.view == "pnl":
            return
        if title == self.sort:
            self.descending = not self.descending
        else:
            self.sort, self.descending = title, False
        self.reload()

    def action_page(self, step: int) -> None:
        """Next or previous page."""
        new = self.page_offset + step * browse.PAGE_SIZE
        if self.view == "pnl" or new < 0 or new >= max(self.total, 1):
            return
        self.page_offset = new
        self.reload(keep_offset=True)

    def reload(self, keep_offset: bool = False) -> None:
        """Fetch the current page in the worker."""
        filt = self.current_filter()
        if filt is None:
            return
        if not keep_offset:
            self.page_offset = 0
        if self.view == "trades":  # (rebuilt from the account's fills: seconds on a big one)
            self.query_one("#history-status", Static).update(
                "Trades: loading the account's round trips from its fills…"
            )
        self.seq += 1
        self._fetch(self.seq, self.view, filt, self.sort, self.descending, self.page_offset)

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def _fetch(
        self, seq: int, view: str, filt: browse.HistoryFilter, sort: str, desc: bool, offset: int
    ) -> None:
        """Read one page on the worker's own connection, then hand it to the screen; a number
        a hand edit left unreadable is shown as "-", with its note."""
        notes: list[str] = []
        db = ensure_database(self.db_path)
        try:
            sessions = browse.sessions()  # each load: sessions start and end meanwhile
            if view == "pnl":
                chosen = None  # every session's days, or the chosen one's (gone: none)
                if filt.session_id is not None:
                    from tui_trader.store.models import SessionRow

                    row = SessionRow.get_or_none(SessionRow.id == filt.session_id)
                    chosen = [row] if row is not None else []
                made = self._days.realized(chosen, notes).by_day  # the account's round trips
                days = pnl_by_day(3650, chosen, made, notes=notes)
                rows = [
                    (d.day.isoformat(), d.trades, d.realized, d.end_equity, d.equity_change)
                    for d in reversed(days)
                ]
                rows = [tuple(UNREADABLE if v is None else v for v in row) for row in rows]
                total = len(rows)
            elif view == "trades":  # the account's round trips, as ``tui-trader history``
                rows, total = trip_page(
                    self._trips, filt, sort, desc, offset, browse.PAGE_SIZE, notes
                )
            else:
                rows, total = browse.fetch_page(view, filt, sort, desc, offset)
                rows = browse.shown_rows(view, rows, notes, UNREADABLE)
        finally:
            db.close()
        self.post_message(PageLoaded(Page(seq, view, rows, total, offset, sessions, notes)))

    @on(PageLoaded)
    def _page_loaded(self, message: PageLoaded) -> None:
        """Show a page unless a newer request has superseded it."""
        page = message.page
        if page.sessions and page.sessions != self._sessions_shown:
            # every load: a session started after the first visit was missing from the filter
            self._sessions_shown = page.sessions
            options = [
                (f"{short_key(key)} {mode} {started} {status}", sid)
                for sid, key, mode, started, status in page.sessions
            ]
            select = self.query_one("#f-session", Select)
            chosen = select.value
            with select.prevent(Select.Changed):  # the same filter: no reload of its own
                select.set_options(options)
                if any(sid == chosen for _, sid in options):
                    select.value = chosen
        if page.seq != self.seq or page.view != self.view:
            return
        self.rows = page.rows
        self.total = page.total
        table = self.query_one("#history-table", DataTable)
        table.clear()
        widths = self._widths()
        for row in page.rows:
            if page.view == "pnl":
                table.add_row(*pnl_cells(row, widths))
            else:
                table.add_row(*[table_cell(v, w) for v, w in zip(row, widths, strict=False)])
        self.loaded = page.seq
        self._status()
        self._warn(page.notes)

    def _warn(self, notes: list[str]) -> None:
        """Say once which row held an unreadable number (the command line's warning line)."""
        new = [note for note in notes if note not in self._warned]
        if new:
            self._warned.update(new)
            more = f" (and {len(new) - 1} more)" if len(new) > 1 else ""
            from tui_trader.core.shown import shown_line

            line = shown_line(new[0]) + more  # the hand edit's text, never markup nor escapes
            self.notify(line, title="Hand-edited number", severity="warning", markup=False)

    def _widths(self) -> list[int]:
        """Column widths of the current view."""
        if self.view == "pnl":
            return [w for _, w in PNL_COLUMNS]
        return [c.width for c in browse.VIEWS[self.view][1]]

    def _columns(self) -> None:
        """Rebuild the table's columns for the current view (fixed widths)."""
        table = self.query_one("#history-table", DataTable)
        table.clear(columns=True)
        if self.view == "pnl":
            for title, width in PNL_COLUMNS:
                table.add_column(title, width=width)
        else:
            for column in browse.VIEWS[self.view][1]:
                table.add_column(column.title, width=column.width)

    def _status(self) -> None:
        """Which rows are shown, how they are sorted, and the keys."""
        name = VIEW_TITLES[self.view]
        if self.view == "pnl":
            text = f"{name}: {self.total} day(s)"
        elif self.total == 0:
            text = f"{name}: no rows match"
        else:
            first, last = self.page_offset + 1, self.page_offset + len(self.rows)
            pages = (self.total + browse.PAGE_SIZE - 1) // browse.PAGE_SIZE
            page = self.page_offset // browse.PAGE_SIZE + 1
            order = "desc" if self.descending else "asc"
            text = (
                f"{name}: rows {first:,}–{last:,} of {self.total:,} · page {page}/{pages} · "
                f"sorted by {self.sort} {order}"
            )
        self.query_one("#history-status", Static).update(
            text + "   (ctrl+n/ctrl+b pages · click a header sorts · ctrl+e CSV)"
        )  # wraps below at 80 columns (the footer has no room there for ^e)

    # -- detail and export ---------------------------------------------------------------------

    def action_detail(self) -> None:
        """Open the selected order's detail (orders view only)."""
        table = self.query_one("#history-table", DataTable)
        if self.view != "orders" or not self.rows or table.cursor_row >= len(self.rows):
            return
        order_id = self.rows[table.cursor_row][0]
        if database.obj is None:
            ensure_database(self.db_path)
        detail = browse.order_detail(order_id)
        if detail is not None:
            self.app.push_screen(OrderDetailScreen(detail))

    @on(DataTable.RowSelected, "#history-table")
    def _row_selected(self) -> None:
        """Enter (or a click) on an order row opens its detail."""
        self.action_detail()

    def action_export(self) -> None:
        """Write the whole filtered view to ``exports/`` beside the database."""
        filt = self.current_filter()
        if filt is None or self.view == "pnl":
            self.notify("Export works on orders, trades and risk events.", severity="warning")
            return
        stamp = self.clock.now().strftime("%Y%m%d-%H%M%S")
        path = self.db_path.parent / "exports" / f"{self.view}-{stamp}.csv"
        self._export(self.view, filt, self.sort, self.descending, path)

    @work(thread=True, group="export", exit_on_error=False)
    def _export(
        self, view: str, filt: browse.HistoryFilter, sort: str, desc: bool, path: Path
    ) -> None:
        """Stream the rows to CSV in chunks, then say where they are and what was left empty."""
        db = ensure_database(self.db_path)
        empty: dict[str, int] = {}  # unreadable numbers by column (``browse.export_csv``)
        try:
            rows = None
            if view == "trades":  # the round trips on screen (``reporting.trip_pages``)
                rows = sorted_rows(TripCache(), filt, sort, desc, [])
            count = browse.export_csv(view, filt, path, sort, desc, empty, rows)
        finally:
            db.close()
        said, level = browse.export_said(count, path, empty), "warning" if empty else "information"
        with contextlib.suppress(RuntimeError):  # the app may have closed meanwhile
            self.app.call_from_thread(self.notify, said, severity=level, markup=False)
