"""``tui-trader learn evaluate``: how the weighting schemes compare, walk-forward, out of sample.

Runs every configuration (adaptive, equal weights, each strategy alone) over simulated markets
whose seeds were never used for tuning (or over a bar file), prints one table of mean total
return, Sharpe, max drawdown, turnover and regime agreement, then a one-line verdict. The
strategies and allocators are the engine's own classes, run straight over the bars with a simple
cost model (see ``tui_trader.learning.evaluate``), which is what keeps it fast.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tui_trader.cli.common import (
    UsageError,
    int_at_most,
    integer,
    non_negative_float,
    percent,
    symbols_arg,
)
from tui_trader.learning.allocator import DEFAULT_FLOOR, DEFAULT_LEARNING_RATE
from tui_trader.learning.evaluate import (
    CONFIGURATIONS,
    EVALUATION_FIRST_SEED,
    TUNING_SEEDS,
    Agreement,
    EvalSettings,
    Market,
    RunResult,
    evaluate,
    file_market,
    sim_market,
)
from tui_trader.learning.setup import LearningSettings
from tui_trader.market import MarketDataError

MAX_BARS = 1_000_000
"""``--bars`` and ``--warmup`` at most a million bars per run (the default is 252)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``learn`` command group and its ``evaluate`` subcommand."""
    parser = subparsers.add_parser(
        "learn",
        help="the adaptive learning system: evaluate the weighting schemes",
        description="Tools of the adaptive learning system (docs/learning.md).",
    )
    sub = parser.add_subparsers(dest="learn_command", metavar="COMMAND")
    ev = sub.add_parser(
        "evaluate",
        help="walk-forward comparison: adaptive vs equal weights vs each strategy",
        description=(
            "Walk-forward evaluation on simulated seeds held out from tuning (or a bar file): "
            "total return, Sharpe, max drawdown, turnover, regime agreement, and a verdict."
        ),
    )
    ev.add_argument("--seeds", type=int_at_most(1_000), default=10, help="simulated markets (10)")
    ev.add_argument(
        "--first-seed",
        type=integer,
        default=EVALUATION_FIRST_SEED,
        help=f"first evaluation seed ({EVALUATION_FIRST_SEED}); tuning used "
        f"{TUNING_SEEDS[0]}-{TUNING_SEEDS[-1]}",
    )
    ev.add_argument("--data", default=None, metavar="FILE", help="a CSV/Parquet bar file instead")
    ev.add_argument("--symbols", type=symbols_arg, default=None, help="(SPY,QQQ,IWM)")
    ev.add_argument("--bars", type=int_at_most(MAX_BARS), default=252, help="bars per run")
    ev.add_argument("--warmup", type=int_at_most(MAX_BARS), default=60, help="warm-up bars (60)")
    ev.add_argument("--cost-bps", type=non_negative_float, default=10.0, help="per unit traded")
    ev.add_argument("--max-drawdown", type=percent, default=5.0, help="halt at, %% (5.0)")
    ev.add_argument(
        "--allocation", type=percent, default=None, help="%% of equity per symbol (1/n, max 10)"
    )
    ev.add_argument("--learning-rate", type=non_negative_float, default=DEFAULT_LEARNING_RATE)
    ev.add_argument("--weight-floor", type=non_negative_float, default=DEFAULT_FLOOR)
    ev.add_argument("--per-seed", action="store_true", help="also list adaptive vs equal per run")
    ev.set_defaults(handler=run_evaluate)
    parser.set_defaults(handler=lambda args: parser.print_help() or 0)


def run_evaluate(args: argparse.Namespace) -> int:
    """Build the markets, run every configuration with a progress bar, print table and verdict."""
    console = Console(highlight=False, soft_wrap=True)
    console.width = max(console.width, 118)  # the table's natural width, even when piped
    learning = LearningSettings("adaptive", args.learning_rate, args.weight_floor, args.cost_bps)
    problem = learning.check()
    if problem:
        raise UsageError(problem)
    markets, source = _markets(args)
    n_symbols = len(markets[0].steps[-1])
    allocation = (args.allocation or min(100.0 / n_symbols, 10.0)) / 100.0
    settings = EvalSettings(allocation, args.cost_bps, args.max_drawdown, learning=learning)
    console.print(f"[bold]learn evaluate[/]: {source}")
    console.print(
        f"method: the engine's strategy and allocator classes run directly over the bars (no "
        f"engine, no database); {allocation * 100:g}% of equity per symbol at full target, "
        f"{args.cost_bps:g} bps per unit of equity traded, rebalances under 1% skipped, "
        f"positions frozen once drawdown reaches {args.max_drawdown:g}% (the engine's halt); "
        f"learning rate {learning.learning_rate:g}, weight floor {learning.weight_floor:g}"
    )
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("evaluating", total=len(markets) * len(CONFIGURATIONS))

        def step(label: str) -> None:
            """Advance the bar after each configuration on each market."""
            progress.update(task, advance=1, description=label)

        results, agreements = evaluate(markets, settings, CONFIGURATIONS, step)
    console.print(_table(results, agreements, len(markets)))
    if args.per_seed:
        console.print(_per_seed(results))
    for line in _verdict(results, agreements):
        console.print(line)
    console.print(f"[dim]{len(results)} runs in {time.perf_counter() - started:.1f} s[/]")
    return 0


def _markets(args: argparse.Namespace) -> tuple[list[Market], str]:
    """The simulated seeds, or the one bar file, to evaluate on, and a line describing them."""
    if args.data:
        from tui_trader.market.replay import read_bar_file

        raw = args.data.removeprefix("replay:")
        try:
            frame = read_bar_file(Path(raw).expanduser())
            if args.symbols:
                import polars as pl

                frame = frame.filter(pl.col("symbol").is_in(list(args.symbols)))
            market = file_market(frame, raw, args.warmup)
        except (MarketDataError, ValueError) as exc:
            raise UsageError(str(exc)) from None
        trading = len(market.steps) - market.warmup
        return [market], (
            f"walk-forward over {raw} ({trading} trading bars after {args.warmup} warm-up; "
            f"no true regimes, so no agreement score)"
        )
    if args.seeds < 1:
        raise UsageError("--seeds must be at least 1")
    symbols = args.symbols or ("SPY", "QQQ", "IWM")
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    tuned = sorted(set(seeds) & set(TUNING_SEEDS))
    note = f" [yellow]- {len(tuned)} of these seeds were used for tuning![/]" if tuned else ""
    markets = [sim_market(seed, tuple(symbols), args.bars, args.warmup) for seed in seeds]
    return markets, (
        f"walk-forward on {len(markets)} simulated markets, seeds {seeds.start}-{seeds.stop - 1} "
        f"(tuning used {TUNING_SEEDS[0]}-{TUNING_SEEDS[-1]}){note}; {', '.join(symbols)}; "
        f"{args.warmup} warm-up + {args.bars} trading daily bars each"
    )


def _mean(values: list[float]) -> float:
    """Arithmetic mean (0 for none)."""
    return sum(values) / len(values) if values else 0.0


def _table(results: list[RunResult], agreements: list[Agreement], runs: int) -> Table:
    """Mean figures per configuration over the runs."""
    table = Table(title=f"mean over {runs} run(s) per configuration", title_justify="left")
    for header in ("config", "return %", "Sharpe", "max DD %", "turnover", "Sharpe>equal"):
        table.add_column(header, justify="left" if header == "config" else "right")
    table.add_column("halted", justify="right")
    table.add_column("regime agreement (adaptive)")
    equal = {r.market: r for r in results if r.config == "equal"}
    for config in CONFIGURATIONS:
        rows = [r for r in results if r.config == config]
        wins = sum(r.sharpe > equal[r.market].sharpe for r in rows)
        agree = "-"
        if config == "adaptive":
            agree = _agreement_text(agreements) if agreements else "n/a (no truth)"
        table.add_row(
            config,
            f"{_mean([r.total_return_pct for r in rows]):+.2f}",
            f"{_mean([r.sharpe for r in rows]):.2f}",
            f"{_mean([r.max_drawdown_pct for r in rows]):.2f}",
            f"{_mean([r.turnover for r in rows]):.2f}",
            "-" if config == "equal" else f"{wins}/{len(rows)}",
            f"{sum(r.halted for r in rows)}/{len(rows)}",
            agree,
        )
    return table


def _agreement_text(agreements: list[Agreement]) -> str:
    """Direction / volatility level / both, pooled over every call after warm-up."""
    calls = sum(a.calls for a in agreements)
    direction = sum(a.direction * a.calls for a in agreements) / calls
    level = sum(a.level * a.calls for a in agreements) / calls
    both = sum(a.both * a.calls for a in agreements) / calls
    return f"trend {direction:.0%} vol {level:.0%} both {both:.0%}"


def _per_seed(results: list[RunResult]) -> Table:
    """Adaptive against equal weights, run by run."""
    table = Table(title="adaptive vs equal, per run", title_justify="left")
    for header in ("market", "adaptive Sharpe", "equal Sharpe", "adaptive DD %", "equal DD %"):
        table.add_column(header, justify="left" if header == "market" else "right")
    by = {(r.config, r.market): r for r in results}
    for market in dict.fromkeys(r.market for r in results):
        a, e = by[("adaptive", market)], by[("equal", market)]
        table.add_row(
            market,
            f"{a.sharpe:.2f}",
            f"{e.sharpe:.2f}",
            f"{a.max_drawdown_pct:.2f}",
            f"{e.max_drawdown_pct:.2f}",
        )
    return table


def _verdict(results: list[RunResult], agreements: list[Agreement]) -> list[str]:
    """The one-line verdict against the acceptance targets, and the detector's line."""
    equal = {r.market: r for r in results if r.config == "equal"}
    adaptive = [r for r in results if r.config == "adaptive"]
    wins = sum(r.sharpe > equal[r.market].sharpe for r in adaptive)
    need = -(-7 * len(adaptive) // 10)
    dd_a = _mean([r.max_drawdown_pct for r in adaptive])
    dd_e = _mean([r.max_drawdown_pct for r in equal.values()])
    ok = wins >= need and dd_a <= dd_e
    word = "[bold green]PASS[/]" if ok else "[bold red]FAIL[/]"
    lines = [
        f"verdict: {word} - adaptive beat equal weights on Sharpe in {wins}/{len(adaptive)} runs "
        f"(target {need}) with mean max drawdown {dd_a:.2f}% vs {dd_e:.2f}% (target: no worse)"
    ]
    if agreements:
        lines.append(
            f"regime detector after warm-up: {_agreement_text(agreements)} agreement with the "
            "simulator (bull->bull/calm, sideways->sideways/calm, bear and crash->bear/volatile)"
        )
    return lines
