"""The paper-to-live gate: the paper record in the database, and whether it clears the bar.

The Phase 4 migration steps say "Verify 10+ iterations with positive PnL" before going live. The
record is kept per account: every Alpaca paper account, and every local session (each its own
account). The verdict looks at Alpaca paper accounts only (a simulated market proves less): one
of them must have at least ``min_iterations`` cycles, PnL above ``min_pnl`` (equity change over
its sessions, realized and open), and no unresolved broker error (its risk state still halted
for one). The other thresholds are off unless given.

Alpaca paper means a session whose stored endpoint is Alpaca's paper host, read as
``brokers.alpaca_config`` reads a URL (both parsers agreeing). A ``paper`` session elsewhere
(the project's sandbox on 127.0.0.1, whose prices anyone can push, or a proxy) is listed as
``other host`` and the verdict says it does not count: before, it counted as Alpaca paper,
and a rally pushed on the sandbox made a record "ready" for real money.

``decide`` is the gate in front of real money (``live trading``, the desk's "Alpaca live"):
not ready is refused unless the trader typed ``--skip-readiness``, written by ``record_skip``.

The record is read on a connection of its own (``store.own_connection``). On a PostgreSQL store
a server that cannot be reached (or refuses the password) is a ``StoreError`` saying so in one
line, and a server that goes away during the reads is ``RecordLost`` (before, both reached the
command line as the driver's ``OperationalError`` and a crash log).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.brokers.alpaca_config import PAPER_HOST, agreed_kind, url_hosts
from tui_trader.core.shown import shown_text
from tui_trader.store.db import StoreError
from tui_trader.store.own_connection import own_connection, own_errors, table_names
from tui_trader.store.pg_url import PgUrl
from tui_trader.store.stored_fields import binary_refusal

if TYPE_CHECKING:
    from tui_trader.core.domain import RiskEvent
    from tui_trader.engine.session import TradingSession

BROKER_ERRORS = ("broker_error", "session_error")
PAPER = "alpaca paper"
"""The kind of record that counts: ``paper`` sessions on Alpaca's paper host."""
ELSEWHERE = "other host"
"""``paper`` sessions whose stored endpoint is any other host (the sandbox, a proxy): listed,
never counted."""
LOCAL = "local"
READINESS_SKIPPED = "readiness_skipped"
"""The risk event written when live trading starts without a ready paper record."""
SKIP_HOW = "--skip-readiness"
"""How a trader goes live anyway (a command-line switch, never a settings-file key)."""
SKIP_ALONE = (
    f"{SKIP_HOW} skips the paper-to-live gate of Alpaca live: it needs --enable-live, "
    "without which live trading cannot be chosen"
)
"""The refusal of the desk's (and ``serve``'s) ``--skip-readiness`` without ``--enable-live``:
alone it would do nothing, and the trader who typed it would believe the gate skipped."""


class RecordLost(StoreError):
    """The PostgreSQL store went away while the paper record was read."""

    def __init__(self, url: PgUrl, cause: str) -> None:
        """``cause``: the server's or the driver's own words (``store.pg.lost_cause``)."""
        super().__init__(f"lost the audit store {url} ({cause})")
        self.url = url
        self.cause = cause


@dataclass(frozen=True, slots=True)
class ReadinessBar:
    """What a paper record must show (``live readiness`` options)."""

    min_iterations: int = 10
    min_pnl: float = 0.0
    min_days: int = 0
    max_drawdown_pct: float | None = None
    max_halts: int | None = None


@dataclass(frozen=True, slots=True)
class PaperRecord:
    """One account's paper record."""

    account: str
    kind: str
    """``alpaca paper``, ``other host`` or ``local``."""
    sessions: int
    iterations: int
    days_traded: int
    realized_pnl: float | None
    """The round trips its sessions closed, as ``report`` counts them (``with_realized``; None
    until read: it summed each desk's own ``live_trades``, not the account's round trips)."""
    pnl: float
    """Equity change over the sessions (last snapshot minus starting equity, summed)."""
    max_drawdown_pct: float
    halts: int
    broker_errors: int
    unresolved: str | None
    """The broker error the account is still halted for, if any."""
    places: tuple[str, ...] = ()
    """Where its sessions traded (scheme, host and port of the stored endpoints, as shown)."""
    session_ids: tuple[int, ...] = ()


