"""Two ``risk reset`` at once write a halt kept on disk to the account's history once.

A halt a desk decided while its store was lost waits in a file until a start or a reset writes
it to the store (``engine.kept_halts``). Two resets of the account run at once (two terminals,
a script and a person) each found the file before either removed it, and each wrote the halt's
row: the account's history showed one drawdown halt twice, as if it had tripped twice. Now the
reset that takes the account's row second finds the halt written already and says so.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.integration.cli_helpers import cli_env
from tests.integration.test_halt_kept_on_lost_store import ACCOUNT
from tests.integration.test_kept_halt_reset import kept_after_a_session
from tui_trader.risk.gate import DRAWDOWN
from tui_trader.store.db import open_database
from tui_trader.store.models import RiskEventRow, database
from tui_trader.store.pg_url import PgUrl
from tui_trader.store.statements import load_risk_state

MEET = """
import sys
import tui_trader.cli.risk_cmd as risk_cmd
from tui_trader.cli import main

found = risk_cmd.find_markers

def meet(*args, **kwargs):
    markers = found(*args, **kwargs)
    print(f"found {len(markers)}", file=sys.stderr, flush=True)
    sys.stdin.readline()  # until the other reset has found the file too
    return markers

risk_cmd.find_markers = meet
sys.exit(main(sys.argv[1:]))
"""
"""``risk reset`` as run from a shell, held right after it found the kept halt's file."""


def test_two_resets_at_once_write_a_kept_halt_once(store: Path | PgUrl, tmp_path: Path) -> None:
    """Both resets found the file before either wrote; both end well, the account active,
    the file gone, and the halt's row is in the history once (one reset says it ended the
    halt, the other that it was written already)."""
    path, where = kept_after_a_session(store)
    env = {**cli_env(tmp_path), "XDG_STATE_HOME": os.environ["XDG_STATE_HOME"]}  # (PG's files)
    argv = ["risk", "reset", "--db", where, "--account", ACCOUNT, "--yes"]
    resets = [
        subprocess.Popen(
            [sys.executable, "-c", MEET, *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    try:
        for reset in resets:
            assert reset.stderr is not None
            assert reset.stderr.readline().strip() == "found 1", "a reset did not find the file"
        outs = [reset.communicate("go\n", timeout=60) for reset in resets]
    finally:
        for reset in resets:
            if reset.poll() is None:
                reset.kill()
    assert [reset.returncode for reset in resets] == [0, 0], outs
    said = "".join(out for out, _err in outs)
    assert said.count(f"ended the halt ({DRAWDOWN}) kept on disk in {path}") == 1, said
    assert said.count("was written to the store by another reset meanwhile") == 1, said
    assert not path.exists()
    check = open_database(store)
    try:
        database.initialize(check)
        rows = RiskEventRow.select().where(RiskEventRow.event_type == DRAWDOWN)
        kept = [r for r in rows if "written by risk reset from" in r.action_taken]
        assert len(kept) == 1, [r.action_taken for r in kept]
        resets_said = RiskEventRow.select().where(RiskEventRow.event_type == "risk_reset")
        ended = [r for r in resets_said if f"also ended the halt ({DRAWDOWN})" in r.action_taken]
        assert len(ended) == 1, [r.action_taken for r in resets_said]
        assert not load_risk_state(ACCOUNT).halted
    finally:
        check.close()
