"""``tui-trader learn evaluate``: how the weighting schemes compare, walk-forward, out of sample.

Runs every configuration (adaptive, its frozen-learning ablation, equal weights, each strategy
alone, buy and hold) over simulated markets whose seeds were never used for tuning, or over one or
more bar files (real history), prints a table per file and one overall, the named windows
(``--window NAME:FROM:TO``), then the verdict lines. The strategies and allocators are the
engine's own classes, run straight over the bars with the engine's sizing and the paper
broker's fills (``tui_trader.learning.book``; a test holds the two equity curves together),
without the engine's database, which is what keeps it fast.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tui_trader.cli.common import UsageError, path_text, symbols_arg
from tui_trader.cli.learn_tables import (
    per_run_table,
    summary_table,
    verdict_lines,
    windows_table,
)
from tui_trader.cli.numbers import int_at_most, integer, non_negative_float, percent
from tui_trader.cli.shown_console import shown_markup
from tui_trader.learning.book import MIN_TRADE_PCT
from tui_trader.learning.choices import DEFAULT_FLOOR, DEFAULT_LEARNING_RATE
from tui_trader.learning.evaluate import (
    CONFIGURATIONS,
    EVALUATION_FIRST_SEED,
    TUNING_SEEDS,
    EvalSettings,
    Market,
    evaluate,
    file_market,
    sim_market,
)
from tui_trader.learning.performance import Window
from tui_trader.learning.setup import LearningSettings
from tui_trader.market import MarketDataError

if TYPE_CHECKING:
    import polars as pl

MIN_FILE_BARS = 60
"""Bar times a file needs under the default warm-up: 30 to warm up, 30 to trade."""
MIN_TRADING_BARS = 20
"""Bars to trade after the warm-up, at least: fewer give no Sharpe worth printing."""
MAX_BARS = 1_000_000
"""``--bars`` and ``--warmup`` at most a million bars per run (the default is 252)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``learn`` command group and its ``evaluate`` subcommand."""
    parser = subparsers.add_parser(
        "learn",
        help="the adaptive learning system: evaluate the weighting schemes",
        description="Tools of the adaptive learning system (docs/learning.md).",
    )
    sub = parser.add_subparsers(dest="learn_command", metavar="COMMAND", required=True)
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
    ev.add_argument(
        "--data",
        nargs="+",
        type=bar_file_text,
        default=None,
        metavar="FILE",
        help="CSV/Parquet bar files instead (each its own market; one-symbol price files as "
        "Yahoo, stooq and spreadsheets write them too: docs/market-data.md)",
    )
    ev.add_argument(
        "--window",
        action="append",
        type=window_arg,
        default=[],
        metavar="NAME:FROM:TO",
        help="a named stretch of time to report drawdown and return in (repeatable), "
        "e.g. crisis:2007-10-09:2009-03-09",
    )
    ev.add_argument("--symbols", type=symbols_arg, default=None, help="(SPY,QQQ,IWM)")
    ev.add_argument("--bars", type=int_at_most(MAX_BARS), default=252, help="bars per run")
    ev.add_argument(
        "--warmup", type=int_at_most(MAX_BARS), default=None, help="warm-up bars (60; files: 250)"
    )
    ev.add_argument("--cost-bps", type=non_negative_float, default=10.0, help="per unit traded")
    ev.add_argument(
        "--max-drawdown", type=percent, default=None, help="halt at, %% (5.0; files: 100, none)"
    )
    ev.add_argument(
        "--allocation",
        type=percent,
        default=None,
        help="%% of equity per symbol (1/n, at most 10; files: 95/n)",
    )
    ev.add_argument("--learning-rate", type=non_negative_float, default=DEFAULT_LEARNING_RATE)
    ev.add_argument("--weight-floor", type=non_negative_float, default=DEFAULT_FLOOR)
    ev.add_argument("--per-seed", action="store_true", help="also list adaptive vs equal per run")
    ev.set_defaults(handler=run_evaluate)


def bar_file_text(text: str) -> str:
    """One ``--data`` file name (``replay:`` in front is allowed, as for ``paper``), refused
    when blank or holding a control character (see ``path_text``)."""
    path_text(text.removeprefix("replay:"))
    return text


def window_arg(text: str) -> Window:
    """``NAME:FROM:TO`` with ISO dates (``crisis:2007-10-09:2009-03-09``), both ends included."""
    name, _, rest = text.partition(":")
    first, _, last = rest.partition(":")
    try:
        start = datetime.fromisoformat(first).replace(tzinfo=UTC)
        end = datetime.fromisoformat(last).replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not NAME:FROM:TO with ISO dates: {text!r} (e.g. crisis:2007-10-09:2009-03-09)"
        ) from None
    if not name.strip() or end < start or not (first.isascii() and last.isascii()):
        raise argparse.ArgumentTypeError(f"not a window NAME:FROM:TO with FROM <= TO: {text!r}")
    if not name.isprintable():  # the name heads a table row: an escape there was printed raw
        raise argparse.ArgumentTypeError(f"the window's name holds a control character: {text!r}")
    if len(last) <= 10:  # a date: the whole day
        end = end.replace(hour=23, minute=59, second=59)
    return Window(name.strip(), start, end)


def run_evaluate(args: argparse.Namespace) -> int:
    """Build the markets, run every configuration with a progress bar, print tables and verdict."""
    console = Console(highlight=False, soft_wrap=True)
    console.width = max(console.width, 150)  # the tables' natural width, even when piped
    learning = LearningSettings("adaptive", args.learning_rate, args.weight_floor, args.cost_bps)
    problem = learning.check()
    if problem:
        raise UsageError(problem)
    real = bool(args.data)
    notes: list[str] = []
    markets, source = _markets(args, notes)
    n_symbols = len(markets[0].steps[-1])
    # Files: 95% of equity over the symbols. The paper broker refuses a buy the cash cannot pay
    # for at the close plus slippage, so a 100% position could never be bought.
    default_allocation = 95.0 / n_symbols if real else min(100.0 / n_symbols, 10.0)
    allocation = (args.allocation or default_allocation) / 100.0
    max_dd = args.max_drawdown if args.max_drawdown is not None else (100.0 if real else 5.0)
    settings = EvalSettings(allocation, args.cost_bps, max_dd, learning=learning)
    windows = tuple(args.window)
    _check_windows(windows, markets)
    console.print(f"[bold]learn evaluate[/]: {shown_markup(source)}")
    for note in notes:
        console.print(f"note: {note}", markup=False)
    halt = f"positions frozen once drawdown reaches {max_dd:g}% (the engine's halt)"
    console.print(
        f"method: walk-forward (each decision at a bar's close from past bars only, filled at "
        f"the next bar's open as the engine's paper broker fills); the engine's strategy and "
        f"allocator classes run directly over the bars (no engine, no database); "
        f"{allocation * 100:g}% of equity per symbol at full target, {args.cost_bps:g} bps "
        f"slippage per unit traded, rebalances under {MIN_TRADE_PCT:g}% of a full position "
        f"skipped, "
        f"{halt if max_dd < 100 else 'no drawdown halt'}; learning rate "
        f"{learning.learning_rate:g} (frozen: 0), weight floor {learning.weight_floor:g}"
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

        results, agreements = evaluate(markets, settings, CONFIGURATIONS, step, windows)
    if len(markets) > 1 and real:
        for market in markets:
            console.print(
                summary_table(
                    [r for r in results if r.market == market.label],
                    [],
                    1,
                    shown_markup(market.label),
                )
            )
    title = f"mean over {len(markets)} run(s) per configuration"
    console.print(summary_table(results, agreements, len(markets), title))
    if windows:
        console.print(windows_table(results, markets, windows))
    if args.per_seed:
        console.print(per_run_table(results))
    for line in verdict_lines(results, agreements, real, markets, windows):
        console.print(line)
    console.print(f"[dim]{len(results)} runs in {time.perf_counter() - started:.1f} s[/]")
    return 0


def _check_windows(windows: tuple[Window, ...], markets: list[Market]) -> None:
    """Refuse a ``--window`` in which no market trades a bar (before or after the data, or
    inside the warm-up): its row was left out of the table without a word, exit 0."""
    for window in windows:
        traded = (m.times[m.warmup :] for m in markets)
        if any(window.start <= t <= window.end for times in traded for t in times):
            continue
        spans: dict[str, list[str]] = {}  # simulated seeds share one span: said once
        for m in markets:
            span = f"{m.times[m.warmup]:%Y-%m-%d} to {m.times[-1]:%Y-%m-%d}"
            spans.setdefault(span, []).append(m.label)
        said = "; ".join(
            f"{labels[0] if len(labels) == 1 else f'{len(labels)} markets'} trade"
            f"{'s' if len(labels) == 1 else ''} {span}"
            for span, labels in list(spans.items())[:3]
        )
        more = f"; and {len(spans) - 3} more" if len(spans) > 3 else ""
        raise UsageError(
            f"--window {window.name}: no bar is traded from {window.start:%Y-%m-%d} to "
            f"{window.end:%Y-%m-%d} ({said}{more}, after the warm-up)"
        )


def _labels(raws: list[str]) -> list[str]:
    """Each ``--data`` file's name in the tables and verdicts: its file name, or the path as
    typed where two files share a name (results are grouped by this label: both files' tables
    showed the mean of the two, and both verdicts the second file's figures). The same file
    given twice is refused."""
    seen: set[Path] = set()
    for raw in raws:
        try:
            resolved = Path(raw).expanduser().resolve()
        except (OSError, RuntimeError):  # a loop of links (3.11: RuntimeError): the reader says
            resolved = Path(raw).expanduser().absolute()
        if resolved in seen:
            raise UsageError(f"--data {raw}: the same file is given twice")
        seen.add(resolved)
    names = [Path(raw).name for raw in raws]
    return [raw if names.count(name) > 1 else name for raw, name in zip(raws, names, strict=True)]


def _check_length(name: str, times: int, asked: int | None, warmup: int) -> None:
    """Refuse a file too short to score: fewer than ``MIN_FILE_BARS`` bar times (the default
    warm-up is half of them), or fewer than ``MIN_TRADING_BARS`` after a ``--warmup``."""
    if asked is None and times < MIN_FILE_BARS:
        raise UsageError(
            f"{name}: {times} bar time(s); learn evaluate needs at least {MIN_FILE_BARS} per "
            "file (half of them, at most 250, are warm-up; the rest are traded)"
        )
    if times < warmup + MIN_TRADING_BARS:
        raise UsageError(
            f"{name}: {times} bar time(s); --warmup {warmup} needs at least "
            f"{warmup + MIN_TRADING_BARS} (the warm-up, then {MIN_TRADING_BARS} bars to trade)"
        )


def _only(frame: pl.DataFrame, symbols: tuple[str, ...], name: str) -> pl.DataFrame:
    """The rows of ``--symbols``; refused, naming what the file holds, when one has no bar
    there (it was "0 bar time(s); learn evaluate needs at least 60", as if the file were
    short)."""
    import polars as pl

    present = frame.get_column("symbol").unique().sort().to_list()
    unknown = [s for s in symbols if s not in present]
    if unknown:
        held = ", ".join(present[:10]) + (", ..." if len(present) > 10 else "")
        raise UsageError(f"{name}: no bars for {', '.join(unknown)} (the file has {held})")
    return frame.filter(pl.col("symbol").is_in(list(symbols)))


def _common_times(frame: pl.DataFrame, name: str, notes: list[str]) -> pl.DataFrame:
    """The rows at times where every symbol of the file has a bar (a note says how many times
    were left out); refused when there is none. A file whose symbols never shared a time (SPY
    on one day, QQQ the next) was scored as one market switching symbols: all zeros, exit 0."""
    import polars as pl

    symbols = frame.get_column("symbol").n_unique()
    if symbols < 2:
        return frame
    shared = pl.col("symbol").n_unique().over("timestamp") == symbols
    common = frame.filter(shared)
    total = frame.get_column("timestamp").n_unique()
    kept = common.get_column("timestamp").n_unique()
    if kept == 0:
        raise UsageError(
            f"{name}: its {symbols} symbols never have a bar at the same time; give each its "
            "own file, or pick one with --symbols"
        )
    if kept < total:
        notes.append(
            f"{name}: kept the {kept:,} of {total:,} bar times at which all {symbols} symbols "
            "have a bar"
        )
    return common


def _markets(args: argparse.Namespace, notes: list[str]) -> tuple[list[Market], str]:
    """The simulated seeds, or the bar files, to evaluate on, and a line describing them
    (``notes``: one line per change made reading a file, such as a newest-first file)."""
    if args.data:
        from tui_trader.market.replay import read_bar_file

        markets = []
        raws = [name.removeprefix("replay:") for name in args.data]
        for raw, label in zip(raws, _labels(raws), strict=True):  # all read before any run
            try:
                frame = read_bar_file(Path(raw).expanduser(), notes)
                if args.symbols:
                    frame = _only(frame, args.symbols, raw)
                frame = _common_times(frame, raw, notes)
                times = frame.get_column("timestamp").n_unique()
                warmup = args.warmup
                if warmup is None:  # 250 bars (a year of days), at most half the file
                    warmup = min(250, times // 2)
                _check_length(raw, times, args.warmup, warmup)
                markets.append(file_market(frame, label, warmup))
            except (MarketDataError, ValueError) as exc:
                raise UsageError(str(exc)) from None
        names = ", ".join(
            f"{m.label} ({len(m.steps) - m.warmup} bars, {m.bars_per_year:.0f}/yr)" for m in markets
        )
        return markets, (
            f"walk-forward over {len(markets)} file(s): {names}, each after "
            f"{markets[0].warmup} warm-up bars; no true regimes, so no agreement score"
        )
    if args.seeds < 1:
        raise UsageError("--seeds must be at least 1")
    if args.bars < MIN_TRADING_BARS:  # as for a file: 0 bars printed a table of zeros and FAIL
        raise UsageError(
            f"--bars must be at least {MIN_TRADING_BARS} (fewer give no Sharpe worth printing)"
        )
    symbols = args.symbols or ("SPY", "QQQ", "IWM")
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    tuned = sorted(set(seeds) & set(TUNING_SEEDS))
    note = f" [yellow]- {len(tuned)} of these seeds were used for tuning![/]" if tuned else ""
    warmup = 60 if args.warmup is None else args.warmup
    markets = [sim_market(seed, tuple(symbols), args.bars, warmup) for seed in seeds]
    return markets, (
        f"walk-forward on {len(markets)} simulated markets, seeds {seeds.start}-{seeds.stop - 1} "
        f"(tuning used {TUNING_SEEDS[0]}-{TUNING_SEEDS[-1]}){note}; {', '.join(symbols)}; "
        f"{warmup} warm-up + {args.bars} trading daily bars each"
    )
