"""Replay throughput: our engine, backtrader, backtesting.py and a plain loop on the same bars.

Every engine runs the same crossover rule (see ``benchmarks.engines``) on the same seeded data,
each run in a fresh process for its peak memory. An engine too slow to replay the whole data set
five times within the time budget replays its first ``cap`` bars per symbol; its trades and
final equity are then checked against the plain loop run on exactly those bars.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from benchmarks import engines
from benchmarks.harness import Stat, load_universe, run_child, save_universe


@dataclass(frozen=True, slots=True)
class Job:
    """One engine on one data set (maybe capped), as a row of the table."""

    label: str
    engine: str
    cap: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    compare: bool = True
    """Check trades and equity against the plain loop (False for another strategy)."""


@dataclass(frozen=True, slots=True)
class DataSet:
    """A data set and the jobs run on it."""

    name: str
    symbols: int
    bars: int
    jobs: tuple[Job, ...]


REPLAY: dict[str, Any] = {"snapshot_every": 390, "commit_every": 390}
"""Our replay settings: a snapshot and a commit once per simulated day (390 one-minute bars),
through ``run_replay`` (``tui_trader.engine.replay_batch``: the engine's cycle, no report)."""
PER_BAR: dict[str, Any] = {**REPLAY, "batch": False}
"""The same settings, cycle by cycle: the loop the TUI and ``tui-trader paper`` run."""


NAUTILUS = "nautilus_trader (BacktestEngine)"
VECTORBT = "vectorbt (Portfolio.from_signals, numba)"


def plan(quick: bool) -> list[DataSet]:
    """The data sets and jobs; ``quick`` shrinks everything for the smoke test."""
    if quick:
        # Peers run when the bench extra is installed; vectorbt stays out of the quick run,
        # since numba compiles its kernels in every new process (20-90 s here).
        peers = tuple(
            Job(label, engine)
            for module, label, engine in (
                ("backtrader", "backtrader", "backtrader"),
                ("nautilus_trader", NAUTILUS, "nautilus"),
            )
            if find_spec(module)
        )
        return [
            DataSet(
                "1 symbol × 3,000 bars",
                1,
                3_000,
                (
                    Job("plain Python loop", "plain"),
                    Job("ours (crossover, replay settings)", "ours", extra=REPLAY),
                    *peers,
                ),
            ),
        ]
    return [
        DataSet(
            "1 symbol × 1,000,000 bars",
            1,
            1_000_000,
            (
                Job("plain Python loop", "plain"),
                Job("ours (crossover, replay settings)", "ours", cap=200_000, extra=REPLAY),
                Job("ours (crossover, replay settings, cycle by cycle)", "ours", 30_000, PER_BAR),
                Job("ours (crossover, snapshot+commit every bar)", "ours", cap=30_000),
                Job("backtrader", "backtrader", cap=100_000),
                Job("backtesting.py", "backtesting", cap=300_000),
                Job(NAUTILUS, "nautilus", cap=100_000),
                Job(VECTORBT, "vectorbt", cap=200_000),
            ),
        ),
        DataSet(
            "100 symbols × 10,000 bars",
            100,
            10_000,
            (
                Job("plain Python loop", "plain"),
                Job("ours (crossover, replay settings)", "ours", cap=4_000, extra=REPLAY),
                Job("ours (crossover, replay settings, cycle by cycle)", "ours", 1_000, PER_BAR),
                Job("backtrader", "backtrader", cap=1_000),
                Job("backtesting.py (100 one-symbol backtests)", "backtesting", cap=3_000),
                Job(NAUTILUS, "nautilus", cap=1_000),
                Job(
                    "ours, full pipeline (4 strategies, regimes, adaptive weights, risk, audit)",
                    "ours",
                    cap=1_500,
                    extra={**REPLAY, "full": True},
                    compare=False,
                ),
            ),
        ),
    ]


def run(quick: bool, runs: int, log: Any) -> list[dict[str, Any]]:
    """Run every job ``runs`` times (interleaved); one result row per job."""
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for ds in plan(quick):
            path = save_universe(Path(tmp) / f"u{ds.symbols}.npz", ds.symbols, ds.bars)
            refs = _references(path, {job.cap for job in ds.jobs})
            results: dict[str, list[dict[str, Any]]] = {job.label: [] for job in ds.jobs}
            for r in range(runs):
                for job in ds.jobs:
                    out = run_child(job.engine, path, job.cap, job.extra)
                    results[job.label].append(out)
                    log(
                        f"  [{ds.name}] run {r + 1}/{runs} {job.label}: "
                        f"{out['bars'] / out['seconds']:,.0f} bars/s"
                    )
            ours_label = next(j.label for j in ds.jobs if j.engine == "ours")
            for job in ds.jobs:
                rows.append(_row(ds, job, results[job.label], results[ours_label], refs))
    return rows


def _references(path: Path, caps: set[int | None]) -> dict[int | None, engines.Outcome]:
    """The plain loop's trades and equity on each cap of the data (the agreement reference)."""
    return {cap: engines.plain_loop(load_universe(path, cap)) for cap in caps}


def _row(
    ds: DataSet,
    job: Job,
    outs: list[dict[str, Any]],
    ours: list[dict[str, Any]],
    refs: dict[int | None, engines.Outcome],
) -> dict[str, Any]:
    """One table row: rates, ratio to our replay run of the same round, memory, agreement."""
    rates = [o["bars"] / o["seconds"] for o in outs]
    ratios = [
        (u["bars"] / u["seconds"]) / (o["bars"] / o["seconds"])
        for u, o in zip(ours, outs, strict=True)
    ]
    last = outs[-1]
    ref = refs[job.cap]
    if not job.compare:
        agree = "n/a (another strategy)"
    elif job.engine == "backtesting" and ds.symbols > 1:
        same = last["trades"] == ref.trades
        agree = ("trades match" if same else f"trades differ ({ref.trades})") + (
            "; equity not comparable: one account per symbol"
        )
    else:
        ok = last["trades"] == ref.trades and abs(last["final_equity"] - ref.final_equity) < 0.01
        agree = "yes" if ok else f"NO (plain: {ref.trades} trades, {ref.final_equity:,.2f})"
    return {
        "data": ds.name,
        "engine": job.label,
        "bars_run": last["bars"],
        "bars_per_s": Stat.of(rates),
        "whole_bars_per_s": Stat.of([o["bars"] / o["process_seconds"] for o in outs]),
        "ours_over_this": Stat.of(ratios),
        "peak_rss_mb": Stat.of([o["peak_rss_mb"] for o in outs]),
        "data_rss_mb": last["base_rss_mb"],
        "trades": last["trades"],
        "final_equity": last["final_equity"],
        "agrees": agree,
        "note": last.get("note", ""),
    }
