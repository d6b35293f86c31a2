"""``data export`` stopped by the system halfway through its file (a full disk, a quota, a
file-size limit): it says why in words and leaves no cut-off file behind.

polars raises the system's error without ``strerror``, so the refusal read ``cannot write
bars.csv: None``, and the half-written CSV stayed where ``--data replay:bars.csv`` would later
read it as if whole. A file-size limit (``RLIMIT_FSIZE``, as ``ulimit -f``; Python ignores
SIGXFSZ) stands in for the full disk: both are the same failed write to the exporter.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from tests.integration.cli_helpers import cli_env

LIMIT = 40_000
"""Bytes any file of the child may grow to: the cache file fits (its columns compress), the
CSV of it does not."""


def _limited() -> None:
    """In the child, before it runs: files may not grow past ``LIMIT``."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def _cache(tmp_path: Path) -> None:
    """A cached SPY daily file whose CSV is larger than ``LIMIT``."""
    folder = tmp_path / "cache" / "bars" / "1d"
    folder.mkdir(parents=True)
    days = 3000
    first = datetime(2010, 1, 1, tzinfo=UTC)
    pl.DataFrame(
        {
            "timestamp": [first + timedelta(days=d) for d in range(days)],
            "symbol": ["SPY"] * days,
            **{c: [100.0] * days for c in ("open", "high", "low", "close", "adj_close", "volume")},
        }
    ).write_parquet(folder / "SPY.parquet")
    assert (folder / "SPY.parquet").stat().st_size < LIMIT


def _export(tmp_path: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``data export`` of SPY to ``out`` under the file-size limit."""
    return subprocess.run(
        [sys.executable, "-m", "tui_trader", "data", "export", "--symbol", "SPY",
         "--cache-dir", str(tmp_path / "cache"), "--out", str(out)],
        capture_output=True, text=True, env=cli_env(tmp_path), cwd=tmp_path, timeout=120,
        preexec_fn=_limited,
    )  # fmt: skip


def test_an_export_cut_off_by_the_system_says_why_and_leaves_no_file(tmp_path: Path) -> None:
    _cache(tmp_path)
    out = tmp_path / "out" / "bars.csv"
    done = _export(tmp_path, out)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tui-trader: error: cannot write {out}: ")
    assert "None" not in lines[0] and "File too large" in lines[0], lines[0]
    assert not out.exists(), "a cut-off export was left behind"


def test_an_export_over_an_earlier_one_cut_off_by_the_system_leaves_the_earlier_whole(
    tmp_path: Path,
) -> None:
    """Over an earlier ``bars.csv``, the export was written in place and, cut off, the half
    file stayed (only a file the export made was removed): the earlier export was lost and
    the cut-off one would replay as if whole. The export is now written beside it and renamed
    over it once whole."""
    _cache(tmp_path)
    out = tmp_path / "bars.csv"
    out.write_text("timestamp,symbol,open,high,low,close,volume\n")
    earlier = out.read_text()
    done = _export(tmp_path, out)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "File too large" in done.stderr, done.stderr
    assert out.read_text() == earlier, "the earlier export was cut off"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bars.csv", "cache"]
