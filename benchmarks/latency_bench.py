"""Decision latency: bar arrival to order handed to the broker (local) or acknowledged (sandbox).

Local: a default local session (the adaptive ensemble of 4 strategies, default risk limits, the
audit trail committing every cycle) on the simulated 1-minute market. The clock starts when the
market hands the cycle its bars and stops when the engine calls the broker's ``submit`` (every
order of the cycle is a sample). Sandbox: ``benchmarks.alpaca_decision_latency`` (bar close to
the sandbox's acknowledgement through alpaca-py over loopback, order row committed first).
"""

from __future__ import annotations

import gc
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import Stat, percentile


@dataclass
class LocalRun:
    """One local run's samples, in ms."""

    orders: list[float] = field(default_factory=list)
    """Bar arrival to ``submit``, wall clock, one per order."""
    orders_cpu: list[float] = field(default_factory=list)
    """The same interval in the cycle thread's CPU time (what preemption by other processes
    on a shared machine does not add to)."""
    cycles: list[float] = field(default_factory=list)
    """Bar arrival to the cycle's end, wall clock, one per cycle."""
    gc_inside: list[float] = field(default_factory=list)
    """Garbage collections that started inside a cycle (bar arrival to its end): durations."""
    gc_between: list[float] = field(default_factory=list)
    """Those that started between cycles."""


