"""A resume lifts only the halt it read, never a later halt written with the same words.

``risk reset`` (and the desk's resume) reads the account's halt, then lifts it. Before, the
lift compared the halt by its words: if, between the read and the write, the account was reset
and halted again elsewhere with word-for-word the same reason and detail (the same person's
``fleet halt`` twice, a kill switch pressed again), the resume lifted that new halt too and the
account traded. Now every halt written gets a new ``halt_id`` in the account's row, and a lift
is written only when the row still holds the very halt its reader saw. Here the interleaving is
forced: the reset's read, then another process's reset and identical halt, then the reset's
write. On both engines.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders
from tui_trader.cli import main, risk_cmd
from tui_trader.core.domain import TradingState
from tui_trader.engine.halts import RESUME_REFUSED
from tui_trader.learning.setup import LearningSettings
from tui_trader.risk.gate import MANUAL_KILL, RESET, RiskLimits, RiskManager
from tui_trader.risk.merge import merge_risk_state
from tui_trader.risk.state import RiskState
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.db import open_database
from tui_trader.store.fleet_halts import halt_account
from tui_trader.store.models import RiskEventRow, database
from tui_trader.store.pg_url import PgUrl
from tui_trader.store.risk_store import read_risk_state, sync_risk_state

ACCOUNT = "alpaca:PA1"


def _reset_elsewhere(db: object, account: str = ACCOUNT) -> None:
    """Another process lifts the halt (a ``risk reset`` of its own), as stored."""
    before = read_risk_state(db, account)
    assert before is not None and before.halted
    manager = RiskManager(RiskLimits(), before)
    manager.reset(before.last_equity, who="another terminal")
    sync_risk_state(db, before, manager.state)


def _state_and_events(db: Path | PgUrl) -> tuple[str, list[str]]:
    """The account's risk state and its risk events, oldest first."""
    open_database(db, create=False)
    try:
        state = database.execute_sql(
            "SELECT state FROM risk_state WHERE account_key = ?", (ACCOUNT,)
        ).fetchone()[0]
        events = database.execute_sql(
            "SELECT event_type FROM live_risk_events WHERE account_key = ? ORDER BY id",
            (ACCOUNT,),
        ).fetchall()
    finally:
        database.close()
    return state, [e[0] for e in events]


