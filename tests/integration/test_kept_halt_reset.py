"""A reset ends a halt kept on disk too, or says why it cannot.

A halt a desk decided while its store was lost waits in a marker file until the account's next
start writes it to the store (``store.halt_markers``, ``engine.kept_halts``). ``risk reset``
before that start said "trading ACTIVE", left the file, and the next start halted again on it,
the trader told all was well. Now the reset writes the kept halt to the store with its own
row and lifts both, saying so, and the file is gone. A desk's ctrl+r cannot write it ahead of
its cycle's commit: it refuses, naming the file and the command that ends it.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

from tests.conftest import file_rows
from tests.integration.cli_helpers import run_cli
from tests.integration.test_halt_kept_on_lost_store import ACCOUNT, NOW, _crash_session
from tests.pg_cluster import TRADER_PASSWORD
from tui_trader.engine.halts import RESUME_REFUSED
from tui_trader.risk.gate import DRAWDOWN, MANUAL_KILL
from tui_trader.store.halt_markers import KeptHalt, keep_halt, store_name
from tui_trader.store.models import RiskEventRow, database
from tui_trader.store.pg_url import PgUrl, parse_db_url
from tui_trader.store.server_identity import server_identity
from tui_trader.store.statements import load_risk_state

WORDS = "equity 95,000.00 is 5.00% below peak 100,000.00"


def _keep(db: object) -> Path:
    """A drawdown halt kept for ``ACCOUNT`` on the store ``db``, as a desk that lost it keeps
    it (the database as its server named it at the desk's start)."""
    halt = KeptHalt(
        ACCOUNT,
        store_name(db) or "",
        DRAWDOWN,
        WORDS,
        NOW,
        "a1b2c3d4_e5f6a7",
        server_identity(db, ask=False) or "",
    )
    return keep_halt(db, halt)


def kept_after_a_session(store: Path | PgUrl) -> tuple[Path, str]:
    """A session on ``store`` writes the account's risk state and ends; then a drawdown halt is
    kept on disk for the account as a desk that lost the store keeps it. The marker's path,
    and the store as ``--db`` names it."""
    first = _crash_session(store)
    db = first.audit.db
    first.run_iteration()  # (the account's risk state written)
    first.finish("completed")
    path = _keep(db)
    db.close()
    return path, str(store) if isinstance(store, Path) else store.dsn


def test_risk_reset_ends_a_kept_halt_and_the_next_start_trades(
    store: Path | PgUrl, tmp_path: Path
) -> None:
    path, where = kept_after_a_session(store)
    env = {"XDG_STATE_HOME": os.environ["XDG_STATE_HOME"]}
    reset = run_cli(
        tmp_path, "risk", "reset", "--db", where, "--account", ACCOUNT, "--yes", env=env
    )
    assert reset.returncode == 0, reset.stderr
    assert f"ended the halt ({DRAWDOWN}) kept on disk in {path}" in reset.stdout, reset.stdout
    assert "next start on this store writes it" not in reset.stdout, reset.stdout
    assert not path.exists(), "the reset left the kept halt for the next start"
    following = _crash_session(store)
    try:
        database.initialize(following.audit.db)
        assert not load_risk_state(ACCOUNT).halted, "the next start halted again after the reset"
        assert not [e for e in following.startup_events if e.event_type == DRAWDOWN]
        rows = list(RiskEventRow.select().order_by(RiskEventRow.id))
        written = [r for r in rows if r.event_type == DRAWDOWN]
        assert written and "written by risk reset from" in written[-1].action_taken, rows
        assert "below peak" in written[-1].detail, written[-1].detail
        assert rows[-1].event_type == "risk_reset", [r.event_type for r in rows]
        assert f"also ended the halt ({DRAWDOWN}) kept in {path}" in rows[-1].action_taken
    finally:
        following.audit.db.close()


def test_the_desk_resume_refuses_while_a_halt_is_kept_on_disk(tmp_path: Path) -> None:
    """A desk halted by its kill switch while another desk of the account kept a halt on disk
    for the store: ctrl+r refuses in one line naming the file and ``risk reset``; the desk stays
    halted (lifted, the halt would have come back at the next start)."""
    db = tmp_path / "desk.db"
    session = _crash_session(db)
    try:
        session.request_kill("user")
        session.run_iteration()
        assert session.risk.state.halt_reason == MANUAL_KILL
        path = _keep(session.audit.db)
        refusal = session.resume_refusal()
        assert refusal is not None and str(path) in refusal, refusal
        assert f"tui-trader risk reset --account {ACCOUNT}" in refusal, refusal
        session.request_resume("user")
        report = session.run_iteration()
        assert session.risk.state.halted, "the desk resumed over a halt kept on disk"
        assert report is not None and report.orders_sent == 0
        said = file_rows(
            db, f"SELECT action_taken FROM live_risk_events WHERE event_type = '{RESUME_REFUSED}'"
        )
        assert said and str(path) in said[-1][0], said
        assert path.exists()
    finally:
        session.audit.db.close()


def test_the_command_the_desks_refusal_names_ends_the_kept_halt(
    store: Path | PgUrl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desk on a store other than the default (``--db``), ctrl+r refused over a halt kept
    on disk: the command the refusal names, run as written, ends that halt on that store.
    Before, it named no store: run, it went to the default one (``no risk state``, exit 2, or
    the same Alpaca account's halt on another store lifted) and the kept halt stayed."""
    monkeypatch.delenv("TUI_TRADER_DB", raising=False)
    if isinstance(store, PgUrl):  # its password in the URL: never in the words
        store = parse_db_url(store.dsn.replace("trader@", f"trader:{TRADER_PASSWORD}@", 1))
    session = _crash_session(store)
    try:
        session.request_kill("user")
        session.run_iteration()
        path = _keep(session.audit.db)
        refusal = session.resume_refusal()
        assert refusal is not None and "tui-trader risk reset" in refusal, refusal
        named = refusal[refusal.index("tui-trader risk reset") :]
        command = shlex.split(named.split(" (which", 1)[0].split("', which", 1)[0])
        assert command[:3] == ["tui-trader", "risk", "reset"], command
        assert TRADER_PASSWORD not in refusal, "the refusal shows the password"
    finally:
        session.audit.db.close()
    env = {"XDG_STATE_HOME": os.environ["XDG_STATE_HOME"]}
    reset = run_cli(tmp_path, *command[1:], "--yes", env=env)
    assert reset.returncode == 0, reset.stderr
    assert f"ended the halt ({DRAWDOWN}) kept on disk in {path}" in reset.stdout, reset.stdout
    assert not path.exists(), "the named command left the kept halt"