def with_realized(records: list[PaperRecord]) -> list[PaperRecord]:
    """The records with their realized PnL: the account's round trips their sessions closed
    (``reporting.account_pnl``; the store open through ``store.db.open_database``)."""
    from dataclasses import replace

    from tui_trader.reporting.account_pnl import AccountPnl

    return [replace(r, realized_pnl=AccountPnl(r.session_ids).refresh().total) for r in records]


@dataclass(frozen=True, slots=True)
class Verdict:
    """Ready or not, and why not."""

    ready: bool
    reasons: list[str] = field(default_factory=list)
    account: str | None = None
    """The account that cleared the bar."""
    left_out: str = ""
    """The ``paper`` sessions on another host, which do not count (empty if none)."""

    def line(self) -> str:
        """``ready (account ...)`` or ``not ready: reason; reason``, then what was left out."""
        said = [self.left_out] if self.left_out else []
        if self.ready:
            return "; ".join([f"ready (paper record of {self.account})", *said])
        return "not ready: " + "; ".join([*self.reasons, *said])


BAR_OPTIONS: dict[str, tuple[str, type]] = {
    "min_iterations": ("min_iterations", int),
    "min_pnl": ("min_pnl", float),
    "min_days": ("min_days", int),
    "max_drawdown_seen": ("max_drawdown_pct", float),
    "max_halts": ("max_halts", int),
}
"""The bar's options (``--min-days``, settings-file ``min-days``, ...): the ``ReadinessBar``
field each fills and its type."""


def bar_from(options: Mapping[str, Any]) -> ReadinessBar:
    """The bar that options by name ask for (an absent or ``None`` one keeps its default):
    the parsed command line's, or the desk's settings-file values (as text)."""
    given = {
        name: kind(options[key])
        for key, (name, kind) in BAR_OPTIONS.items()
        if options.get(key) is not None
    }
    return ReadinessBar(**given)


@dataclass(frozen=True, slots=True)
class Decision:
    """The gate's answer: whether live trading may start, and the verdict it rests on."""

    verdict: Verdict
    go: bool
    skipped: str | None = None
    """The verdict's line when going on without a ready record (``--skip-readiness``): what
    ``record_skip`` writes."""

    def refusal(self) -> str:
        """Why live trading is refused, and how to go on anyway (empty when it may go)."""
        if self.go:
            return ""
        return (
            f"live trading refused: the paper record is {self.verdict.line()} (build it with "
            f"'live paper', or pass {SKIP_HOW})"
        )


def decide(result: Verdict, skip: bool) -> Decision:
    """Ready goes on; not ready goes on only with the skip, which is then to be recorded."""
    if result.ready:
        return Decision(result, True)
    if skip:
        return Decision(result, True, result.line())
    return Decision(result, False)


def record_skip(session: TradingSession, why: str | None) -> RiskEvent | None:
    """Write a skipped gate (``why``: the verdict's line) as a risk event of the live
    session's account, and return it (the desk shows it); nothing when the gate was passed."""
    if not why:
        return None
    from tui_trader.core.domain import RiskEvent

    event = RiskEvent(
        READINESS_SKIPPED, 0.0, 0.0, "live trading started without a ready paper record", detail=why
    )
    session.audit.risk_event(event, session.account_key, session.clock.now())
    return event


def paper_records(db: Path | PgUrl) -> list[PaperRecord]:
    """The paper record of every Alpaca paper account and local session in ``db`` (a SQLite
    file or a PostgreSQL store)."""
    if isinstance(db, Path) and not db.is_file():
        return []
    if not isinstance(db, PgUrl):
        return _records(db)
    from tui_trader.store.pg import lost_cause
    from tui_trader.store.pg_open import pg_problem

    try:
        conn = own_connection(db, read_only=True)
    except own_errors() as exc:
        raise StoreError(pg_problem(db, exc)) from None
    try:
        return _records(db, conn)
    except own_errors() as exc:
        if not conn.lost(exc):  # any other refusal is no lost store: said as it came
            raise
        raise RecordLost(db, lost_cause(exc)) from None


