"""A replay file whose bars pass every rule but move as real prices rarely do: said, not refused.

A split not adjusted (the close 100 times the last one) and a gap of ten years between two
bars were replayed without a word; the strategies traded the split as a rally. Both may be
true, so the file still plays, with one line each naming the first place.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tui_trader.market.bar_file import read_bar_file

START = datetime(2024, 1, 2, tzinfo=UTC)


def _file(folder: Path, suffix: str, change: Any) -> Path:
    """80 sound daily SPY bars, ``change`` applied to the rows from the 51st on."""
    rows = [
        {
            "timestamp": START + timedelta(days=i),
            "symbol": "SPY",
            "open": 100.0 + i / 10,
            "high": 101.0 + i / 10,
            "low": 99.0 + i / 10,
            "close": 100.5 + i / 10,
            "volume": 1000.0,
        }
        for i in range(80)
    ]
    for row in rows[50:]:
        change(row)
    path = folder / f"bars.{suffix}"
    frame = pl.DataFrame(rows)
    frame.write_csv(path) if suffix == "csv" else frame.write_parquet(path)
    return path


def _split(row: dict[str, Any]) -> None:
    """Prices 100 times as high: a 1-for-100 split not adjusted."""
    for name in ("open", "high", "low", "close"):
        row[name] *= 100


def _gap(row: dict[str, Any]) -> None:
    """Ten years later."""
    row["timestamp"] += timedelta(days=3650)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_split_not_adjusted_and_a_gap_of_years_are_said(tmp_path: Path, suffix: str):
    """Each plays, with its line naming the first bar; a sound file says nothing of it."""
    notes: list[str] = []
    frame = read_bar_file(_file(tmp_path, suffix, _split), notes)
    assert frame.height == 80
    assert any("close is 10 times the last one" in n and "2024-02-21" in n for n in notes), notes
    notes = []
    read_bar_file(_file(tmp_path, suffix, _gap), notes)
    assert any("gap(s) of more than a year" in n and "3,651 days" in n for n in notes), notes
    notes = []
    read_bar_file(_file(tmp_path, suffix, lambda row: None), notes)
    assert notes == []
