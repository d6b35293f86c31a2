"""Smoke test of ``python -m benchmarks --quick``: the replay comparison runs and the engines
agree (backtrader too when the ``bench`` extra is installed). Not a benchmark: its figures are
not looked at."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.__main__ import main


def test_quick_replay_runs_and_engines_agree(tmp_path: Path) -> None:
    """At a tiny size every engine trades the same as the plain loop; the results file is JSON."""
    out = tmp_path / "results.json"
    assert main(["--quick", "--only", "replay", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    rows = results["replay"]
    assert {r["engine"].split(" ")[0] for r in rows} >= {"plain", "ours"}
    assert all(r["agrees"] == "yes" for r in rows)
