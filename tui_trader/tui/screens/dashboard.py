"""The real-time dashboard: money, limits, positions, prices, orders, fills and risk events.

It draws only from the app's ``DeskState`` and only when the app's tick says something changed
(at most ten times a second), so a flood of reports never floods the screen. Tables have fixed
column widths so that updated numbers are never truncated.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, RichLog, Static
from textual_plotext import PlotextPlot

from tui_trader.domain import Fill, Order, RiskEvent
from tui_trader.tui.state import DeskState, newest, sparkline
from tui_trader.tui.widgets.deskbar import DeskBar, money, signed_text
from tui_trader.tui.widgets.fast_table import FastTable
from tui_trader.tui.widgets.gauge import Gauge
from tui_trader.tui.widgets.line import TextLine

POSITION_COLUMNS = (
    ("Symbol", 6),
    ("Qty", 7),
    ("Avg entry", 9),
    ("Last", 9),
    ("Mkt value", 11),
    ("Unrl PnL", 10),
    ("Unrl %", 7),
    ("Wt %", 5),
)
PRICE_COLUMNS = (("Symbol", 6), ("Last", 9), ("Chg %", 8), ("Trend (last 40)", 40))


REGIMES_LISTED = 4
"""Up to this many symbols the regime line names each one; beyond, it counts the labels."""


def regime_summary(regimes: dict[str, str]) -> str:
    """Each symbol's regime for a few symbols; for many, how many symbols are in each regime
    (fifty labels would push the orders and risk events off the screen)."""
    if len(regimes) <= REGIMES_LISTED:
        return "  ".join(f"{s}: {r}" for s, r in sorted(regimes.items()))
    ranked = sorted(Counter(regimes.values()).items(), key=lambda item: (-item[1], item[0]))
    return " · ".join(f"{n} {label}" for label, n in ranked)


def _num(value: float, fmt: str = ",.2f") -> Text:
    """A right-aligned number cell."""
    return Text(format(value, fmt), justify="right")


def _signed_cell(value: float, pct: bool = False) -> Text:
    """A right-aligned signed, coloured cell."""
    text = signed_text(value, pct=pct)
    text.justify = "right"
    return text


def order_line(order: Order) -> Text:
    """One order for the orders log."""
    colour = "green" if order.side == "buy" else "red"
    text = Text(f"{order.side.upper():4} ", style=f"bold {colour}")
    text.append(f"{order.qty:g} {order.symbol} ")
    text.append(str(order.status), style="bold" if order.status == "filled" else "dim")
    if order.filled_avg_price:
        text.append(f" @ {order.filled_avg_price:,.2f}")
    if order.reject_reason:
        text.append(f" ({order.reject_reason})", style="yellow")
    return text


def fill_line(fill: Fill) -> Text:
    """One fill for the orders log."""
    text = Text("FILL ", style="bold cyan")
    text.append(f"{fill.side} {fill.qty:g} {fill.symbol} @ {fill.price:,.2f}")
    text.append(f"  fee {fill.commission:.2f}", style="dim")
    return text


def event_line(event: RiskEvent) -> Text:
    """One risk event for the events log."""
    halting = event.action_taken.startswith("halted")
    text = Text(event.event_type, style="bold red" if halting else "bold yellow")
    if event.limit:
        text.append(f" {event.value:.2f} (limit {event.limit:.2f})")
    text.append(f" → {event.action_taken}")
    return text


def _same(shown: object, cell: Text) -> bool:
    """Whether a shown cell already looks like ``cell`` (``Text`` equality ignores the base
    style and the justification: ``+0.00`` green and ``+0.00`` plain would compare equal)."""
    return (
        isinstance(shown, Text)
        and shown == cell
        and shown.style == cell.style
        and shown.justify == cell.justify
    )


def _sync_table(table: FastTable, rows: list[tuple[str, list[Text]]]) -> None:
    """Bring a table to ``rows`` with the least work: the rows whose keys still lead the table
    keep their place and get only their changed cells; the rest are removed and the new ones
    appended. Rows that stay are no new rows: no re-measuring, no layout pass (``clear`` and
    ``add_row`` cost both, and a rebuild also scrolled the table back to its top)."""
    current = [row_key.value for row_key in table.rows]
    kept = 0
    for (key, _), old in zip(rows, current, strict=False):
        if key != old:
            break
        kept += 1
    for key in current[kept:]:
        table.remove_row(key)
    columns = list(table.columns)
    changes = [
        (key, column.value, cell)
        for key, cells in rows[:kept]
        for column, cell in zip(columns, cells, strict=False)
        if not _same(table.get_cell(key, column), cell)
    ]
    table.update_cells(changes)
    for key, cells in rows[kept:]:
        table.add_row(*cells, key=key)
    table.settle()


class DashboardScreen(Screen[None]):
    """The session, live: redrawn by ``refresh_desk`` from the app's tick."""

    AUTO_FOCUS = ""

    def __init__(self) -> None:
        """Nothing drawn yet."""
        super().__init__(id="dashboard")
        self._drawn = -1
        self._written = {"activity": 0, "events": 0}
        self._plotted = -1
        self._banner_text = Text()

    def compose(self) -> ComposeResult:
        """Bar, halt banner, figures, gauges, then tables and logs."""
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
                with Vertical(classes="metric"):
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
                yield Label("Prices", classes="panel-title")
                yield FastTable(id="prices", cursor_type="none")
            with Vertical(id="right"):
                yield PlotextPlot(id="equity-plot")
                yield TextLine("", id="learning")
                yield Label("Orders & fills", classes="panel-title")
                yield RichLog(id="orders-log", max_lines=200, wrap=True, min_width=20)
                yield Label("Risk events", classes="panel-title")
                yield RichLog(id="events-log", max_lines=200, wrap=True, min_width=20)
        yield Footer()

    def on_mount(self) -> None:
        """Fixed-width columns (DataTable truncates auto-width columns after updates)."""
        positions = self.query_one("#positions", DataTable)
        for label, width in POSITION_COLUMNS:
            positions.add_column(label, width=width, key=label)
        prices = self.query_one("#prices", DataTable)
        for label, width in PRICE_COLUMNS:
            prices.add_column(label, width=width, key=label)
        plot = self.query_one("#equity-plot", PlotextPlot).plt
        plot.title("Equity")
        self.query_one("#halt-banner").display = False
        self.query_one("#learning").display = False

    def on_screen_resume(self) -> None:
        """Redraw everything after another screen was on top, newest log lines in view.

        Lines written while a dialog covered the dashboard (the kill switch's question, say)
        can leave a log scrolled short of its end: the user must see the cancel that the halt
        just made, so both logs jump to their newest line once the layout has settled.
        """
        self._drawn = -1
        self.refresh_desk(self.app.desk, None)  # type: ignore[attr-defined]
        self.call_after_refresh(self._follow_logs)

    def _follow_logs(self) -> None:
        """Show the newest line of both logs."""
        for log in self.query(RichLog):
            log.scroll_end(animate=False, immediate=True)

    def refresh_desk(self, desk: DeskState, now: datetime | None) -> None:
        """Redraw from the desk if it changed since the last draw."""
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
        self._logs(desk)
        self._learning(desk)
        self._plot(desk)

    def _banner(self, desk: DeskState) -> None:
        """The HALTED banner: impossible to miss, with the reason and what can be done."""
        banner = self.query_one("#halt-banner", Static)
        if banner.display != desk.halted:
            banner.display = desk.halted
            # The banner takes height from the logs: keep their newest lines in view.
            self.call_after_refresh(self._follow_logs)
        if desk.halted:
            text = Text(" ■ TRADING HALTED ■ ", style="bold white on #d70000")
            text.append(f"  {desk.halt_reason}", style="bold")
            if desk.error:
                text.append(f"\n  session failed: {desk.error}", style="bold")
            text.append(
                "\n  No new exposure is taken. ctrl+r asks to resume (only where the risk "
                "state allows it).",
            )
            if text != self._banner_text:  # an update is a layout pass: only on a change
                self._banner_text = text
                banner.update(text)

    def _positions(self, desk: DeskState) -> None:
        """Positions with a totals row."""
        report = desk.latest
        assert report is not None
        equity = report.equity or 1.0
        value = pnl = basis = 0.0
        rows: list[tuple[str, list[Text]]] = []
        for p in report.positions:
            value += p.market_value
            pnl += p.unrealized_pnl
            basis += abs(p.cost_basis)
            rows.append(
                (
                    str(len(rows)),  # keyed by place: a position opening or closing moves no row
                    [
                        Text(p.symbol, style="bold"),
                        _num(p.qty, "g"),
                        _num(p.avg_entry_price),
                        _num(p.last_price),
                        _num(p.market_value),
                        _signed_cell(p.unrealized_pnl),
                        _signed_cell(p.unrealized_pnl_pct, pct=True),
                        _num(100.0 * p.market_value / equity, ".1f"),
                    ],
                )
            )
        pct = 100.0 * pnl / basis if basis else 0.0
        rows.append(
            (
                str(len(rows)),
                [
                    Text("TOTAL", style="bold"),
                    Text(f"{len(report.positions)} pos", justify="right"),
                    Text(""),
                    Text(""),
                    _num(value),
                    _signed_cell(pnl),
                    _signed_cell(pct, pct=True),
                    _num(100.0 * value / equity, ".1f"),
                ],
            )
        )
        _sync_table(self.query_one("#positions", FastTable), rows)

    def _prices(self, desk: DeskState) -> None:
        """Last price, change over the kept history, and a sparkline per symbol."""
        rows: list[tuple[str, list[Text]]] = []
        for symbol in sorted(desk.prices):
            series = desk.prices[symbol]
            last = series[-1]
            first = series[0]
            change = 100.0 * (last - first) / first if first else 0.0
            rows.append(
                (
                    symbol,
                    [
                        Text(symbol, style="bold"),
                        _num(last),
                        _signed_cell(change, pct=True),
                        Text(sparkline(series, 40), style="cyan"),
                    ],
                )
            )
        _sync_table(self.query_one("#prices", FastTable), rows)

    def _logs(self, desk: DeskState) -> None:
        """Append the orders, fills and risk events not shown yet."""
        log = self.query_one("#orders-log", RichLog)
        for item in newest(desk.activity, desk.activity_seen, self._written["activity"]):
            log.write(fill_line(item) if isinstance(item, Fill) else order_line(item))
        events = self.query_one("#events-log", RichLog)
        for event in newest(desk.events, desk.events_seen, self._written["events"]):
            events.write(event_line(event))
        self._written = {"activity": desk.activity_seen, "events": desk.events_seen}

    def _learning(self, desk: DeskState) -> None:
        """Regime and weights panels, only when the learning system reports them."""
        report = desk.latest
        assert report is not None
        panel = self.query_one("#learning", TextLine)
        shown = bool(report.regimes or report.weights)
        if panel.display != shown:
            panel.display = shown
        if not shown:
            return
        text = Text()
        if report.regimes:
            text.append("Regime  ", style="bold")
            text.append(regime_summary(report.regimes))
        if report.weights:
            text.append("\nWeights ", style="bold")
            text.append("  ".join(f"{k}: {w:.2f}" for k, w in sorted(report.weights.items())))
        panel.show(text)

    def _plot(self, desk: DeskState) -> None:
        """The equity curve (bounded history), re-plotted only when a point was added."""
        if desk.reports_applied == self._plotted:
            return
        self._plotted = desk.reports_applied
        widget = self.query_one("#equity-plot", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.plot(list(desk.equity), marker="braille")
        widget.refresh()

    def reset(self) -> None:
        """Forget what was drawn (a new session starts)."""
        self._drawn = -1
        self._plotted = -1
        self._written = {"activity": 0, "events": 0}
        self.query_one("#orders-log", RichLog).clear()
        self.query_one("#events-log", RichLog).clear()
