"""An Alpaca session's order rows reach the disk before the order reaches the broker.

A session on Alpaca (paper or live, here the sandbox through the real alpaca-py client) commits
each order row before it sends the order. With SQLite's ``synchronous=normal`` that commit
survives a killed process but not a power loss; the broker could then hold an order the audit
trail no longer has. The session's store connection must commit each order row durably:
``synchronous=full`` for that commit on SQLite (its other commits stay cheap), and
``synchronous_commit`` on for PostgreSQL (the tests' server turns it off, as an administrator
might). A local simulated session, whose account dies with the process, keeps the cheaper
setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session
from tui_trader.core.clock import WallClock
from tui_trader.learning.setup import LearningSettings
from tui_trader.risk.gate import DRAWDOWN
from tui_trader.risk.limits import RiskLimits
from tui_trader.session.local import LocalSettings, build_local_session
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.fleet_halts import halt_account
from tui_trader.store.models import LiveOrder, RiskEventRow
from tui_trader.store.pg import is_postgres
from tui_trader.store.pg_url import PgUrl

_SQLITE_LEVELS = {0: "off", 1: "normal", 2: "full", 3: "extra"}


def _commit_setting(db: Any) -> str:
    """How the connection this thread writes through commits: SQLite's ``synchronous`` level,
    PostgreSQL's ``synchronous_commit``."""
    if is_postgres(db):
        return str(db.execute_sql("SHOW synchronous_commit").fetchone()[0])
    return _SQLITE_LEVELS[db.execute_sql("PRAGMA synchronous").fetchone()[0]]


def _trace(session: Any) -> list[str]:
    """The statements the session's store connection runs from now on (SQLite), with a
    ``SEND <id>`` line where each order goes to the broker."""
    seen: list[str] = []
    session.audit.db.connection().set_trace_callback(seen.append)
    submit = session.broker.submit

    def traced(request: Any) -> Any:
        seen.append(f"SEND {request.client_order_id}")
        return submit(request)

    session.broker.submit = traced
    return seen


def test_an_alpaca_session_commits_its_order_rows_durably(
    sandbox: Any, store: Path | PgUrl
) -> None:
    """SQLite: each order row commits with ``synchronous=full`` right before its order goes
    out (which syncs every commit before it too); the session's other commits, and the
    connection between orders, stay ``normal``. PostgreSQL: ``synchronous_commit`` is on."""
    sandbox.admin.set_faults(rate_limit=0)
    momentum = LearningSettings("momentum")  # it buys in a rally: an order row is committed
    session = alpaca_session(
        sandbox, store, symbols=("SPY",), learning=momentum, requests_per_minute=60_000.0
    )
    postgres = is_postgres(session.audit.db)
    seen = [] if postgres else _trace(session)
    try:
        for _ in range(3):
            sandbox.admin.step(shock={"SPY": 0.8})
            session.run_iteration()
        assert LiveOrder.select().count() > 0, "the session placed no order: nothing committed"
        if postgres:
            assert _commit_setting(session.audit.db) == "on"
            return
        sends = [i for i, line in enumerate(seen) if line.startswith("SEND ")]
        assert sends, "no order was sent"
        for at in sends:
            insert = max(i for i in range(at) if 'INSERT INTO "live_orders"' in seen[i])
            assert seen[insert - 1] == "PRAGMA synchronous=full", seen[insert - 2 : at + 1]
            assert seen[insert + 1] == "PRAGMA synchronous=normal"
            assert seen[insert + 1 : at].count("PRAGMA synchronous=full") == 0
        assert seen.count("PRAGMA synchronous=full") == len(sends)  # only the order rows
        assert _commit_setting(session.audit.db) == "normal"
    finally:
        session.finish("stopped")
        session.broker.close()


def test_a_local_session_keeps_the_cheaper_commits(store: Path | PgUrl) -> None:
    """Its account dies with the process: nothing outside it can hold an order it lost."""
    session = build_local_session(LocalSettings(db=store, symbols=("SPY",)))  # type: ignore[arg-type]
    try:
        session.run_iteration()
        # the tests' PostgreSQL server has synchronous_commit off; a local session keeps it
        assert _commit_setting(session.audit.db) == (
            "off" if is_postgres(session.audit.db) else "normal"
        )
    finally:
        session.finish("stopped")


def _halt_write(seen: list[str]) -> int:
    """Where the statement that writes the account's row HALTED is in ``seen``."""
    return next(
        i
        for i, line in enumerate(seen)
        if line.startswith('UPDATE "risk_state" SET "state" = \'halted\'')
    )