def _records(db: Path | PgUrl, conn: Any = None) -> list[PaperRecord]:
    """``paper_records`` on ``conn`` (closed here), or on a new connection to ``db``."""
    if conn is None:
        conn = own_connection(db, read_only=True)
    try:
        tables = table_names(conn)
        if "sessions" not in tables:
            return []
        rows = conn.execute(
            "SELECT id, account_key, mode, endpoint FROM sessions "
            "WHERE mode IN ('paper', 'local') ORDER BY id"
        ).fetchall()
        groups: dict[tuple[str, str], list[Any]] = {}
        for sid, account, mode, endpoint in rows:
            if isinstance(account, bytes):  # a BLOB another program wrote: no account to judge
                raise binary_refusal("sessions", "account_key", account)
            groups.setdefault((account, _kind(mode, endpoint)), []).append((sid, endpoint))
        return [_record(conn, account, kind, found) for (account, kind), found in groups.items()]
    finally:
        conn.close()


def _kind(mode: str, endpoint: object) -> str:
    """``local``; ``alpaca paper`` for a paper session whose stored endpoint is Alpaca's paper
    host (both URL parsers agreeing); ``other host`` for any other (none, text or not)."""
    if mode == "local":
        return LOCAL
    on_paper = isinstance(endpoint, str) and agreed_kind(endpoint) == "paper"
    return PAPER if on_paper else ELSEWHERE


def _place(endpoint: object) -> str:
    """A stored endpoint as the verdict names it: scheme, host and port (no user name or
    password an older version may have stored, no path), escaped and cut short; one the two
    URL parsers read as two hosts, by both."""
    from urllib.parse import urlsplit

    if endpoint is None:
        return "no endpoint stored"
    if not isinstance(endpoint, str):
        return "an endpoint stored as binary data"
    try:
        parts = urlsplit(endpoint.strip())
        checked, client = url_hosts(endpoint.strip())
    except ValueError:
        return "an unreadable endpoint"
    if checked != client:
        where = f"an address read as two hosts, {checked or 'none'} and {client or 'none'}"
    elif parts.netloc:
        where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    else:
        where = endpoint
    return shown_text(where if len(where) <= 80 else where[:77] + "...")


def _record(conn: Any, account: str, kind: str, found: list[tuple[int, object]]) -> PaperRecord:
    """Add up one account's sessions of one kind (``found``: their ids and endpoints)."""
    ids = [sid for sid, _ in found]
    marks = ",".join("?" * len(ids))
    sessions = conn.execute(
        f"SELECT id, iterations, parameters FROM sessions WHERE id IN ({marks}) ORDER BY id",
        tuple(ids),
    ).fetchall()
    pnl = 0.0
    for sid, _, parameters in sessions:
        last = conn.execute(
            "SELECT id, equity FROM live_account_snapshots WHERE session_id = ? "
            "ORDER BY id DESC LIMIT 1",
            (sid,),
        ).fetchone()
        start = _start_cash(parameters)
        if last is not None and start is not None:
            pnl += _number(last[1], "live_account_snapshots", last[0], "equity") - start

    def one(sql: str, *extra: object, table: str = "", column: str = "") -> float:
        value = conn.execute(sql.format(marks=marks), (*ids, *extra)).fetchone()[0]
        return _number(value, table, "(over the sessions)", column) if table else value or 0

    halted = conn.execute(
        "SELECT state, halt_reason FROM risk_state WHERE account_key = ?", (account,)
    ).fetchone()
    unresolved = (
        halted[1] if halted and halted[0] == "halted" and halted[1] in BROKER_ERRORS else None
    )
    events = "SELECT count(*) FROM live_risk_events WHERE session_id IN ({marks}) AND "
    return PaperRecord(
        account=account,
        kind=kind,
        sessions=len(sessions),
        iterations=sum(int(_number(s[1], "sessions", s[0], "iterations")) for s in sessions),
        days_traded=int(
            one(
                "SELECT count(DISTINCT date(coalesce(market_time, timestamp))) FROM live_fills "
                "WHERE session_id IN ({marks})"
            )
        ),
        realized_pnl=None,
        pnl=pnl,
        max_drawdown_pct=one(
            "SELECT max(drawdown_pct) FROM live_account_snapshots WHERE session_id IN ({marks})",
            table="live_account_snapshots",
            column="drawdown_pct",
        ),
        halts=int(one(events + "action_taken LIKE 'halted%'")),
        broker_errors=int(one(events + "event_type IN (?, ?)", *BROKER_ERRORS)),
        unresolved=unresolved,
        places=tuple(dict.fromkeys(_place(e) for _, e in found)),
        session_ids=tuple(ids),
    )


