"""The real-time dashboard: money, limits, positions, prices, orders, fills and risk events.

It draws only from the app's ``DeskState`` and only when the app's tick says something changed
(at most ten times a second), so a flood of reports never floods the screen. Tables have fixed
column widths so that updated numbers are never truncated.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static
from textual_plotext import PlotextPlot

from tui_trader.tui.screens.dashboard_charts import plot_drawdown, plot_equity
from tui_trader.tui.screens.dashboard_logs import DeskLogs
from tui_trader.tui.screens.first_resume import StyledOnMount, quitting
from tui_trader.tui.state import DeskState, sparkline
from tui_trader.tui.widgets.cells import (
    not_desks_note,
    num,
    price_cell,
    regime_summary,
    signed_cell,
)
from tui_trader.tui.widgets.desk_footer import DeskFooter
from tui_trader.tui.widgets.deskbar import DeskBar, money, signed_text
from tui_trader.tui.widgets.fast_table import FastTable
from tui_trader.tui.widgets.gauge import Gauge
from tui_trader.tui.widgets.line import TextLine
from tui_trader.tui.widgets.packed import PackedLines

_num, _signed_cell = num, signed_cell  # the names the table tests import

POSITION_COLUMNS = (
    ("Symbol", 6),
    ("Qty", 7),
    ("Avg entry", 9),
    ("Last", 9),
    ("Mkt value", 11),
    ("Day chg", 9),
    ("Unrl PnL", 10),
    ("Unrl %", 7),
    ("Real PnL", 10),
    ("Wt %", 5),
)
"""Every position column (wide screens)."""
COMPACT_POSITION_COLUMNS = (
    ("Symbol", 6),
    ("Qty", 6),
    ("Last", 9),
    ("Day chg", 9),
    ("Unrl PnL", 10),
    ("Unrl %", 7),
    ("Real PnL", 10),
    ("Wt %", 5),
)
"""The columns that fit 80 columns (and the left half of a 120-column screen)."""
WIDE_FROM = 160
"""Screen width from which the positions table shows every column."""
PRICE_COLUMNS = (("Symbol", 6), ("Last", 9), ("Chg %", 8), ("Trend (last 40)", 40))


class DashboardScreen(StyledOnMount, Screen[None]):
    """The session, live: redrawn by ``refresh_desk`` from the app's tick.

    The layout follows the terminal: from 160 columns the positions show every column and the
    two charts sit side by side; below 100 columns or 30 rows (an 80x24 terminal) the prices,
    charts and learning panels give way and the positions sit above the orders and risk-event
    logs, side by side, so money, limits, positions, orders, events and the kill-switch key all
    stay on screen.
    """

    AUTO_FOCUS = ""
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [
        (0, "-narrow"),
        (100, "-medium"),
        (WIDE_FROM, "-wide"),
    ]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (30, "-tall")]

    def __init__(self) -> None:
        """Nothing drawn yet."""
        super().__init__(id="dashboard")
        self._drawn = -1
        self.logs = DeskLogs()
        self._plotted = -1
        self._banner_text = Text()
        self._note_text = ""
        """The note under the positions, as last drawn (``_not_desks``)."""
        self._columns: tuple[tuple[str, int], ...] = ()

    def compose(self) -> ComposeResult:
        """Bar, halt banner, figures, gauges, then tables, charts and logs."""
        yield DeskBar()
        yield Static("", id="halt-banner")
        with Horizontal(id="metrics"):
            for key, label in (
                ("cash", "Cash"),
                ("equity", "Equity"),
                ("bp", "Buying power"),
                ("day", "Day PnL"),
                ("total", "Total PnL"),
            ):
                with Vertical(classes="metric", id=f"metric-{key}"):
                    yield Label(label, classes="metric-label")
                    yield TextLine("—", id=f"m-{key}", classes="metric-value")
        with Horizontal(id="gauges"):
            yield Gauge(id="g-drawdown")
            yield Gauge(id="g-daily")
            yield Gauge(id="g-orders")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Label("Positions", classes="panel-title")
                yield FastTable(id="positions", cursor_type="none", zebra_stripes=True)
                yield Static("", id="positions-note")
                yield PackedLines(id="learning")
                yield Label("Prices", classes="panel-title", id="prices-title")
                yield FastTable(id="prices", cursor_type="none")
            with Vertical(id="right"):
                with Horizontal(id="charts"):
                    yield PlotextPlot(id="equity-plot")
                    yield PlotextPlot(id="drawdown-plot")
                with Horizontal(id="logs"):
                    with Vertical(id="orders-box", classes="log-box"):
                        yield Label("Orders & fills", classes="panel-title")
                        yield self.logs.orders
                    with Vertical(id="events-box", classes="log-box"):
                        yield Label("Risk events", classes="panel-title")
                        yield self.logs.events
        yield DeskFooter()

    def on_mount(self) -> None:
        """Fixed-width columns (DataTable truncates auto-width columns after updates); nothing
        is drawn before the screen has mounted (its resume or the app's tick draws). Shown as
        the app quits, its children may be half mounted (``first_resume.quitting``): nothing."""
        if quitting(self.app):
            return
        prices = self.query_one("#prices", DataTable)
        for label, width in PRICE_COLUMNS:
            prices.add_column(label, width=width, key=label)
        self.query_one("#equity-plot", PlotextPlot).plt.title("Equity")
        self.query_one("#drawdown-plot", PlotextPlot).plt.title("Drawdown %")
        self.query_one("#halt-banner").display = False
        self.query_one("#positions-note").display = False
        self.query_one("#learning").add_class("-empty")
        # The columns before any draw: the screen's resume (its first, when a session's report
        # is already on the desk) draws before its first resize, and positions drawn into a
        # table without columns crashed the desk ('More values provided than there are columns').
        self._fit_columns(self.app.size.width)

    def on_resize(self) -> None:
        """Every position column on a wide screen, the compact set otherwise; the logs
        rewrapped, newest lines in view, once the layout has settled."""
        self._fit_columns(self.size.width)
        self.call_after_refresh(self._follow_logs)

    def _fit_columns(self, width: int) -> None:
        """The positions' columns for a screen ``width`` wide, redrawn if they change."""
        columns = POSITION_COLUMNS if width >= WIDE_FROM else COMPACT_POSITION_COLUMNS
        if columns == self._columns:
            return
        self._columns = columns
        positions = self.query_one("#positions", DataTable)
        positions.clear(columns=True)
        for label, width in columns:
            positions.add_column(label, width=width, key=label)
        self._drawn = -1
        if self.is_mounted:  # a resize; the first draw is the resume's
            self.refresh_desk(self.app.desk, None)  # type: ignore[attr-defined]

    def on_screen_resume(self) -> None:
        """Redraw everything after another screen was on top, newest log lines in view.

        Lines written while a dialog covered the dashboard (the kill switch's question, say)
        can leave a log scrolled short of its end: the user must see the cancel that the halt
        just made, so both logs jump to their newest line once the layout has settled.
        """
        if quitting(self.app):  # shown as the app quits: half mounted
            return
        self._drawn = -1
        self.refresh_desk(self.app.desk, None)  # type: ignore[attr-defined]
        self.call_after_refresh(self._follow_logs)

    def _follow_logs(self) -> None:
        """Show the newest line of both logs, written again at a new width (``DeskLogs``)."""
        if not quitting(self.app):
            self.logs.follow(self.app.desk)  # type: ignore[attr-defined]

    def refresh_desk(self, desk: DeskState, now: datetime | None) -> None:
        """Redraw from the desk if it changed since the last draw (the logs if resized)."""
        if self.logs.resized():
            self._follow_logs()
        if desk.version == self._drawn:
            return
        self._drawn = desk.version
        self._banner(desk)
        report = desk.latest
        info = desk.info
        if report is None or info is None:
            return
        self.query_one("#m-cash", TextLine).show(money(report.cash))
        self.query_one("#m-equity", TextLine).show(money(report.equity))
        self.query_one("#m-bp", TextLine).show(money(report.buying_power))
        self.query_one("#m-day", TextLine).show(signed_text(report.daily_pnl))
        total = desk.total_pnl
        pct = 100.0 * total / info.start_cash if info.start_cash else 0.0
        self.query_one("#m-total", TextLine).show(signed_text(total, f" ({pct:+.2f}%)"))
        self.query_one("#g-drawdown", Gauge).gauge(
            "Drawdown", report.drawdown_pct, info.max_drawdown_pct
        )
        self.query_one("#g-daily", Gauge).gauge(
            "Daily loss", desk.daily_loss_pct, info.max_daily_loss_pct
        )
        self.query_one("#g-orders", Gauge).gauge(
            "Orders today", report.orders_today, info.max_orders_per_day, unit=""
        )
        self._positions(desk)
        self._prices(desk)
        self.logs.append(desk)
        self._learning(desk)
        self._plot(desk)

    def show_halt(self, desk: DeskState) -> None:
        """Only the HALTED banner, now (the kill switch's own frame). Nothing else on the
        dashboard changed with the halt: the full redraw follows at the next tick."""
        self._banner(desk)

    def _banner(self, desk: DeskState) -> None:
        """The HALTED banner: impossible to miss, with the reason and what can be done."""
        banner = self.query_one("#halt-banner", Static)
        if banner.display != desk.halted:
            banner.display = desk.halted
            # The banner takes height from the logs: keep their newest lines in view.
            self.call_after_refresh(self._follow_logs)
        if desk.halted:
            text = Text()
            text.append(" ■ TRADING HALTED ■ ", style="bold white on #d70000")
            text.append(f" {desk.halt_reason}", style="bold")
            if desk.error:
                text.append(f"\nsession failed: {desk.error}", style="bold")
            text.append(
                "\nNo new exposure is taken. ctrl+r asks to resume (where the risk state allows)."
            )
            if text != self._banner_text:  # an update is a layout pass: only on a change
                self._banner_text = text
                banner.update(text)

    def _positions(self, desk: DeskState) -> None:
        """Positions with a totals row, in the columns the screen's width allows. The total day
        change is ``—`` while any position's is (no previous close yet): it read ``+0.00``
        under rows of ``—``, a flat day on the screen of a day that had moved."""
        report = desk.latest
        assert report is not None
        equity = report.equity or 1.0
        wide = self._columns is POSITION_COLUMNS
        value = pnl = basis = real = 0.0
        day: float | None = 0.0  # unknown (``—``) once any position's change is
        rows: list[tuple[str, list[Text]]] = []
        foreign = report.not_desks
        for p in report.positions:
            value += p.market_value
            pnl += p.unrealized_pnl
            basis += abs(p.cost_basis)
            base = desk.prev_close.get(p.symbol)
            day_chg = p.qty * p.multiplier * (p.last_price - base) if base else None
            day = None if day is None or day_chg is None else day + day_chg
            realized = report.realized_by_symbol.get(p.symbol, 0.0)
            real += realized
            cells = [
                Text(f"{p.symbol}*" if p.symbol in foreign else p.symbol, style="bold"),
                num(p.qty, "g"),
                *((price_cell(p.avg_entry_price),) if wide else ()),
                price_cell(p.last_price),
                *((num(p.market_value),) if wide else ()),
                signed_cell(day_chg),
                signed_cell(p.unrealized_pnl),
                signed_cell(p.unrealized_pnl_pct, pct=True),
                signed_cell(realized),
                num(100.0 * p.market_value / equity, ".1f"),
            ]
            rows.append((str(len(rows)), cells))  # keyed by place: opening or closing moves none
        closed = sum(report.realized_by_symbol.values()) - real  # symbols no longer held
        pct = 100.0 * pnl / basis if basis else 0.0
        total = [
            Text("TOTAL", style="bold"),
            Text(f"{len(report.positions)} pos", justify="right"),
            *((Text(""),) if wide else ()),
            Text(""),
            *((num(value),) if wide else ()),
            signed_cell(day),
            signed_cell(pnl),
            signed_cell(pct, pct=True),
            signed_cell(real + closed),
            num(100.0 * value / equity, ".1f"),
        ]
        rows.append((str(len(rows)), total))
        self.query_one("#positions", FastTable).sync_rows(rows)
        self._not_desks(report.not_desks, {p.symbol for p in report.positions})

    def _not_desks(self, foreign: dict[str, float], held: set[str]) -> None:
        """Under the positions, for each symbol left alone after a change made outside the
        session (marked ``*``), how many of the shares in its row (and in its P&L, which is
        the broker's whole position's) this desk did not trade."""
        text = not_desks_note(foreign, held)
        note = self.query_one("#positions-note", Static)
        if text != self._note_text:  # an update is a layout pass: only on a change
            self._note_text = text
            note.update(text)
            note.display = bool(text)

    def _prices(self, desk: DeskState) -> None:
        """Last price, the day's change (from the previous trading day's last price) and a
        sparkline per symbol."""
        rows: list[tuple[str, list[Text]]] = []
        for symbol in sorted(desk.prices):
            series = desk.prices[symbol]
            rows.append(
                (
                    symbol,
                    [
                        Text(symbol, style="bold"),
                        price_cell(series[-1]),
                        signed_cell(desk.day_change(symbol), pct=True),
                        Text(sparkline(series, 40), style="cyan"),
                    ],
                )
            )
        self.query_one("#prices", FastTable).sync_rows(rows)

    def _learning(self, desk: DeskState) -> None:
        """Regime and weights panels, only when the learning system reports them; as tall as
        its text wrapped to the panel's width (a name and its value never split)."""
        report = desk.latest
        assert report is not None
        panel = self.query_one("#learning", PackedLines)
        shown = bool(report.regimes or report.weights)
        panel.set_class(not shown, "-empty")  # a class: small screens hide the panel anyway
        if not shown:
            return
        groups = [("Exposure", [report.exposure_note])] if report.exposure_note else []
        if report.regimes:
            groups.append(("Regime", regime_summary(report.regimes).split("  ")))
        if report.weights:
            groups.append(("Weights", [f"{k}: {w:.2f}" for k, w in sorted(report.weights.items())]))
        panel.set_groups(groups)

    def _plot(self, desk: DeskState) -> None:
        """The equity and drawdown curves (bounded history) on a market-time axis, re-plotted
        only when a point was added."""
        if desk.reports_applied == self._plotted:
            return
        self._plotted = desk.reports_applied
        daily = desk.info.daily_bars if desk.info else True
        equity = self.query_one("#equity-plot", PlotextPlot)
        plot_equity(equity.plt, desk.equity, desk.equity_times, daily)
        equity.refresh()
        drawdown = self.query_one("#drawdown-plot", PlotextPlot)
        plot_drawdown(drawdown.plt, desk.drawdown, desk.equity_times, daily)
        drawdown.refresh()

    def reset(self) -> None:
        """Forget what was drawn (a new session starts): the previous session's figures,
        positions, prices and logs go too, so that nothing of it shows under the new one's
        bar while the new one has not reported yet."""
        self._drawn = -1
        self._plotted = -1
        self.logs.clear()
        for key in ("cash", "equity", "bp", "day", "total"):
            self.query_one(f"#m-{key}", TextLine).show("—")
        for table in ("#positions", "#prices"):
            self.query_one(table, FastTable).sync_rows([])
        self.query_one("#positions-note", Static).update("")
        for gauge in self.query(Gauge):
            gauge.blank()
        self.query_one("#learning", PackedLines).set_class(True, "-empty")
        for plot, draw in (("#equity-plot", plot_equity), ("#drawdown-plot", plot_drawdown)):
            widget = self.query_one(plot, PlotextPlot)
            draw(widget.plt, [], [], True)
            widget.refresh()
