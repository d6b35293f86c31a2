"""``python -m benchmarks.whole_set``: issue 17's 100 symbols × 10,000 bars target, as it names it.

``python -m benchmarks`` runs the full pipeline on the first 1,500 bars of each symbol to stay
inside its time budget; a quarter of those bars are the warm-up, which neither allocates nor
routes, so that row flatters the whole run. This runs the full pipeline (four strategies,
regimes, adaptive weights, risk, audit) over the WHOLE data set, each run its own process,
alternating with backtrader on its benchmark cap (1,000 bars per symbol: its rate is a rate),
and prints run-only and whole-process symbol-bars/s, medians with min–max, and the ratios
taken inside each pair. About 4 minutes for three pairs on a quiet 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from benchmarks.harness import run_child, save_universe
from benchmarks.replay_bench import REPLAY

SYMBOLS = 100
BARS = 10_000
PEER_CAP = 1_000


def _spread(xs: list[float]) -> str:
    """A median with its min–max."""
    return f"{statistics.median(xs):,.0f} ({min(xs):,.0f}–{max(xs):,.0f})"


def main(argv: list[str] | None = None) -> int:
    """Run ``--pairs`` alternating pairs and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.whole_set")
    parser.add_argument("--pairs", type=int, default=3, help="ours/backtrader pairs (default 3)")
    args = parser.parse_args(argv)
    ours_run, ours_whole, bt_run, bt_whole = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        data = save_universe(Path(tmp) / "universe.npz", SYMBOLS, BARS)
        for pair in range(1, args.pairs + 1):
            ours = run_child("ours", data, None, {**REPLAY, "full": True})
            peer = run_child("backtrader", data, PEER_CAP, {})
            ours_run.append(ours["bars"] / ours["seconds"])
            ours_whole.append(ours["bars"] / ours["process_seconds"])
            bt_run.append(peer["bars"] / peer["seconds"])
            bt_whole.append(peer["bars"] / peer["process_seconds"])
            print(
                f"pair {pair}: ours {ours_run[-1]:,.0f} run / {ours_whole[-1]:,.0f} whole process "
                f"({ours['bars']:,} symbol-bars); backtrader {bt_run[-1]:,.0f} / "
                f"{bt_whole[-1]:,.0f}",
                flush=True,
            )
    print(
        f"full pipeline, {SYMBOLS} × {BARS:,}, symbol-bars/s: run {_spread(ours_run)}; "
        f"whole process {_spread(ours_whole)} (target ≥ 50,000)"
    )
    print(
        f"backtrader ({PEER_CAP:,} bars per symbol): run {_spread(bt_run)}; "
        f"whole process {_spread(bt_whole)}"
    )
    run_ratio = [o / b for o, b in zip(ours_run, bt_run, strict=True)]
    whole_ratio = [o / b for o, b in zip(ours_whole, bt_whole, strict=True)]
    print(
        f"ours ÷ backtrader: run {statistics.median(run_ratio):.2f}× "
        f"({min(run_ratio):.2f}–{max(run_ratio):.2f}); whole process "
        f"{statistics.median(whole_ratio):.2f}× ({min(whole_ratio):.2f}–{max(whole_ratio):.2f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
