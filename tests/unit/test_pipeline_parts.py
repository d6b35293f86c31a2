"""Smoke test of ``benchmarks/pipeline_parts.py``: at a tiny size it times every part of the
full pipeline (each strategy, the regime detector, shadow records, weight step, observe,
allocate) and gives a figure for each. Not a benchmark: the figures are not compared."""

from __future__ import annotations

import pytest

from benchmarks.pipeline_parts import main


def test_every_part_gets_a_figure(capsys: pytest.CaptureFixture[str]) -> None:
    """Each strategy of the family and each learning part is timed and printed."""
    per = main(symbols=2, bars=260)
    printed = capsys.readouterr().out
    names = ("trend", "momentum", "meanrev", "volatility", "longtrend")
    for part in [f"strategy {n}" for n in names] + ["weight step (step_factors)", "allocate"]:
        assert per[part] > 0
        assert part in printed