def test_risk_reset_does_not_lift_a_new_halt_with_the_same_words(
    store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fleet halts the account; ``risk reset`` reads it; meanwhile the halt is lifted
    elsewhere and the same fleet halt (same user, host, pid, words) written again; the reset
    then writes. Before: exit 0 and the account ACTIVE under a halt nobody lifted on purpose.
    Now: 'not reset ... halted again meanwhile', exit 1, the account HALTED, no risk_reset row
    of this command's."""
    db = open_database(store)
    try:
        assert halt_account(db, ACCOUNT, "a test", sessions=1).halted_now
    finally:
        db.close()
    interleaved: list[bool] = []

    def between_read_and_write(limits: RiskLimits, state: RiskState) -> RiskManager:
        """Runs after ``risk reset`` read the halt (``state``) and before it writes the lift."""
        if not interleaved:
            interleaved.append(True)
            _reset_elsewhere(database)
            again = halt_account(database, ACCOUNT, "a test", sessions=1)
            assert again.halted_now and again.reason == MANUAL_KILL
        return RiskManager(limits, state)

    monkeypatch.setattr(risk_cmd, "RiskManager", between_read_and_write)
    code = main(["risk", "reset", "--account", ACCOUNT, "--yes", "--db", str(store)])
    database.close()
    out = capsys.readouterr().out
    assert interleaved, "the interleaving did not run"
    assert code == 1, out
    assert "not reset: account alpaca:PA1 was halted again meanwhile (manual_kill" in out
    assert _state_and_events(store) == ("halted", ["manual_kill", "manual_kill"])
    monkeypatch.setattr(risk_cmd, "RiskManager", RiskManager)
    assert main(["risk", "reset", "--account", ACCOUNT, "--yes", "--db", str(store)]) == 0
    database.close()  # looked at again, the halt it read is lifted as usual
    assert _state_and_events(store) == ("active", ["manual_kill", "manual_kill", "risk_reset"])


def test_the_desks_resume_does_not_lift_a_new_halt_with_the_same_words(
    sandbox: SandboxHandle, trading: object, tmp_path: Path
) -> None:
    """An Alpaca desk halted by its own kill switch; the trader presses resume. The cycle
    reads the account's row, then, before the resume is written, the halt is lifted elsewhere
    and the same kill written again word for word. Before: the resume lifted that new halt and
    the cycle sent its orders. Now the new halt stands, the desk says the resume was not taken
    (``resume_refused``) and sends nothing."""
    session = alpaca_session(sandbox, tmp_path / "desk.db", learning=LearningSettings("momentum"))
    try:
        session.request_kill("desk")
        sandbox.admin.step(shock={"SPY": 0.8})
        assert session.run_iteration().state is TradingState.HALTED
        own = session.risk.state
        take = session._take_resume_request

        def halted_again_meanwhile() -> list:
            """After the cycle read the row, before the resume is written: another process
            lifts the halt and writes the very same kill again."""
            _reset_elsewhere(database.obj, own.account_key)
            read = read_risk_state(database.obj, own.account_key)
            again = replace(read, state=own.state, halt_reason=own.halt_reason)
            sync_risk_state(database.obj, read, replace(again, halt_detail=own.halt_detail))
            return take()

        session._take_resume_request = halted_again_meanwhile  # type: ignore[method-assign]
        session.request_resume("desk")
        sandbox.admin.step(shock={"SPY": 0.8})
        report = session.run_iteration()
        kinds = [e.event_type for e in report.risk_events]
        assert report.state is TradingState.HALTED, kinds  # before: ACTIVE, orders sent
        assert kinds[:2] == [RESET, RESUME_REFUSED], kinds
        refused = report.risk_events[1]
        assert "halted again by another process (manual_kill)" in refused.action_taken
        assert sandbox_orders(trading) == []
        rows = [r.event_type for r in RiskEventRow.select().order_by(RiskEventRow.id)]
        assert rows[-1] == RESUME_REFUSED, rows
        assert read_risk_state(database.obj, own.account_key).halt_detail == own.halt_detail
    finally:
        session.finish("stopped")
        session.broker.close()


def test_the_merge_lifts_the_halt_it_read_by_identity_not_words() -> None:
    """The pure rule: the row holds a halt with the words the session read but another
    identity: it stands; the very halt read is lifted; every halt written gets a new one."""
    read = RiskState(ACCOUNT, TradingState.HALTED, 100.0, None, None, None, 0, MANUAL_KILL, "k", 3)
    lifted = replace(read, state=TradingState.ACTIVE, halt_reason=None, halt_detail="")
    assert merge_risk_state(replace(read, halt_id=4), read, lifted).halted
    assert not merge_risk_state(read, read, lifted).halted
    active = replace(lifted, halt_id=4)
    assert merge_risk_state(active, active, replace(read, halt_id=4)).halt_id == 5


def test_an_older_store_without_the_new_columns_gets_them_and_its_halt_lifts(
    store: Path | PgUrl,
) -> None:
    """A store written before halt ids and snapshots' fill ids (both engines): opening adds
    the columns (0 for the halt it holds, none for the old snapshots) and ``risk reset`` lifts
    that halt as before."""
    db = open_database(store)
    try:
        assert halt_account(db, ACCOUNT, "a test").halted_now
        db.execute_sql('ALTER TABLE "risk_state" DROP COLUMN "halt_id"')
        db.execute_sql('ALTER TABLE "live_account_snapshots" DROP COLUMN "fills_through"')
    finally:
        db.close()
    assert main(["risk", "reset", "--account", ACCOUNT, "--yes", "--db", str(store)]) == 0
    database.close()
    db = open_database(store, create=False)
    try:
        row = db.execute_sql('SELECT "state", "halt_id" FROM "risk_state"').fetchone()
        db.execute_sql('SELECT "fills_through" FROM "live_account_snapshots"').fetchall()
    finally:
        db.close()
    assert tuple(row) == ("active", 0)
