"""``python -m benchmarks.call_counts``: one replay's calls by code object, a generated
constructor named after its class and counted in full (``pstats`` merged them all into one row)."""

from __future__ import annotations

import re

import pytest

from benchmarks import call_counts


def test_generated_constructors_are_named_and_counted(capsys: pytest.CaptureFixture[str]) -> None:
    """Every order the replay sent was routed as a ``Move`` first: its constructor's row names
    the class and counts at least as many calls as there were orders (``pstats`` showed 1)."""
    assert call_counts.main(["--symbols", "3", "--bars", "420", "--top", "100000"]) == 0
    out = capsys.readouterr().out
    orders = int(re.search(r"(\d+) orders", out).group(1))
    assert orders > 1
    moves = re.search(r"^(\d+)\t[\d.]+\ttui_trader\.engine\.order_legs\.Move\.__new__$", out, re.M)
    assert moves is not None
    assert int(moves.group(1)) >= orders
