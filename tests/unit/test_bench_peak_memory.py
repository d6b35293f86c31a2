"""The benchmark's peak-memory figures are the child process's own, not its parent's.

Linux carries a parent's peak resident memory across ``fork`` + ``exec`` into the child's
``ru_maxrss``, so the 1,000,000-row replay file read 312 MB in ``python -m benchmarks`` (the
benchmark process's own peak after writing its data) against ~230 MB by hand. Here this process
holds a large block while a fresh child reports its peak: the figure must be the child's.
"""

from __future__ import annotations

import subprocess
import sys

from benchmarks.harness import ROOT

HELD_MB = 200

_CHILD = "from benchmarks.harness import peak_rss_mb; print(peak_rss_mb())"


def test_a_child_reports_its_own_peak_not_its_parents() -> None:
    """A small child of a process holding 200 MB reports well under 200 MB."""
    held = b"\x01" * (HELD_MB * 2**20)  # touched pages: resident in this process
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert len(held) == HELD_MB * 2**20
    child_peak = float(done.stdout.strip())
    assert 0 < child_peak < HELD_MB / 2, f"the child reported {child_peak:.0f} MB"
