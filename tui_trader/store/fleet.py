"""The fleet: every session that runs, or ended lately, on one audit store, one row each.

A desk, ``live monitor --all`` and ``tui-trader fleet`` read the same rows: where the session
runs (host, process id), what it trades (mode, account, symbols), how it stands (its last
snapshot's equity and day PnL) and its state. The state is ``running``, ``halted`` (running,
but its account's shared risk state is halted, so it sends no new orders), ``stopped`` or
``failed`` (it ended), or ``died`` (its row still says running but its heartbeat is stale or its
process is gone from this host: ``store.liveness`` judges that, as the reports do; or a later
start recorded a dead local session so, ``store.dead_local``). Everything goes through the
models, so it reads SQLite and PostgreSQL stores alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import fn

from tui_trader.store.liveness import (
    gone_why,
    heartbeat_age,
    is_alive,
    last_sign_of_life,
    session_pid,
    store_now,
)
from tui_trader.store.models import AccountSnapshot, RiskEventRow, RiskStateRow, SessionRow
from tui_trader.store.stored_numbers import shown

RECENT = timedelta(hours=24)
"""How long an ended (or dead) session stays listed after its last sign of life."""
MOST = 200
"""The most sessions one listing reads besides those still running (the newest first)."""
RUNNING, HALTED, STOPPED, FAILED, DIED = "running", "halted", "stopped", "failed", "died"
_FAILED_ENDS = frozenset({"failed", "disk_full", "audit_failed"})
_RANK = {RUNNING: 0, HALTED: 0, DIED: 1}
"""Listing order: what runs, then what died (it needs a look), then what ended."""


@dataclass(frozen=True, slots=True)
class FleetRow:
    """One session as the fleet view shows it."""

    session_id: int
    key: str
    host: str
    pid: int | None
    mode: str
    account_key: str
    symbols: tuple[str, ...]
    equity: float | None
    day_pnl: float | None
    state: str
    heartbeat_age: float | None
    """Seconds since the last heartbeat (``None``: the session never wrote one)."""
    dead_why: str = ""
    """For a dead session, why: its process is gone, or its heartbeat is stale."""
    halt_reason: str | None = None
    """The account's halt, when its risk state is halted."""

    @property
    def alive(self) -> bool:
        """True for a session that still runs (halted or not)."""
        return self.state in (RUNNING, HALTED)


def _state(row: SessionRow, alive: bool, halted: bool) -> str:
    """The state shown for a session row."""
    if row.status == "running":
        if not alive:
            return DIED
        return HALTED if halted else RUNNING
    if row.status == DIED:  # recorded so by a later start (``store.dead_local``)
        return DIED
    return FAILED if row.status in _FAILED_ENDS else STOPPED


def _dead_why(row: SessionRow, age: float | None) -> str:
    """Why a running row counts as dead, in plain words."""
    gone = gone_why(row)
    if gone:
        return gone
    if age is None:
        return "no heartbeat"
    return f"heartbeat stale ({age:,.0f} s old)"


def _last_snapshots(ids: list[int]) -> dict[int, AccountSnapshot]:
    """The newest snapshot of each session, in two queries whatever the number of sessions."""
    if not ids:
        return {}
    newest = (
        AccountSnapshot.select(fn.MAX(AccountSnapshot.id))
        .where(AccountSnapshot.session.in_(ids))
        .group_by(AccountSnapshot.session)
    )
    rows = AccountSnapshot.select().where(AccountSnapshot.id.in_(newest))
    return {row.session_id: row for row in rows}


def _shown(snap: AccountSnapshot | None, column: str) -> float | None:
    """A snapshot's figure, None when there is none or it is unreadable (hand-edited)."""
    if snap is None:
        return None
    return shown(getattr(snap, column), "live_account_snapshots", snap.id, column)


def fleet_rows(
    now: datetime | None = None, recent: timedelta = RECENT, include_ended: bool = True
) -> list[FleetRow]:
    """Every session still running, plus (``include_ended``) those that ended or died within
    ``recent`` of ``now``: running, then dead, then ended; the newest first in each."""
    now = now or store_now(SessionRow._meta.database)
    newest = list(SessionRow.select().order_by(SessionRow.id.desc()).limit(MOST))
    # a session that still says running is listed however many have started since
    oldest = newest[-1].id if newest else 0
    older_running = SessionRow.select().where(
        (SessionRow.status == "running") & (SessionRow.id < oldest)
    )
    sessions = newest + list(older_running.order_by(SessionRow.id.desc()))
    shown: list[tuple[SessionRow, bool, datetime | None]] = []
    for row in sessions:
        alive = is_alive(row, now)
        seen = last_sign_of_life(row)
        if not alive and (not include_ended or seen is None or now - seen > recent):
            continue
        shown.append((row, alive, seen))
    snaps = _last_snapshots([row.id for row, _alive, _seen in shown])
    accounts = {row.account_key for row, _alive, _seen in shown}
    risk = {
        r.account_key: r
        for r in RiskStateRow.select().where(RiskStateRow.account_key.in_(list(accounts)))
    }
    out = []
    for row, alive, _seen in shown:
        account = risk.get(row.account_key)
        halted = account is not None and account.state == HALTED
        age = heartbeat_age(row, now)
        state = _state(row, alive, halted)
        snap = snaps.get(row.id)
        out.append(
            FleetRow(
                session_id=row.id,
                key=row.key,
                host=row.host or "?",
                pid=session_pid(row),
                mode=row.mode,
                account_key=row.account_key,
                symbols=tuple(s for s in (row.symbols or "").split(",") if s),
                equity=_shown(snap, "equity"),
                day_pnl=_shown(snap, "daily_pnl"),
                state=state,
                heartbeat_age=max(age, 0.0) if age is not None else None,
                dead_why=_dead_why(row, age) if state == DIED else "",
                halt_reason=account.halt_reason if halted and account else None,
            )
        )
    out.sort(key=lambda r: (_RANK.get(r.state, 2), -r.session_id))
    return out


def accounts_to_halt(rows: list[FleetRow]) -> dict[str, list[FleetRow]]:
    """The sessions a halt of all would stop, by account: those running, and those that look
    dead (a session whose heartbeat is stale may still be sending orders: in doubt, halt)."""
    accounts: dict[str, list[FleetRow]] = {}
    for row in rows:
        if row.alive or row.state == DIED:
            accounts.setdefault(row.account_key, []).append(row)
    return accounts


def known_accounts() -> set[str]:
    """Every account the store has seen: one a session traded, one with a risk state (a halt
    or a reset), or one named by a risk event. ``fleet halt --account`` refuses any other, so
    a typed key that matches nothing cannot halt a stranger while the real account trades on."""
    known: set[str] = set()
    for column in (SessionRow.account_key, RiskStateRow.account_key, RiskEventRow.account_key):
        known.update(key for (key,) in column.model.select(column).distinct().tuples())
    return known
