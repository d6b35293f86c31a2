"""A ``PerformanceReport`` as rich renderables: the figures, per-symbol and per-strategy tables,
and two small block charts (equity and drawdown), for ``tui-trader report``, the end of
``paper --batch`` and the desk's Report screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from tui_trader.core.shown import shown_text
from tui_trader.reporting.metrics import GroupStats, PerformanceReport, TradeRecord

_BLOCKS = " ▁▂▃▄▅▆▇█"
_PCT = "{:.1f}%"


def _num(value: float | None, fmt: str = "{:,.2f}") -> Text:
    """A figure, or '-' when it is undefined (too few points, no losing trade...).

    Right-justified by the cell itself: Textual renders table cells left-justified otherwise."""
    return Text("-" if value is None else fmt.format(value), justify="right")


def _signed(value: float | None, fmt: str = "{:+,.2f}") -> Text:
    """A signed figure in green or red."""
    if value is None:
        return Text("-", style="dim", justify="right")
    return Text(fmt.format(value), style="green" if value >= 0 else "red", justify="right")


def _right(text: str, style: str = "") -> Text:
    """Text justified right."""
    return Text(text, style=style, justify="right")


def duration_text(span: timedelta, points: int) -> str:
    """A drawdown duration: days (or hours) and the number of points."""
    if span >= timedelta(days=1):
        return f"{span.days}d ({points} pts)"
    return f"{span.total_seconds() / 3600:.1f}h ({points} pts)"


def _trade_text(trade: TradeRecord | None) -> str:
    """The best or worst trade in one short line."""
    if trade is None:
        return "-"
    return f"{trade.pnl:+,.2f} {trade.symbol} ({trade.pnl_pct:+.2f}%)"


def resample(values: Sequence[float], width: int) -> list[float]:
    """At most ``width`` values: the last value of each of ``width`` equal slices."""
    if len(values) <= width:
        return list(values)
    step = len(values) / width
    return [values[min(len(values) - 1, int((i + 1) * step) - 1)] for i in range(width)]


def block_chart(
    values: Sequence[float], width: int, height: int = 4, zero: bool = False
) -> list[str]:
    """``height`` lines of block characters drawing ``values`` (resampled to ``width``).

    The lowest value gets the thinnest block, or none with ``zero`` (bars from 0 up)."""
    data = resample(values, max(width, 1))
    if not data:
        return [""] * height
    low, high = (0.0 if zero else min(data)), max(data)
    span = (high - low) or 1.0
    if zero:
        levels = [round((v - low) / span * height * 8) for v in data]
    else:
        levels = [1 + round((v - low) / span * (height * 8 - 1)) for v in data]
    lines = []
    for row in range(height - 1, -1, -1):
        base = row * 8
        lines.append("".join(_BLOCKS[max(0, min(8, level - base))] for level in levels))
    return lines


def summary_table(report: PerformanceReport) -> Table:
    """The headline figures, two pairs of columns."""
    table = Table(title="Performance", show_header=False, box=None, padding=(0, 1))
    for _ in range(2):
        table.add_column(style="bold")
        table.add_column(justify="right")
    period = (
        f"{report.start:%Y-%m-%d} to {report.end:%Y-%m-%d}" if report.start and report.end else "-"
    )
    rows: list[tuple[str, RenderableType, str, RenderableType]] = [
        ("Period", _right(period), "Trades", _right(str(report.trades))),
        (
            "Start equity",
            _num(report.start_equity),
            "Win rate",
            _num(report.win_rate_pct, "{:.1f}%"),
        ),
        ("End equity", _num(report.end_equity), "Profit factor", _num(report.profit_factor)),
        ("Return", _signed(report.return_pct, "{:+.2f}%"), "Avg win", _signed(report.avg_win)),
        ("CAGR", _signed(report.cagr_pct, "{:+.2f}%"), "Avg loss", _signed(report.avg_loss)),
        ("Sharpe", _num(report.sharpe), "Best trade", _right(_trade_text(report.best_trade))),
        ("Sortino", _num(report.sortino), "Worst trade", _right(_trade_text(report.worst_trade))),
        (
            "Max drawdown",
            _right(f"{report.max_drawdown_pct:.2f}%", "red" if report.max_drawdown_pct else ""),
            "Turnover",
            _num(report.turnover, "{:.2f}x"),
        ),
        (
            "DD duration",
            _right(duration_text(report.max_drawdown_duration, report.max_drawdown_points)),
            "Commissions",
            _num(report.commissions),
        ),
        ("Exposure", _num(report.exposure_pct, "{:.1f}%"), "Slippage", _num(report.slippage)),
    ]
    for row in rows:
        table.add_row(*row)
    return table


def group_table(title: str, groups: Sequence[GroupStats]) -> Table:
    """Trades, win rate, PnL and profit factor per symbol or per strategy."""
    table = Table(title=title, padding=(0, 1))
    table.add_column(title.split()[-1].lower())
    for col in ("trades", "win %", "pnl", "p.f.", "comm."):
        table.add_column(col, justify="right")
    for g in groups:
        table.add_row(
            Text(shown_text(g.name)),  # a stored symbol or strategy name: never markup
            _right(str(g.trades)),
            _num(g.win_rate_pct, "{:.0f}"),
            _signed(g.pnl),
            _num(g.profit_factor),
            _num(g.commission),
        )
    return table


def charts(report: PerformanceReport, width: int = 60) -> Group:
    """Equity and drawdown as block charts, each with its range on the right."""
    equity = [report.start_equity] + [p.equity for p in report.equity]
    depth = [0.0, *(-d for d in report.drawdown_pct)]
    parts: list[RenderableType] = [Text("Equity", style="bold")]
    for i, line in enumerate(block_chart(equity, width, 4)):
        label = f" {max(equity):,.0f}" if i == 0 else (f" {min(equity):,.0f}" if i == 3 else "")
        parts.append(Text(line, style="cyan") + Text(label, style="dim"))
    parts.append(Text("Drawdown (depth below the peak)", style="bold"))
    for i, line in enumerate(block_chart(depth, width, 2, zero=True)):
        deepest = max(depth)
        label = (f" -{deepest:.2f}%" if deepest > 0 else " 0.00%") if i == 0 else " 0%"
        parts.append(Text(line, style="red") + Text(label, style="dim"))
    return Group(*parts)


def report_renderable(report: PerformanceReport, title: str, width: int = 60) -> Group:
    """Everything ``tui-trader report`` prints, in order."""
    parts: list[RenderableType] = [Text(shown_text(title), style="bold"), summary_table(report)]
    if report.equity:
        parts.append(charts(report, width))
    if report.by_symbol:
        parts.append(group_table("By symbol", report.by_symbol))
    if report.by_strategy:
        parts.append(group_table("By strategy", report.by_strategy))
    return Group(*parts)
