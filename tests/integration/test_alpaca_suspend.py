"""``--suspend-on-halt`` outlives the halt: a session refuses to start on a suspended account,
and ``risk reset`` offers to clear Alpaca's ``suspend_trade`` (against the sandbox)."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import sandbox_env
from tests.integration.cli_helpers import run_cli
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.db import open_database
from tui_trader.store.models import RiskStateRow


def _cli(tmp_path: Path, sb: SandboxHandle, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m tui_trader ARGS`` with the sandbox's credentials exported (no input)."""
    return run_cli(tmp_path, *args, stdin="", timeout=120, env=sandbox_env(sb))


def _suspend(trading: Any) -> str:
    """Set the account's suspend_trade as a halt with --suspend-on-halt does; its number."""
    config = trading.get_account_configurations()
    config.suspend_trade = True
    trading.set_account_configurations(account_configurations=config)
    return str(trading.get_account().account_number)


def test_a_session_does_not_start_on_a_suspended_account(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Exit 2, one line on stderr saying so; no session row, no order."""
    _suspend(trading)
    db = tmp_path / "live.db"
    out = _cli(
        tmp_path, sandbox, "live", "paper", "--iterations", "3", "--every", "0.1", "--db", str(db)
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert "trading is suspended" in out.stderr and "risk reset" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert sandbox.admin.state()["orders"]["total"] == 0


def test_risk_reset_clears_suspend_trade_and_says_so(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """A halted Alpaca account, suspended at the broker: ``risk reset --yes`` lifts the halt
    and clears suspend_trade, and prints both."""
    account = _suspend(trading)
    db = tmp_path / "live.db"
    open_database(db)
    RiskStateRow.create(
        account_key=f"alpaca:{account}",
        state="halted",
        halt_reason="manual_kill",
        halt_detail="test",
        updated_at=datetime.now(UTC).replace(tzinfo=None),
    )
    out = _cli(tmp_path, sandbox, "risk", "reset", "--yes", "--db", str(db), "--account",
               f"alpaca:{account}")  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "trading ACTIVE" in out.stdout
    assert "suspend_trade cleared" in out.stdout
    assert trading.get_account_configurations().suspend_trade is False
    again = _cli(tmp_path, sandbox, "risk", "reset", "--yes", "--db", str(db), "--account",
                 f"alpaca:{account}")  # fmt: skip
    assert "trading is not suspended" in again.stdout
