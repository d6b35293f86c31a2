"""The tables and verdict lines ``learn evaluate`` prints (rich), from its run results.

On simulated seeds the verdict is the simulator's target (adaptive beats equal weights on Sharpe
in 7 of 10 seeds, drawdown no worse). On real files it is the real-market targets: adaptive
Sharpe above equal weights, buy and hold and the average single strategy; at least 0.45 with a
drawdown of at most 30%; inside a window where buy and hold lost, at most half its drawdown, and
where it gained, at least half its return; and adaptive above its frozen-learning ablation on
Sharpe in at least 70% of the series and windows.
"""

from __future__ import annotations

from rich.table import Table

from tui_trader.cli.shown_console import shown_markup
from tui_trader.learning.evaluate import (
    CONFIGURATIONS,
    FROZEN,
    HOLD,
    Agreement,
    Market,
    RunResult,
    bear_share,
)
from tui_trader.learning.performance import Window
from tui_trader.strategies.family import STRATEGY_NAMES

SHARPE_TARGET = 0.45
DRAWDOWN_TARGET = 30.0
ABLATION_SHARE = 0.7


def _mean(values: list[float]) -> float:
    """Arithmetic mean (0 for none)."""
    return sum(values) / len(values) if values else 0.0


def summary_table(
    results: list[RunResult], agreements: list[Agreement], runs: int, title: str
) -> Table:
    """Mean figures per configuration over the runs."""
    table = Table(title=title, title_justify="left")
    headers = ("config", "return %", "CAGR %", "Sharpe", "max DD %", "under water %")
    for header in (*headers, "turnover", "costs %", "Sharpe>equal", "Sharpe>frozen"):
        table.add_column(header, justify="left" if header == "config" else "right")
    table.add_column("halted", justify="right")
    table.add_column("regime agreement (adaptive)")
    equal = {r.market: r for r in results if r.config == "equal"}
    frozen = {r.market: r for r in results if r.config == FROZEN}
    for config in CONFIGURATIONS:
        rows = [r for r in results if r.config == config]
        if not rows:
            continue
        wins = sum(r.sharpe > equal[r.market].sharpe for r in rows)
        over_frozen = sum(r.sharpe > frozen[r.market].sharpe for r in rows)
        agree = "-"
        if config == "adaptive":
            agree = _agreement_text(agreements) if agreements else "n/a (no truth)"
        table.add_row(
            config,
            f"{_mean([r.total_return_pct for r in rows]):+.2f}",
            f"{_mean([r.cagr_pct for r in rows]):+.2f}",
            f"{_mean([r.sharpe for r in rows]):.2f}",
            f"{_mean([r.max_drawdown_pct for r in rows]):.2f}",
            f"{_mean([r.under_water_pct for r in rows]):.0f}",
            f"{_mean([r.turnover for r in rows]):.2f}",
            f"{_mean([r.costs_pct for r in rows]):.2f}",
            "-" if config == "equal" else f"{wins}/{len(rows)}",
            "-" if config == FROZEN else f"{over_frozen}/{len(rows)}",
            f"{sum(r.halted for r in rows)}/{len(rows)}",
            agree,
        )
    return table


def windows_table(results: list[RunResult], markets: list[Market], windows: tuple[Window, ...]):
    """Return, drawdown and Sharpe inside each named window, per market, for the main configs."""
    table = Table(title="inside the named windows", title_justify="left")
    for header in ("market", "window", "bars", "bear calls"):
        table.add_column(header, justify="left" if header in ("market", "window") else "right")
    shown = ("adaptive", FROZEN, "equal", HOLD)
    for config in shown:
        table.add_column(f"{config} ret/DD/Sharpe", justify="right")
    by = {(r.config, r.market): r for r in results}
    for market in markets:
        for i, window in enumerate(windows):
            if not by[("adaptive", market.label)].windows[i].bars:
                continue  # the window lies outside this market's history
            share = bear_share(market, window)
            cells = []
            for config in shown:
                w = by[(config, market.label)].windows[i]
                cells.append(f"{w.return_pct:+.0f}% / {w.max_drawdown_pct:.0f}% / {w.sharpe:.2f}")
            bars = by[("adaptive", market.label)].windows[i].bars
            table.add_row(
                shown_markup(market.label),
                shown_markup(window.name),
                str(bars),
                "-" if share is None else f"{share:.0%}",
                *cells,
            )
    return table


def _agreement_text(agreements: list[Agreement]) -> str:
    """Direction / volatility level / both, pooled over every call after warm-up."""
    calls = sum(a.calls for a in agreements)
    direction = sum(a.direction * a.calls for a in agreements) / calls
    level = sum(a.level * a.calls for a in agreements) / calls
    both = sum(a.both * a.calls for a in agreements) / calls
    return f"trend {direction:.0%} vol {level:.0%} both {both:.0%}"


