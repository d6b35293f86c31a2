"""Bar files damaged inside are refused in one line (exit 2) by replay and ``learn evaluate``.

A gzip file whose first block is damaged made ``sniff`` raise ``zlib.error`` (no ``OSError``):
both commands crashed with exit 1 and a crash log.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.integration.test_bad_input import assert_one_line_exit_2, run_main

ROWS = "".join(f"2020-01-{d:02d}T14:30:00Z,SPY,10,11,9,10,100\n" for d in range(1, 29))


def _damaged_gzip(path: Path) -> Path:
    """A gzip CSV whose compressed data is overwritten with zeros after its first 40 bytes."""
    data = gzip.compress(("timestamp,symbol,open,high,low,close,volume\n" + ROWS).encode())
    path.write_bytes(data[:40] + b"\x00" * 50 + data[90:])
    return path


@pytest.mark.parametrize("command", ["learn", "replay"])
def test_a_gzip_file_damaged_at_its_start_is_refused_in_one_line(
    place: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    _damaged_gzip(place / "bars.csv.gz")
    argv = (
        ["learn", "evaluate", "--data", "bars.csv.gz"]
        if command == "learn"
        else ["paper", "--data", "replay:bars.csv.gz", "--period", "5d", "--iterations", "1"]
    )
    code, out, err, _ = run_main(argv, capsys)
    assert_one_line_exit_2(code, out, err, "bars.csv.gz: is a damaged gzip file", place)
