"""Measuring helpers: medians with their spread, child processes for peak memory, data files.

Each replay run happens in a fresh Python process, so its peak RSS belongs to that engine alone;
the engines of one run go one after another, so a ratio compares figures taken moments apart on
a shared, noisy machine.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.data import Series, make_universe

ROOT = Path(__file__).resolve().parents[1]
USER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""A timed child's environment: it reads the bytecode ``compile_package`` wrote, as a user's
install does (``PYTHONDONTWRITEBYTECODE``, set in some shells and CI images, would have every
start compile our modules again: ~60 ms for the help, more for the desk)."""


def compile_package() -> None:
    """Compile the package's bytecode, as ``pip install`` leaves it, before timing starts."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "tui_trader")], cwd=ROOT, check=True
    )


@dataclass(frozen=True, slots=True)
class Stat:
    """The median of several runs with their min and max."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, values: list[float]) -> Stat:
        """Summarize the values of several runs."""
        return cls(statistics.median(values), min(values), max(values), len(values))

    def fmt(self, spec: str = ",.0f") -> str:
        """``median (min-max)``."""
        if self.runs == 1:
            return format(self.median, spec)
        return f"{self.median:{spec}} ({self.low:{spec}}–{self.high:{spec}})"

    def as_dict(self) -> dict[str, float]:
        """For results.json."""
        return {"median": self.median, "min": self.low, "max": self.high, "runs": self.runs}


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of already sorted values, nearest rank."""
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))]


def peak_rss_mb() -> float:
    """This process's own peak resident memory, in MB: the kernel's high-water mark of its
    address space (``VmHWM``).

    Not ``ru_maxrss``: Linux carries the parent's peak across ``fork`` + ``exec`` into the
    child's ``ru_maxrss``, so every child of a big benchmark process reported at least the
    parent's size (a 1,000,000-row file that loads in ~230 MB read 312 MB, the benchmark's own
    peak after writing its data files)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def save_universe(path: Path, symbols: int, bars: int) -> Path:
    """Generate a universe once and store it for the child processes."""
    universe = make_universe(symbols, bars)
    arrays: dict[str, Any] = {}
    for s in universe:
        for col in ("ts_us", "open", "high", "low", "close", "volume"):
            arrays[f"{s.symbol}.{col}"] = getattr(s, col)
    np.savez(path, **arrays)
    return path


def load_universe(path: Path, limit: int | None = None) -> list[Series]:
    """Read a stored universe (optionally only its first ``limit`` bars)."""
    data = np.load(path)
    names = sorted({key.split(".")[0] for key in data.files})
    cut = slice(None, limit)
    return [
        Series(
            name,
            *(
                np.ascontiguousarray(data[f"{name}.{c}"][cut])
                for c in ("ts_us", "open", "high", "low", "close", "volume")
            ),
        )
        for name in names
    ]


def run_child(engine: str, data: Path, limit: int | None, extra: dict[str, Any]) -> dict[str, Any]:
    """Run one engine on one data file in a fresh process; its outcome and peak memory, and
    ``process_seconds``: the whole process's wall time (start-up, imports, loading the data,
    set-up and any compiling included: what a user waits for)."""
    args = [sys.executable, "-m", "benchmarks.child", engine, str(data), str(limit or 0)]
    args.append(json.dumps(extra))
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    started = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    process_seconds = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"{engine} failed:\n{out.stderr[-3000:]}")
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "process_seconds": process_seconds}
