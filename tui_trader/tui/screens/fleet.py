"""The Fleet screen: every session on the audit store, live; halt one account or all of them.

The rows come from ``store.fleet`` (the same rows ``tui-trader fleet`` prints), read by a thread
worker once a second; the next read is scheduled only when the last one has been drawn, so
reads never pile up. Rows are updated cell by cell, keyed by session, so the table does not
flicker and the cursor stays on its session. ctrl+k (the app's kill switch) asks to halt the
selected row's ACCOUNT, which stops every session on it; ``h`` asks to halt every account with a
running session. The halts themselves are ``store.fleet_halts``: written to the shared risk
state, audited with who and where.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Static

from tui_trader.core.clock import Clock
from tui_trader.core.shown import shown_text
from tui_trader.reporting.fleet_text import cells, failed_halt_words, shortened
from tui_trader.security.redact import redact
from tui_trader.store.fleet import DIED, HALTED, FleetRow, accounts_to_halt, fleet_rows
from tui_trader.store.fleet_halts import HaltOutcome, halt_accounts, halted_now
from tui_trader.store.pg_url import PgUrl
from tui_trader.tui.dbaccess import ensure_database
from tui_trader.tui.screens.confirm import ConfirmScreen
from tui_trader.tui.screens.first_resume import StyledOnMount
from tui_trader.tui.widgets.desk_footer import DeskFooter
from tui_trader.tui.widgets.deskbar import DeskBar

REFRESH_SECONDS = 1.0
"""Seconds between the end of one read and the start of the next."""
COLUMNS = (
    ("Session", 8),
    ("State", 7),
    ("Beat", 5),
    ("Mode", 5),
    ("Account", 16),
    ("Equity", 12),
    ("Day PnL", 10),
    ("Symbols", 14),
    ("Host", 12),
    ("PID", 7),
    ("Note", 40),
)
"""Fixed widths (DataTable truncates auto-width columns after ``update_cell``); the columns a
person needs first come first, so 80 columns show state, heartbeat, account and money."""
_RIGHT = frozenset({"Equity", "Day PnL", "PID", "Beat"})
_WIDTHS = {"Account": 16, "Symbols": 14, "Host": 12}
"""Columns whose long values are cut in the middle rather than at the end."""


class FleetLoaded(Message):
    """A read of the fleet by the worker."""

    def __init__(self, rows: list[FleetRow] | None, error: str = "") -> None:
        """The rows, or ``None`` and why the read failed."""
        super().__init__()
        self.rows = rows
        self.error = error


class FleetHalted(Message):
    """Halts written by the worker (or why they could not be)."""

    def __init__(
        self, outcomes: list[HaltOutcome], error: str = "", halted: dict[str, bool] | None = None
    ) -> None:
        """What each account's halt did, or the error and, read back after it, whether each
        account is halted (``None``: unknown, the store did not answer)."""
        super().__init__()
        self.outcomes = outcomes
        self.error = error
        self.halted = halted


def _styled(column: str, text: str, row: FleetRow) -> Text:
    """One cell: states and money coloured, numbers right-aligned."""
    justify = "right" if column in _RIGHT else "left"
    if column in _WIDTHS:
        text = shortened(text, _WIDTHS[column])
    style = ""
    if column == "State":
        style = {DIED: "bold red", HALTED: "bold white on red", "running": "bold green"}.get(
            row.state, "dim"
        )
    elif column == "Day PnL" and row.day_pnl:
        style = "green" if row.day_pnl > 0 else "red"
    elif column == "Note" and row.state == DIED:
        style = "bold red"
    elif not row.alive:
        style = "dim"
    return Text(text, style=style, justify=justify)  # type: ignore[arg-type]


def _sessions_text(rows: list[FleetRow]) -> str:
    """``3 session(s)``, or ``2 running and 1 dead-looking session(s)``."""
    dead = sum(r.state == DIED for r in rows)
    if not dead:
        return f"{len(rows)} running session(s)"
    return f"{len(rows) - dead} running and {dead} dead-looking session(s)"


def _running(rows: list[FleetRow]) -> int:
    """How many of ``rows`` run: the count a halt's words give (a dead-looking session is
    halted with them, in doubt, but stops at no next cycle)."""
    return sum(r.alive for r in rows)


class FleetScreen(StyledOnMount, Screen[None]):
    """Every session on the store; ctrl+k halts the selected row's account, h halts all."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "h",
            "halt_all",
            "Halt all",
            id="fleet-halt-all",
            tooltip="Halt every account with a running session (asks first, names how many)",
        ),
    ]
    AUTO_FOCUS = "#fleet-table"

    def __init__(self, db_path: Path | PgUrl, clock: Clock) -> None:
        """The store to read (a SQLite file or a PostgreSQL URL) and the clock that ages
        heartbeats."""
        super().__init__(id="fleet")
        self.db_path = db_path
        self.clock = clock
        self.rows: list[FleetRow] = []
        self.loads = 0
        """Reads drawn so far (tests wait on it)."""
        self.halts = 0
        """Halt batches written so far (tests wait on it)."""
        self._order: list[str] = []
        self._next: Timer | None = None

    def compose(self) -> ComposeResult:
        """Desk bar, a summary line, the table, the footer."""
        yield DeskBar()
        yield Static("reading the sessions...", id="fleet-status")
        yield DataTable(id="fleet-table", cursor_type="row", zebra_stripes=True)
        yield DeskFooter()

    def on_mount(self) -> None:
        """Columns, then the first read."""
        table = self.query_one("#fleet-table", DataTable)
        for label, width in COLUMNS:
            table.add_column(label, width=width, key=label)
        self.load()

    # -- reading -------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="fleet-read", exit_on_error=False)
    def load(self) -> None:
        """Read the fleet (off the UI thread) and post it."""
        try:
            db = ensure_database(self.db_path)
            try:
                rows = fleet_rows(self.clock.now())
            finally:
                db.close()  # this thread's connection: every read runs on a new thread
        except Exception as exc:  # a locked or vanished database: say so, keep the last rows
            self.post_message(FleetLoaded(None, redact(str(exc))))
            return
        self.post_message(FleetLoaded(rows))

    @on(FleetLoaded)
    def _loaded(self, message: FleetLoaded) -> None:
        """Draw the rows, then schedule the next read."""
        if message.rows is None:
            self._status(Text(f"could not read the sessions: {message.error}", style="bold red"))
        else:
            self.rows = message.rows
            self._draw(message.rows)
            self._status(self._summary(message.rows))
            self.loads += 1
        if self._next is not None:  # a halt's extra read must not start a second chain
            self._next.stop()
        self._next = self.set_timer(REFRESH_SECONDS, self.load)

    def _status(self, text: Text) -> None:
        """The summary line."""
        self.query_one("#fleet-status", Static).update(text)

    def _summary(self, rows: list[FleetRow]) -> Text:
        """How many sessions in each state, and over how many accounts."""
        text = Text()
        alive = [r for r in rows if r.alive]
        accounts = len({r.account_key for r in alive})
        text.append(f"{len(alive)} running on {accounts} account(s)", style="bold")
        halted = sum(r.state == HALTED for r in rows)
        died = sum(r.state == DIED for r in rows)
        if halted:
            text.append(f"  {halted} HALTED", style="bold white on red")
        if died:
            text.append(f"  {died} DIED", style="bold red")
        ended = len(rows) - len(alive) - died
        if ended:
            text.append(f"  {ended} ended in the last day", style="dim")
        text.append(f"  ·  {self.clock.now():%H:%M:%S} UTC  ·  ctrl+k halts the row's account")
        return text

    def _draw(self, rows: list[FleetRow]) -> None:
        """Update the table in place: changed cells only; a rebuild only when rows come or go
        or change places (the cursor stays on its session)."""
        table = self.query_one("#fleet-table", DataTable)
        order = [r.key for r in rows]
        labels = [label for label, _width in COLUMNS]
        if order != self._order:
            selected = self.selected()
            table.clear()
            for row in rows:
                texts = cells(row)
                table.add_row(
                    *(_styled(c, t, row) for c, t in zip(labels, texts, strict=True)), key=row.key
                )
            self._order = order
            if selected is not None and selected.key in order:
                table.move_cursor(row=order.index(selected.key))
            return
        for row in rows:
            for column, text in zip(labels, cells(row), strict=True):
                cell = _styled(column, text, row)
                if table.get_cell(row.key, column) != cell:
                    table.update_cell(row.key, column, cell)

    def selected(self) -> FleetRow | None:
        """The row under the cursor, if any."""
        table = self.query_one("#fleet-table", DataTable)
        if not self._order or not 0 <= table.cursor_row < len(self._order):
            return None
        key = self._order[table.cursor_row]
        return next((r for r in self.rows if r.key == key), None)

    # -- halting -------------------------------------------------------------------------------

    def halt_selected(self) -> None:
        """ctrl+k on this screen: ask to halt the selected row's account (every session on it)."""
        row = self.selected()
        if row is None:
            self.notify("No session selected: nothing to halt here.", severity="warning")
            return
        on_account = accounts_to_halt(self.rows).get(row.account_key, [])
        names = ", ".join(f"{r.key} on {shown_text(r.host)}" for r in on_account[:4])
        account = shown_text(row.account_key)  # as any writer of a shared store put it
        more = f" and {len(on_account) - 4} more" if len(on_account) > 4 else ""
        running = (
            f"{_sessions_text(on_account)} on it stop at their next cycle, on every machine: "
            f"{names}{more}."
            if on_account
            else "No session runs on it now; the halt stays until 'tui-trader risk reset'."
        )
        self.app.push_screen(
            ConfirmScreen(
                f"Halt account {account}?",
                f"This halts the ACCOUNT, not only session {row.key}: every session trading "
                f"{account} stops.\n{running}\n\nOpen orders are cancelled and no new "
                "exposure is taken until 'tui-trader risk reset' lifts the halt.",
                yes="Halt the account",
                no="Keep trading",
            ),
            lambda yes: self._confirmed(yes, {row.account_key: _running(on_account)}),
        )

    def action_halt_all(self) -> None:
        """Ask to halt every account with a running (or dead-looking) session, naming how many."""
        by_account = accounts_to_halt(self.rows)
        if not by_account:
            self.notify("No session is running: nothing to halt.", severity="warning")
            return
        accounts = {k: _running(v) for k, v in by_account.items()}
        rows = [r for v in by_account.values() for r in v]
        self.app.push_screen(
            ConfirmScreen(
                f"Halt ALL {len(rows)} session(s) on {len(accounts)} account(s)?",
                f"Every account with a session is halted: {_sessions_text(rows)} on "
                f"{len(accounts)} account(s) ({', '.join(sorted(accounts))}) stop at their next "
                "cycle, on every machine.\n\nOpen orders are cancelled and no new exposure is "
                "taken until 'tui-trader risk reset' lifts each halt.",
                yes=f"Halt all {len(accounts)} account(s)",
                no="Keep trading",
            ),
            lambda yes: self._confirmed(yes, accounts),
        )

    def _confirmed(self, yes: bool | None, accounts: dict[str, int]) -> None:
        """Write the halts if the user said yes."""
        if yes:
            self.write_halts(accounts)

    @work(thread=True, group="fleet-halt", exit_on_error=False)
    def write_halts(self, accounts: dict[str, int]) -> None:
        """Halt the accounts (off the UI thread: a busy database may make it wait)."""
        try:
            db = ensure_database(self.db_path)
            try:
                outcomes = halt_accounts(db, accounts, "the desk's Fleet screen")
            finally:
                db.close()
        except Exception as exc:  # its answer may be lost after a commit: read the rows back
            self.post_message(FleetHalted([], redact(str(exc)), self._read_back(accounts)))
            return
        self.post_message(FleetHalted(outcomes))

    def _read_back(self, accounts: dict[str, int]) -> dict[str, bool] | None:
        """Whether each account is halted now, read on a fresh connection after a halt that
        failed (``None``: the store did not answer that either)."""
        try:
            db = ensure_database(self.db_path)
            try:
                return halted_now(db, accounts)
            finally:
                db.close()
        except Exception:
            return None

    @on(FleetHalted)
    def _halted(self, message: FleetHalted) -> None:
        """Say what was halted (or that it failed), then read again at once."""
        self.halts += 1
        if message.error:
            title, words = failed_halt_words(message.error, message.halted)
            self.notify(words, title=title, severity="error", timeout=60)
            self.load()
            return
        done = [o.account_key for o in message.outcomes if o.halted_now]
        already = [o.account_key for o in message.outcomes if not o.halted_now]
        if done:
            self.notify(
                f"HALTED {', '.join(done)}: its sessions stop at their next cycle. "
                "Lift with 'tui-trader risk reset'.",
                severity="error",
                timeout=15,
            )
        if already:
            self.notify(f"Already halted: {', '.join(already)}.", severity="warning")
        self.load()