def _number(value: object, table: str, row: object, column: str) -> float:
    """A stored figure of the record (``None``: 0), or ``UnreadableNumber`` naming it: the gate
    to real money must not judge a hand-edited ``inf`` equity as a profit, nor crash on text."""
    from tui_trader.store.stored_numbers import required

    return required(value, table, row, column) or 0.0


def _start_cash(parameters: str) -> float | None:
    """The session's starting equity from its stored parameters."""
    try:
        value = json.loads(parameters or "{}").get("start_cash")
    except (ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, int | float) else None


def verdict(records: list[PaperRecord], bar: ReadinessBar) -> Verdict:
    """Ready when one Alpaca paper account clears every threshold; else every reason."""
    paper = [r for r in records if r.kind == PAPER]
    left_out = _left_out([r for r in records if r.kind == ELSEWHERE])
    if not paper:
        reason = "no Alpaca paper sessions in this database (run 'live paper')"
        return Verdict(False, [reason], left_out=left_out)
    best: list[str] | None = None
    for record in paper:
        reasons = _shortfalls(record, bar)
        if not reasons:
            return Verdict(True, [], record.account, left_out)
        if best is None or len(reasons) < len(best):
            best = [f"{record.account}: {r}" for r in reasons]
    return Verdict(False, best or [], left_out=left_out)


def _left_out(elsewhere: list[PaperRecord]) -> str:
    """``12 sessions on another host (http://127.0.0.1:8000) do not count: ...``, or empty
    when every paper session was on Alpaca's paper host."""
    count = sum(r.sessions for r in elsewhere)
    if not count:
        return ""
    places = list(dict.fromkeys(p for r in elsewhere for p in r.places))
    shown = ", ".join(places[:3]) + (f" and {len(places) - 3} more" if len(places) > 3 else "")
    sessions, do = ("1 session", "does") if count == 1 else (f"{count} sessions", "do")
    return (
        f"{sessions} on another host ({shown}) {do} not count: only Alpaca's paper host "
        f"{PAPER_HOST} does"
    )


def _shortfalls(r: PaperRecord, bar: ReadinessBar) -> list[str]:
    """Where one account falls short of the bar."""
    out = []
    if r.iterations < bar.min_iterations:
        out.append(f"{r.iterations} iterations, at least {bar.min_iterations} needed")
    if not r.pnl > bar.min_pnl:
        out.append(f"PnL {r.pnl:+,.2f} is not above {bar.min_pnl:+,.2f}")
    if r.days_traded < bar.min_days:
        out.append(f"{r.days_traded} days traded, at least {bar.min_days} needed")
    if bar.max_drawdown_pct is not None and r.max_drawdown_pct > bar.max_drawdown_pct:
        out.append(f"max drawdown {r.max_drawdown_pct:.2f}% above {bar.max_drawdown_pct:.2f}%")
    if bar.max_halts is not None and r.halts > bar.max_halts:
        out.append(f"{r.halts} halts, at most {bar.max_halts} allowed")
    if r.unresolved:
        out.append(f"unresolved {r.unresolved} (still halted; look, then 'risk reset')")
    return out