def test_an_alpaca_sessions_halt_commits_durably(sandbox: Any, tmp_path: Path) -> None:
    """A halt (here ctrl+k) is written with ``synchronous=full``: after a power loss the next
    start still finds the account halted. Before, it committed ``normal`` and reached the disk
    only with the next order row or checkpoint."""
    session = alpaca_session(sandbox, tmp_path / "k.db")
    try:
        sandbox.admin.step()
        session.run_iteration()
        seen = _trace(session)
        session.request_kill("ops", reason="power cut drill")
        session.apply_kill_requests()
        at = _halt_write(seen)
        pragmas = [(i, line) for i, line in enumerate(seen) if line.startswith("PRAGMA synch")]
        before = [line for i, line in pragmas if i < at]
        after = [line for i, line in pragmas if i > at]
        assert before and before[-1] == "PRAGMA synchronous=full", seen[: at + 1]
        assert seen.index("COMMIT", at) < seen.index("PRAGMA synchronous=normal", at)
        assert after and after[0] == "PRAGMA synchronous=normal"
        assert _commit_setting(session.audit.db) == "normal"
    finally:
        session.finish("stopped")
        session.broker.close()


def test_a_local_sessions_halt_keeps_the_cheaper_commits(tmp_path: Path) -> None:
    """Its account dies with the process: its halt costs no fsync."""
    session = build_local_session(LocalSettings(db=tmp_path / "l.db", symbols=("SPY",)))
    try:
        session.run_iteration()
        seen = _trace(session)
        session.request_kill("user")
        session.run_iteration()
        assert session.risk.state.halted
        _halt_write(seen)  # the halt was written, and without a durable commit:
        assert "PRAGMA synchronous=full" not in seen
    finally:
        session.finish("stopped")


def test_an_alpaca_sessions_drawdown_halt_event_commits_durably(
    sandbox: Any, tmp_path: Path
) -> None:
    """The drawdown kill switch trips at the start of a cycle: the halted risk state is
    written before the cycle records the halt's event. Before, that event row committed
    ``normal`` after it: a power loss could keep the halt and lose the row saying why."""
    sandbox.admin.set_faults(rate_limit=0)
    session = alpaca_session(
        sandbox,
        tmp_path / "d.db",
        symbols=("SPY",),
        learning=LearningSettings("momentum"),  # it buys SPY in a rally
        limits=RiskLimits(max_drawdown_pct=0.5),
        requests_per_minute=60_000.0,
    )
    try:
        for _ in range(3):
            sandbox.admin.step(shock={"SPY": 0.8})
            session.run_iteration()
        assert LiveOrder.select().count() > 0, "the session bought nothing: no drawdown to come"
        seen = _trace(session)
        sandbox.admin.step(shock={"SPY": -8.0})
        session.run_iteration()
        assert session.risk.state.halt_reason == DRAWDOWN
        _halt_write(seen)  # the state was written durably (tested above); and the event:
        insert = next(
            i
            for i, line in enumerate(seen)
            if line.startswith('INSERT INTO "live_risk_events"') and DRAWDOWN in line
        )
        pragmas = [(i, line) for i, line in enumerate(seen) if line.startswith("PRAGMA synch")]
        before = [line for i, line in pragmas if i < insert]
        after = [line for i, line in pragmas if i > insert]
        assert before and before[-1] == "PRAGMA synchronous=full", seen[insert - 2 : insert + 2]
        assert seen.index("COMMIT", insert) < seen.index("PRAGMA synchronous=normal", insert)
        assert after and after[0] == "PRAGMA synchronous=normal"
    finally:
        session.finish("stopped")
        session.broker.close()


def test_a_fleet_halt_commits_durably_on_any_store(
    store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``fleet halt`` (and the desk's Fleet screen) may halt a live account from a store that a
    local desk opened without durability: the halt and its audit row commit with
    ``synchronous=full`` / ``synchronous_commit`` on all the same, so a power loss right after
    "HALTED" cannot let the account trade on; the connection's cheaper setting comes back after."""
    db = open_database(store)
    try:
        AuditLog(db, WallClock()).start_session("local", "paper", None, "t", ("SPY",), {})
        seen: list[str] = []
        create = RiskEventRow.create

        def noted(**fields: Any) -> Any:
            seen.append(_commit_setting(db))  # inside the halt's transaction
            return create(**fields)

        monkeypatch.setattr(RiskEventRow, "create", noted)
        outcome = halt_account(db, "alpaca:live:ACCT", "a test")
        assert outcome.halted_now
        assert seen == ["on" if is_postgres(db) else "full"]
        assert _commit_setting(db) == ("off" if is_postgres(db) else "normal")
    finally:
        db.close()
