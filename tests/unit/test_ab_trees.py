"""``python -m benchmarks.ab_trees``: two trees' replays interleaved, their figures side by side,
and a refusal to compare trees that trade differently or a tree that is not one."""

from __future__ import annotations

import pytest

from benchmarks import ab_trees
from benchmarks.harness import ROOT


def test_two_trees_run_interleaved_and_agree(capsys: pytest.CaptureFixture[str]) -> None:
    """The same tree twice at a tiny size: each run printed in turn, the medians of run,
    process and CPU per tree, and exit 0 because both made the same trades."""
    tree = str(ROOT)
    code = ab_trees.main([tree, tree, "--runs", "1", "--symbols", "2", "--bars", "420"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"1 {tree}: run " in out
    assert f"1 {tree} (2): run " in out
    assert "2 × 420, 1 runs each" in out
    assert out.count("cpu ") >= 4
    assert "trade differently" not in out


def test_a_name_that_is_no_tree_nor_revision_is_refused(tmp_path) -> None:
    """A directory without the package that is no git revision either: one line, no traceback."""
    with pytest.raises(SystemExit, match="neither a source tree nor a git revision"):
        ab_trees.tree_of(str(tmp_path / "nowhere"), tmp_path)
