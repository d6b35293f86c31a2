"""``python -m benchmarks.ab_trees REV_OR_DIR ...``: one replay, code of two (or more) trees, runs
interleaved in one sitting.

A speed question between two versions of the code ("is main slower than this morning?") can only
be answered side by side on this shared machine: its speed moves through the day by up to a
quarter, and within a minute when other work starts. This runs the benchmark's child process
(``benchmarks.child``: the same data, the same engine settings) with each tree's own
``tui_trader`` first on ``PYTHONPATH``, A, B, A, B, ... and prints, per tree, the medians with
min–max of three figures:

- ``run``: the replay's own wall time (``Outcome.seconds``);
- ``process``: the whole child process's wall time (start-up, imports, data and set-up included);
- ``cpu``: the whole child process's CPU time (user + system). On a loaded machine (load average
  well above the cores) the wall times of one code spread by 2-5x while its CPU time stays
  within ~15%: compare ``cpu`` there.

It also checks that every run of every tree made the same trades, orders and final equity: a
speed comparison between trees that trade differently measures something else.

A tree is a directory holding a ``tui_trader`` package, or a git revision of this repository
(written out with ``git archive`` into a temporary directory). Each tree's bytecode is compiled
first, as a user's install has it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import ROOT, USER_ENV, save_universe
from benchmarks.replay_bench import REPLAY

FIGURES = ("run", "process", "cpu")


def tree_of(spec: str, scratch: Path) -> Path:
    """The directory of tree ``spec``: itself if it holds ``tui_trader``, else the git revision
    ``spec`` written out under ``scratch``."""
    given = Path(spec)
    if (given / "tui_trader").is_dir():
        return given.resolve()
    out = scratch / spec.replace("/", "_")
    out.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", spec], capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise SystemExit(f"error: {spec} is neither a source tree nor a git revision")
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive.stdout, check=True)
    return out


def run_once(tree: Path, data: Path, bars: int, extra: dict[str, Any]) -> dict[str, Any]:
    """One child process of ``tree``'s code: its outcome with the three figures."""
    env = dict(USER_ENV, PYTHONPATH=str(tree))
    args = [sys.executable, "-m", "benchmarks.child", "ours", str(data), str(bars)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(
        [*args, json.dumps(extra)], capture_output=True, text=True, env=env, cwd=tree, check=False
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"{tree} failed:\n{out.stderr[-3000:]}")
    outcome = json.loads(out.stdout.strip().splitlines()[-1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {**outcome, "run": outcome["seconds"], "process": wall, "cpu": cpu}


def spread(values: list[float]) -> str:
    """A median with its min–max, in seconds."""
    return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def main(argv: list[str] | None = None) -> int:
    """Run the trees interleaved and print their figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ab_trees")
    parser.add_argument("trees", nargs="+", help="source directories or git revisions")
    parser.add_argument("--runs", type=int, default=5, help="runs of each tree (default 5)")
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--bars", type=int, default=1500)
    parser.add_argument("--crossover", action="store_true", help="the crossover, not the pipeline")
    args = parser.parse_args(argv)
    extra = {**REPLAY, "full": not args.crossover}
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        trees: dict[str, Path] = {}
        for n, spec in enumerate(args.trees, 1):  # a tree given twice (a noise check) runs twice
            trees[spec if spec not in trees else f"{spec} ({n})"] = tree_of(spec, scratch / str(n))
        for tree in trees.values():
            compiled = [sys.executable, "-m", "compileall", "-q", str(tree / "tui_trader")]
            subprocess.run(compiled, check=True, env=USER_ENV, stdout=subprocess.DEVNULL)
        data = save_universe(scratch / "universe.npz", args.symbols, args.bars)
        figures: dict[str, dict[str, list[float]]] = {s: {f: [] for f in FIGURES} for s in trees}
        outcomes: set[tuple[int, int, float]] = set()
        for i in range(1, args.runs + 1):
            for spec, tree in trees.items():
                got = run_once(tree, data, args.bars, extra)
                outcomes.add((got["trades"], got["orders"], round(got["final_equity"], 6)))
                for name in FIGURES:
                    figures[spec][name].append(got[name])
                shown = " ".join(f"{name} {got[name]:.3f}" for name in FIGURES)
                print(f"{i} {spec}: {shown} s; {got['trades']} trades", flush=True)
    load = os.getloadavg()[0]
    print(f"{args.symbols} × {args.bars:,}, {args.runs} runs each, load average now {load:.1f}")
    for spec in trees:
        shown = "; ".join(f"{name} {spread(figures[spec][name])}" for name in FIGURES)
        print(f"{spec}: {shown} s")
    if len(outcomes) != 1:
        print(f"the trees trade differently: {sorted(outcomes)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
