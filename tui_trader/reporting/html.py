"""A ``PerformanceReport`` as one self-contained HTML page: figures, tables and plotly charts.

plotly.js is written into the page (``include_plotlyjs=True``, ~4.7 MB), so the file opens
offline and keeps working when moved or mailed; no CDN is ever asked. plotly is imported here
only, when a page is written (~0.3 s), so the terminal commands and the desk stay quick.
"""

from __future__ import annotations

import html
from pathlib import Path

from tui_trader.reporting.metrics import GroupStats, PerformanceReport
from tui_trader.reporting.terminal import duration_text
from tui_trader.security.private_files import replace_privately


def _fmt(value: float | None, fmt: str = "{:,.2f}") -> str:
    """A figure, or '-' when undefined."""
    return "-" if value is None else fmt.format(value)


def _figure_rows(report: PerformanceReport) -> list[tuple[str, str]]:
    """The headline figures as (label, text) pairs, in the terminal's order."""
    best, worst = report.best_trade, report.worst_trade
    start, end = report.start, report.end
    return [
        ("Period", f"{start:%Y-%m-%d} to {end:%Y-%m-%d}" if start and end else "-"),
        ("Start equity", _fmt(report.start_equity)),
        ("End equity", _fmt(report.end_equity)),
        ("Return", _fmt(report.return_pct, "{:+.2f}%")),
        ("CAGR", _fmt(report.cagr_pct, "{:+.2f}%")),
        ("Sharpe", _fmt(report.sharpe)),
        ("Sortino", _fmt(report.sortino)),
        ("Max drawdown", _fmt(report.max_drawdown_pct, "{:.2f}%")),
        (
            "Max drawdown duration",
            duration_text(report.max_drawdown_duration, report.max_drawdown_points),
        ),
        ("Exposure", _fmt(report.exposure_pct, "{:.1f}%")),
        ("Trades", str(report.trades)),
        ("Win rate", _fmt(report.win_rate_pct, "{:.1f}%")),
        ("Profit factor", _fmt(report.profit_factor)),
        ("Average win", _fmt(report.avg_win, "{:+,.2f}")),
        ("Average loss", _fmt(report.avg_loss, "{:+,.2f}")),
        ("Best trade", f"{best.pnl:+,.2f} {best.symbol}" if best else "-"),
        ("Worst trade", f"{worst.pnl:+,.2f} {worst.symbol}" if worst else "-"),
        ("Turnover", _fmt(report.turnover, "{:.2f}x")),
        ("Commissions", _fmt(report.commissions)),
        ("Slippage", _fmt(report.slippage)),
    ]


def _group_html(title: str, groups: tuple[GroupStats, ...]) -> str:
    """One per-symbol or per-strategy table."""
    head = "".join(f"<th>{h}</th>" for h in ("name", "trades", "win %", "pnl", "p.f.", "comm."))
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(cell)}</td>"
            for cell in (
                g.name,
                str(g.trades),
                _fmt(g.win_rate_pct, "{:.0f}"),
                _fmt(g.pnl, "{:+,.2f}"),
                _fmt(g.profit_factor),
                _fmt(g.commission),
            )
        )
        + "</tr>"
        for g in groups
    )
    return f"<h2>{html.escape(title)}</h2><table><tr>{head}</tr>{rows}</table>"


def _chart_html(report: PerformanceReport) -> str:
    """Equity over drawdown, sharing the time axis, with plotly.js inlined."""
    from plotly.subplots import make_subplots

    times = [p.time for p in report.equity]
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.7, 0.3],
        vertical_spacing=0.06,
        subplot_titles=("Equity", "Drawdown (%)"),
    )
    fig.add_scatter(x=times, y=[p.equity for p in report.equity], name="equity", row=1, col=1)
    fig.add_scatter(
        x=times,
        y=list(report.drawdown_pct),
        name="drawdown %",
        fill="tozeroy",
        line={"color": "#d70000"},
        row=2,
        col=1,
    )
    fig.update_layout(height=640, showlegend=False, margin={"l": 60, "r": 20, "t": 40, "b": 40})
    return fig.to_html(full_html=False, include_plotlyjs=True)


def report_html(report: PerformanceReport, title: str) -> str:
    """The whole page."""
    figures = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in _figure_rows(report)
    )
    chart = _chart_html(report) if report.equity else "<p>No account snapshots yet.</p>"
    groups = ""
    if report.by_symbol:
        groups += _group_html("By symbol", report.by_symbol)
    if report.by_strategy:
        groups += _group_html("By strategy", report.by_strategy)
    style = (
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
        "th,td{padding:2px 10px;text-align:right;border-bottom:1px solid #ddd}"
        "th{text-align:left}"
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{style}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><table>{figures}</table>{chart}{groups}</body></html>"
    )


def write_html(report: PerformanceReport, title: str, path: Path) -> None:
    """Write the page whole or not at all, readable by its owner only (0600: it tells the
    account's money): a new file beside it renamed over ``path`` once written
    (``replace_privately``). Written in place, a full disk (a quota, ``ulimit -f``) left a cut-off
    page under the name, the earlier page gone. ``OSError`` if it cannot be written."""
    replace_privately(path, report_html(report, title))
