"""Following a session that runs in another process, through its audit database.

The monitor reads what the session writes (WAL lets it read while the session writes) and turns
new snapshots, orders, fills and risk events into the same ``IterationReport`` values the
in-process dashboard shows. Its kill switch writes a ``halt_requests`` row, which the session
checks every iteration; HALTED shows once the session has written it (its risk state), never on
the monitor's say-so. By default it follows the newest session that is alive (``store.liveness``)
and refuses a dead one; it ends, saying so, when the followed session ends or dies. A store
that stops answering (a PostgreSQL server restarted or down, a locked file) does not end it: it
says so in plain words (``unreachable``), tries again every ``RETRY_SECONDS`` (each try bounded
by the store's own deadlines) and follows again once the store answers. No Textual here: the
app's worker calls ``MonitorHandle.run``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from tui_trader.core.clock import Clock, WallClock
from tui_trader.core.domain import IterationReport, TradingState
from tui_trader.core.shown import shown_text
from tui_trader.engine.left_alone import held_not_ours, recorded_left_alone
from tui_trader.market.sources import is_recorded
from tui_trader.reporting.account_pnl import AccountPnl
from tui_trader.store.db import open_database
from tui_trader.store.halt_requests import write_halt_request
from tui_trader.store.liveness import (
    DIED,
    is_alive,
    last_sign_of_life,
    session_pid,
    shown_status,
)
from tui_trader.store.models import (
    AccountSnapshot,
    LiveFill,
    LiveOrder,
    RiskEventRow,
    RiskStateRow,
    SessionRow,
)
from tui_trader.store.peewee_names import InterfaceError, OperationalError
from tui_trader.store.peewee_names import PeeweeException as PeeweeError
from tui_trader.store.pg import store_lost
from tui_trader.store.queries import find_session
from tui_trader.store.stored_numbers import readable, stored_parameters
from tui_trader.tui.monitor_rows import (
    ReadSnapshot,
    read_event,
    read_fill,
    read_order,
    read_risk_state,
    read_snapshot,
)
from tui_trader.tui.state import SessionInfo

_HALTED = TradingState.HALTED
POLL_SECONDS = 0.25
"""How often the monitor looks for new rows."""
BATCH = 500
"""Most rows of one kind read per poll (a monitor that starts late catches up in steps)."""
UNREACHABLE = (OperationalError, InterfaceError)
"""The store's errors that mean "not answering now" (a server down or restarting, a connection
the server ended, a locked or unreadable file), not "not a store to follow"."""
T = TypeVar("T")


class MonitorError(ValueError):
    """The database has no session to follow."""


def _read_all(read: Callable[[Any, list[str]], T | None], rows: list, notes: list[str]) -> list[T]:
    """The rows that can be read (``monitor_rows``), the others noted in ``notes``."""
    return [r for r in (read(row, notes) for row in rows) if r is not None]


def _positive(value: float | None) -> float | None:
    """A stored amount that can be a cap: above zero (a hand edit's 0 or negative is none)."""
    return value if value is not None and value > 0 else None


def _dead_message(row: SessionRow) -> str:
    """Why the monitor does not follow the newest running session: its process is gone."""
    seen = last_sign_of_life(row)
    when = f"{seen:%Y-%m-%d %H:%M:%S} UTC" if seen else "never"
    return (
        f"session {row.key} died (pid {session_pid(row) or '?'} on {shown_text(row.host or '?')}, "
        "last heartbeat "
        f"{when}): not following a dead session; pass --session {row.key} to look at it anyway"
    )


class DbFollower:
    """Reads one session's new rows since the last poll."""

    def __init__(self, db_path: Path, session_key: str | None, clock: Clock | None = None) -> None:
        """Where to read, which session (None: the newest running), and the clock."""
        self.db_path = db_path
        self.session_key = session_key
        self.clock = clock or WallClock()
        self.session: SessionRow | None = None
        self.db: Any = None
        """The store, once ``open`` found it."""
        self._last = {"snap": 0, "order": 0, "fill": 0, "event": 0}
        self._snapshot: ReadSnapshot | None = None
        self._risk_state: object = None
        self._orders_today = 0
        """The day's order count last read (kept while a hand edit makes it unreadable)."""
        self._realized = 0.0
        """The session's realized PnL last read (kept likewise)."""
        self._realized_by_symbol: dict[str, float] = {}
        """The same per symbol: the positions' Real PnL column (it read +0.00 on every row)."""
        self._said: set[str] = set()
        """Notes of unreadable rows already shown (each is said once)."""
        self._pnl: AccountPnl | None = None
        self._pnl_notes: list[str] = []
        """The notes of unreadable fills the realized PnL left out (a hand edit)."""
        self._left: dict[str, float] = {}
        """Symbols the session left alone, with the shares not its own (``not_desks``)."""

    def open(self) -> SessionInfo:
        """Open the database and find the session: the one named, else the newest running."""
        self.db = open_database(self.db_path, create=False)
        try:
            return self._find()
        except PeeweeError as exc:  # no sessions table: not a session's database
            if store_lost(self.db, exc):  # the server went away: not "nothing to follow"
                raise
            raise MonitorError(f"nothing to follow in {self.db_path}: {exc}") from None

    def _find(self) -> SessionInfo:
        """Pick the session to follow and describe it."""
        query = SessionRow.select()
        if self.session_key:
            session = find_session(self.session_key)
        else:
            running = list(
                query.where(SessionRow.status == "running").order_by(SessionRow.id.desc())
            )
            session = next((s for s in running if is_alive(s)), None)
            if session is None and running:
                raise MonitorError(_dead_message(running[0]))
            session = session or query.order_by(SessionRow.id.desc()).first()
        if session is None:
            what = f"session {self.session_key}" if self.session_key else "no session yet"
            raise MonitorError(f"nothing to follow in {self.db_path}: {what}")
        self.session = session
        params = stored_parameters(session.parameters)

        def number(name: str, default: float) -> float:
            """A stored limit or amount, or its default where a hand edit left no number."""
            value = readable(params.get(name))
            return default if value is None else value

        return SessionInfo(
            key=session.key,
            mode="local" if session.mode == "local" else session.mode,
            connection=f"following {self.db_path.name} (another process)"
            + (" - the session DIED" if shown_status(session) == DIED else ""),
            symbols=tuple(s for s in session.symbols.split(",") if s),
            start_cash=number("start_cash", 100_000.0),
            max_drawdown_pct=number("max_drawdown_pct", 5.0),
            max_daily_loss_pct=number("max_daily_loss_pct", 2.0),
            max_orders_per_day=int(number("max_orders_per_day", 100)),
            daily_bars=str(params.get("interval", "1d")).endswith("d"),
            capital=_positive(readable(params.get("equity_cap"))),
            recorded=is_recorded(session.data_source),
        )

    def status(self) -> str:
        """The session row's status: ``running`` until the other process ends it, ``died``
        once its process is gone (``store.liveness``)."""
        assert self.session is not None
        row = SessionRow.get_by_id(self.session.id)
        return shown_status(row)

    def poll(self) -> list[IterationReport]:
        """New reports since the last poll: one per new snapshot, or one for a new event. A
        row holding a value nobody can read (a hand edit) is left out, and the last report
        carries one note naming it (``monitor_rows``)."""
        assert self.session is not None
        sid = self.session.id
        last = self._last
        notes: list[str] = []
        snaps = list(
            AccountSnapshot.select()
            .where((AccountSnapshot.session == sid) & (AccountSnapshot.id > last["snap"]))
            .order_by(AccountSnapshot.id)
            .limit(BATCH)
        )
        order_rows = list(
            LiveOrder.select()
            .where((LiveOrder.session == sid) & (LiveOrder.id > last["order"]))
            .order_by(LiveOrder.id)
            .limit(BATCH)
        )
        fill_rows = list(
            LiveFill.select()
            .where((LiveFill.session == sid) & (LiveFill.id > last["fill"]))
            .order_by(LiveFill.id)
            .limit(BATCH)
        )
        event_rows = list(
            RiskEventRow.select()
            .where((RiskEventRow.session == sid) & (RiskEventRow.id > last["event"]))
            .order_by(RiskEventRow.id)
            .limit(BATCH)
        )
        risk = RiskStateRow.get_or_none(RiskStateRow.account_key == self.session.account_key)
        risk_state = risk.state if risk else None
        changed = snaps or order_rows or fill_rows or event_rows or risk_state != self._risk_state
        if not changed:
            return []
        if snaps:
            last["snap"] = snaps[-1].id
        if order_rows:
            last["order"] = order_rows[-1].id
        if fill_rows:
            last["fill"] = fill_rows[-1].id
        if event_rows:
            last["event"] = event_rows[-1].id
        self._risk_state = risk_state
        orders = _read_all(read_order, order_rows, notes)
        fills = _read_all(read_fill, fill_rows, notes)
        events = _read_all(read_event, event_rows, notes)
        if events:
            self._left = recorded_left_alone(self._left, events)
        self._realized = self._realized_pnl(notes)
        state = None
        if risk:
            state, count = read_risk_state(risk.account_key, risk.state, risk.orders_today, notes)
            self._orders_today = self._orders_today if count is None else count
        halt = (  # stored by any writer of a shared store: shown escaped
            shown_text(f"{risk.halt_reason}: {risk.halt_detail}")
            if risk and state is _HALTED
            else ""
        )
        read = [r for r in (read_snapshot(snap, notes) for snap in snaps) if r is not None]
        if not read and self._snapshot is None:
            self._snapshot = self._newest_readable(notes)
        bases = read or ([self._snapshot] if self._snapshot else [])
        said = [n for n in notes if n not in self._said]
        self._said.update(said)
        if not bases:
            return []
        self._snapshot = bases[-1]
        reports = []
        for i, snap in enumerate(bases):
            final = i == len(bases) - 1
            reports.append(
                self._report(
                    snap,
                    state if final and state else snap.state,
                    (orders, fills, events, tuple(said)) if final else ((), (), (), ()),
                    halt if final else "",
                )
            )
        return reports

    def _realized_pnl(self, notes: list[str]) -> float:
        """The session's realized PnL so far, and per symbol (``_realized_by_symbol``): the
        round trips its fills closed in the account's ledger, as ``report`` counts them
        (``reporting.account_pnl``, kept between looks: only the fills recorded since are
        read). It summed the session's own ``live_trades``, which on an account another desk
        or a hand trades are not what ``report`` shows."""
        assert self.session is not None
        if self._pnl is None:
            self._pnl = AccountPnl([self.session.id], self._pnl_notes)
        realized = self._pnl.refresh()
        notes.extend(n for n in self._pnl_notes if n not in notes)
        self._realized_by_symbol = dict(realized.by_symbol)
        return realized.total

    def _newest_readable(self, notes: list[str]) -> ReadSnapshot | None:
        """The session's newest snapshot that can be read (a monitor started after the
        session wrote it), within the last ``BATCH``."""
        assert self.session is not None
        newest = (
            AccountSnapshot.select()
            .where(AccountSnapshot.session == self.session.id)
            .order_by(AccountSnapshot.id.desc())
            .limit(BATCH)
        )
        for snap in newest:
            read = read_snapshot(snap, notes)
            if read is not None:
                return read
        return None

    def _report(
        self, snap: ReadSnapshot, state: TradingState, news: tuple, halt: str = ""
    ) -> IterationReport:
        """One snapshot (plus this poll's news and notes on the last one) as a report."""
        orders, fills, events, notes = news
        positions = snap.positions
        return IterationReport(
            iteration=snap.iteration,
            market_time=snap.market_time,
            cash=snap.cash,
            equity=snap.equity,
            buying_power=snap.buying_power,
            fills=len(fills),
            orders_sent=len(orders),
            orders_refused=0,
            state=state,
            drawdown_pct=snap.drawdown_pct,
            daily_pnl=snap.daily_pnl,
            positions=positions,
            prices={p.symbol: p.last_price for p in positions},
            risk_events=tuple(events),
            notes=notes,
            orders=tuple(orders),
            new_fills=tuple(fills),
            orders_today=self._orders_today,
            realized_pnl=self._realized,
            realized_by_symbol=dict(self._realized_by_symbol),
            not_desks=held_not_ours(self._left, positions),
            halt=halt if state is _HALTED else "",
        )

    def drop_connection(self) -> None:
        """Close this thread's connection after the store stopped answering: the next read
        opens a new one (a restarted server's)."""
        try:
            self.db.close()
        except Exception:  # a broken connection may refuse to close; it is dropped anyway
            self.db._state.reset()

    def request_halt(
        self, flatten: bool, who: str = "monitor", asked: datetime | None = None
    ) -> None:
        """Write the kill request the session picks up at its next iteration (``asked``: when
        the user asked, default now). A connection the server ended (a restart since the last
        write) is replaced and the write tried once more: before, the kill switch failed on it
        every time until the monitor restarted."""
        when = asked or self.clock.now()
        try:
            self.write_halt(flatten, when, who)
        except UNREACHABLE:
            self.drop_connection()
            self.write_halt(flatten, when, who)

    def write_halt(self, flatten: bool, asked: datetime, who: str = "monitor") -> None:
        """The ``halt_requests`` row, in one try on this thread's connection (the kill
        switch's writer, ``monitor_halt``, tries again itself on a fresh one)."""
        assert self.session is not None
        write_halt_request(  # once: a try after a lost answer finds its row (``halt_requests``)
            self.session.id,
            asked,
            who,
            "flatten requested from the monitor" if flatten else "ctrl+k in the monitor",
            flatten,
        )