def local_latency(symbols: int, bars: int) -> LocalRun:
    """Per-order latencies (wall and CPU), per-cycle times and the garbage collections of
    ``bars`` cycles of a default session."""
    from tui_trader.session.local import LocalSettings, build_local_session

    names = tuple(f"S{i:03d}" for i in range(symbols))
    out = LocalRun()
    with tempfile.TemporaryDirectory() as tmp:
        settings = LocalSettings(
            db=Path(tmp) / "lat.db", symbols=names, interval="1m", period="2d", data="sim"
        )
        session = build_local_session(settings)
        # What ``SessionRunner.run`` does before a process's first cycle (freeze_startup_heap):
        # each run here stands for one ``tui-trader paper`` process.
        gc.freeze()
        market, broker = session.market, session.broker
        arrival = [0.0, 0.0]
        inside = [False]
        collection = [0.0, False]
        next_bars, submit = market.next_bars, broker.submit
        clock, cpu_clock = time.perf_counter, time.thread_time

        def timed_next_bars():
            bars_now = next_bars()
            inside[0] = True
            arrival[1] = cpu_clock()
            arrival[0] = clock()
            return bars_now

        def timed_submit(request):
            out.orders.append((clock() - arrival[0]) * 1000)
            out.orders_cpu.append((cpu_clock() - arrival[1]) * 1000)
            return submit(request)

        def collected(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                collection[:] = clock(), inside[0]
            else:
                took = (clock() - collection[0]) * 1000
                (out.gc_inside if collection[1] else out.gc_between).append(took)

        market.next_bars = timed_next_bars  # type: ignore[method-assign]
        broker.submit = timed_submit  # type: ignore[method-assign]
        gc.callbacks.append(collected)
        try:
            for _ in range(bars):
                session.run_iteration()
                out.cycles.append((clock() - arrival[0]) * 1000)
                inside[0] = False
        finally:
            gc.callbacks.remove(collected)
        session.finish("completed")
        session.audit.db.close()
    return out


def run(quick: bool, runs: int, log: Any) -> list[dict[str, Any]]:
    """p50/p99/max per run, medians across runs, for 3 and 50 symbols and the sandbox."""
    rows: list[dict[str, Any]] = []
    bars = 100 if quick else 2_000
    for symbols in (3, 50):
        keys = ("p50", "p99", "max", "c50", "c99", "n", "cpu50", "cpu99", "gcin", "gcout")
        per_run: dict[str, list[float]] = {k: [] for k in keys}
        for r in range(runs):
            sample = local_latency(symbols, bars)
            o, c, cpu = sorted(sample.orders), sorted(sample.cycles), sorted(sample.orders_cpu)
            per_run["p50"].append(percentile(o, 0.5))
            per_run["p99"].append(percentile(o, 0.99))
            per_run["max"].append(o[-1] if o else float("nan"))
            per_run["c50"].append(percentile(c, 0.5))
            per_run["c99"].append(percentile(c, 0.99))
            per_run["n"].append(len(o))
            per_run["cpu50"].append(percentile(cpu, 0.5))
            per_run["cpu99"].append(percentile(cpu, 0.99))
            per_run["gcin"].append(len(sample.gc_inside))
            per_run["gcout"].append(len(sample.gc_between))
            log(
                f"  local {symbols} symbols run {r + 1}: p99 {per_run['p99'][-1]:.2f} ms "
                f"(CPU {per_run['cpu99'][-1]:.2f}); collections inside cycles "
                f"{len(sample.gc_inside)} ({sum(sample.gc_inside):.1f} ms), between "
                f"{len(sample.gc_between)} ({sum(sample.gc_between):.1f} ms)"
            )
        p99 = Stat.of(per_run["p99"])
        target = 5.0 if symbols == 50 else None
        rows.append(
            {
                "measure": f"local, {symbols} symbols: bar → order to broker, ms "
                f"({runs}×{bars:,} bars, {int(sum(per_run['n'])):,} orders)",
                "figure": f"p50 {Stat.of(per_run['p50']).fmt('.2f')}; p99 {p99.fmt('.2f')}; "
                f"max {Stat.of(per_run['max']).fmt('.2f')}",
                "target": "p99 < 5 ms" if target else "—",
                "met": ("yes" if p99.median < target else "NO") if target else "—",
                "p99": p99,
            }
        )
        rows.append(
            {
                "measure": f"local, {symbols} symbols: bar → order, the cycle thread's CPU "
                "time, ms",
                "figure": f"p50 {Stat.of(per_run['cpu50']).fmt('.2f')}; "
                f"p99 {Stat.of(per_run['cpu99']).fmt('.2f')}",
                "target": "—",
                "met": "—",
            }
        )
        rows.append(
            {
                "measure": f"local, {symbols} symbols: whole decision cycle, ms",
                "figure": f"p50 {Stat.of(per_run['c50']).fmt('.2f')}; "
                f"p99 {Stat.of(per_run['c99']).fmt('.2f')}",
                "target": "—",
                "met": "—",
            }
        )
        rows.append(
            {
                "measure": f"local, {symbols} symbols: garbage collections per run, inside "
                "cycles / between them",
                "figure": f"{Stat.of(per_run['gcin']).fmt('.0f')} / "
                f"{Stat.of(per_run['gcout']).fmt('.0f')}",
                "target": "—",
                "met": "—",
            }
        )
    rows.append(_sandbox(quick, runs, log))
    return rows


def _sandbox(quick: bool, runs: int, log: Any) -> dict[str, Any]:
    """The sandbox round trip through alpaca-py."""
    from benchmarks.alpaca_decision_latency import measure

    orders = 20 if quick else 200
    p50s, p99s, maxs = [], [], []
    for r in range(runs):
        ms = sorted(measure(orders))
        p50s.append(percentile(ms, 0.5))
        p99s.append(percentile(ms, 0.99))
        maxs.append(ms[-1])
        log(f"  sandbox run {r + 1}: p99 {p99s[-1]:.1f} ms")
    p99 = Stat.of(p99s)
    return {
        "measure": f"sandbox via alpaca-py, 1 symbol: bar → order acknowledged, ms "
        f"({runs}×{orders} orders)",
        "figure": f"p50 {Stat.of(p50s).fmt('.1f')}; p99 {p99.fmt('.1f')}; "
        f"max {Stat.of(maxs).fmt('.1f')}",
        "target": "p99 < 25 ms",
        "met": "yes" if p99.median < 25 else "NO",
        "p99": p99,
    }