def per_run_table(results: list[RunResult]) -> Table:
    """Adaptive against equal weights and the ablation, run by run."""
    table = Table(title="adaptive vs equal and frozen, per run", title_justify="left")
    headers = ("market", "adaptive Sharpe", "frozen Sharpe", "equal Sharpe")
    for header in (*headers, "adaptive DD %", "equal DD %"):
        table.add_column(header, justify="left" if header == "market" else "right")
    by = {(r.config, r.market): r for r in results}
    for market in dict.fromkeys(r.market for r in results):
        a, f, e = by[("adaptive", market)], by[(FROZEN, market)], by[("equal", market)]
        table.add_row(
            market,
            f"{a.sharpe:.2f}",
            f"{f.sharpe:.2f}",
            f"{e.sharpe:.2f}",
            f"{a.max_drawdown_pct:.2f}",
            f"{e.max_drawdown_pct:.2f}",
        )
    return table


def _word(ok: bool) -> str:
    """PASS or FAIL, coloured."""
    return "[bold green]PASS[/]" if ok else "[bold red]FAIL[/]"


def verdict_lines(
    results: list[RunResult],
    agreements: list[Agreement],
    real: bool,
    markets: list[Market],
    windows: tuple[Window, ...],
) -> list[str]:
    """The verdict lines against the targets: the simulator's, or the real markets'."""
    if real:
        return _real_verdict(results, markets, windows)
    equal = {r.market: r for r in results if r.config == "equal"}
    adaptive = [r for r in results if r.config == "adaptive"]
    wins = sum(r.sharpe > equal[r.market].sharpe for r in adaptive)
    need = -(-7 * len(adaptive) // 10)
    dd_a = _mean([r.max_drawdown_pct for r in adaptive])
    dd_e = _mean([r.max_drawdown_pct for r in equal.values()])
    lines = [
        f"verdict: {_word(wins >= need and dd_a <= dd_e)} - adaptive beat equal weights on "
        f"Sharpe in {wins}/{len(adaptive)} runs (target {need}) with mean max drawdown "
        f"{dd_a:.2f}% vs {dd_e:.2f}% (target: no worse)"
    ]
    if agreements:
        lines.append(
            f"regime detector after warm-up: {_agreement_text(agreements)} agreement with the "
            "simulator (bull->bull/calm, sideways->sideways/calm, bear and crash->bear/volatile)"
        )
    return lines


def _real_verdict(
    results: list[RunResult], markets: list[Market], windows: tuple[Window, ...]
) -> list[str]:
    """Per market: Sharpe against the baselines and the targets; windows; the ablation."""
    by = {(r.config, r.market): r for r in results}
    lines = []
    ablation_wins = ablation_total = 0
    for market in markets:
        m = market.label
        shown = shown_markup(m)  # a file's name: 'x[red]y.csv' is no style
        a = by[("adaptive", m)]
        singles = _mean([by[(s, m)].sharpe for s in STRATEGY_NAMES])
        beats = (
            a.sharpe > by[("equal", m)].sharpe
            and a.sharpe > by[(HOLD, m)].sharpe
            and a.sharpe > singles
        )
        level = a.sharpe >= SHARPE_TARGET and a.max_drawdown_pct <= DRAWDOWN_TARGET
        lines.append(
            f"verdict {shown}: {_word(beats)} adaptive Sharpe {a.sharpe:.2f} vs equal "
            f"{by[('equal', m)].sharpe:.2f}, hold {by[(HOLD, m)].sharpe:.2f}, average single "
            f"strategy {singles:.2f}; {_word(level)} Sharpe >= {SHARPE_TARGET} "
            f"with max drawdown {a.max_drawdown_pct:.1f}% <= {DRAWDOWN_TARGET:g}%"
        )
        ablation_total += 1
        ablation_wins += a.sharpe > by[(FROZEN, m)].sharpe
        for i, window in enumerate(windows):
            aw, hw, fw = a.windows[i], by[(HOLD, m)].windows[i], by[(FROZEN, m)].windows[i]
            if not aw.bars:
                continue
            ablation_total += 1
            ablation_wins += aw.sharpe > fw.sharpe
            if hw.return_pct < 0:
                ok = aw.max_drawdown_pct <= hw.max_drawdown_pct / 2
                what = (
                    f"drawdown {aw.max_drawdown_pct:.0f}% vs buy and hold "
                    f"{hw.max_drawdown_pct:.0f}% (target at most half)"
                )
            else:
                ok = aw.return_pct >= hw.return_pct / 2
                what = (
                    f"return {aw.return_pct:+.0f}% vs buy and hold {hw.return_pct:+.0f}% "
                    f"(target at least half)"
                )
            lines.append(f"  window {shown_markup(window.name)}: {_word(ok)} {what}")
    need = ABLATION_SHARE * ablation_total
    lines.append(
        f"verdict ablation: {_word(ablation_wins >= need)} adaptive beat its frozen-learning "
        f"ablation on Sharpe in {ablation_wins}/{ablation_total} series and windows "
        f"(target {ABLATION_SHARE:.0%})"
    )
    return lines
