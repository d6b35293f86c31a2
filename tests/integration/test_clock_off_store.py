"""A desk whose machine's clock is off from the shared PostgreSQL store's refuses to start.

Several machines on one account seldom agree to the second, and a machine minutes off (a laptop
woken behind, NTP off) stamps its order rows minutes off: a desk taking over its order in doubt
after it died gave the order up after two look-ups, its two-minute settle window long over by
those times, though the request could still reach the broker. Before, such a desk started and
traded without a word about its clock; now it says in one line how far off it is and does not
start (exit 2), sending nothing. A clock within the tolerance starts as before.

Real ``live paper`` children on the sandbox and a throwaway cluster. The child's clock is moved
by a ``sitecustomize`` on its ``PYTHONPATH`` that shifts ``time.time`` (the machine's wall
clock as Python reads it): the server's clock, like another machine's, stays true.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.alpaca_helpers import FAST_BUDGET, sandbox_env, sandbox_view
from tests.integration.cli_helpers import ROOT, run_cli
from tests.pg_cluster import PgCluster
from tui_trader.sandbox.testing import SandboxHandle

SHIFT = """
import time
_real = time.time
time.time = lambda: _real() + {seconds}
"""


def _desk(tmp_path: Path, sb: SandboxHandle, url: str, seconds: float):
    """One ``live paper`` cycle on the sandbox with this machine's clock ``seconds`` off."""
    shifted = tmp_path / "shifted"
    shifted.mkdir(exist_ok=True)
    (shifted / "sitecustomize.py").write_text(SHIFT.format(seconds=seconds))
    args = ["live", "paper", "--db", url, "--iterations", "1", "--every", "0.05"]
    args += ["--period", "1d", "--timeout", "3", *FAST_BUDGET]
    env = sandbox_env(sb) | {"PYTHONPATH": f"{shifted}:{ROOT}"}
    return run_cli(tmp_path, *args, env=env, timeout=120)


@pytest.mark.parametrize(("seconds", "way"), [(90.0, "ahead of"), (-600.0, "behind")])
def test_a_desk_whose_clock_is_off_from_the_store_says_so_and_does_not_start(
    pumped: SandboxHandle,
    pg_cluster: PgCluster,
    pg_url: str,
    tmp_path: Path,
    seconds: float,
    way: str,
) -> None:
    database = pg_url.rsplit("/", 1)[1]
    done = _desk(tmp_path, pumped, pg_url, seconds)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"s {way} the PostgreSQL store's" in lines[0]
    assert f"{abs(seconds):.0f} s" in lines[0]
    assert "did not start" in lines[0]
    assert "Traceback" not in done.stdout + done.stderr
    assert sandbox_view(pumped) == {}  # nothing sent
    assert pg_cluster.rows(database, "SELECT count(*) FROM sessions") == [(0,)]


def test_a_desk_whose_clock_is_within_the_tolerance_trades(
    pumped: SandboxHandle, pg_cluster: PgCluster, pg_url: str, tmp_path: Path
) -> None:
    database = pg_url.rsplit("/", 1)[1]
    done = _desk(tmp_path, pumped, pg_url, 2.0)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "clock" not in done.stderr
    assert pg_cluster.rows(database, "SELECT status FROM sessions") == [("completed",)]
