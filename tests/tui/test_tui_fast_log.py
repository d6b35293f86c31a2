"""FastLog shows exactly what RichLog shows for the same lines, and writes a batch at once."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.widgets import RichLog

from tui_trader.core.domain import RiskEvent
from tui_trader.core.orders import Fill, Order, OrderStatus, OrderType, Side
from tui_trader.tui.widgets.cells import event_line, fill_line, order_line
from tui_trader.tui.widgets.fast_log import FastLog


class _LogsApp(App[None]):
    """A RichLog and a FastLog of the same size, made as the dashboard makes its logs."""

    AUTO_FOCUS = ""  # neither focused: a focused log has another background

    def compose(self) -> ComposeResult:
        """The two logs side by side."""
        with Horizontal():
            yield RichLog(id="slow", max_lines=30, wrap=True, min_width=20)
            yield FastLog(id="fast", max_lines=30, wrap=True, min_width=20)


NOW = datetime(2026, 12, 5, 15, 30, tzinfo=UTC)


def _dashboard_lines(i: int) -> list[Text]:
    """An order, its fill and a risk event, as the dashboard writes them."""
    order = Order(
        client_order_id=f"o{i}",
        symbol=f"S{i:03d}",
        side=Side.BUY if i % 2 else Side.SELL,
        qty=10 + i,
        order_type=OrderType.MARKET,
        status=OrderStatus.FILLED if i % 3 else OrderStatus.REJECTED,
        filled_avg_price=101.25 + i if i % 3 else None,
        reject_reason=None if i % 3 else "max position 10% of equity",
    )
    fill = Fill(
        client_order_id=f"o{i}",
        symbol=f"S{i:03d}",
        side=Side.BUY,
        qty=10 + i,
        price=101.25 + i,
        timestamp=NOW,
        commission=0.5,
    )
    event = RiskEvent(
        event_type="max_drawdown" if i % 2 else "daily_loss",
        value=5.5,
        limit=5.0,
        action_taken="halted trading" if i % 2 else "blocked order",
    )
    return [order_line(order), fill_line(fill), event_line(event)]


ODD_LINES = (
    Text("a line far too long for the log's width, so that it has to wrap " * 2),
    Text("tab\tseparated"),
    Text("two\nlines"),
    Text(""),
    Text("right", justify="right"),
    Text("wide 価格 characters"),
    Text("styled whole line", style="bold red"),
    Text.assemble(("BUY ", "bold green"), "3 SPY ", ("filled", "bold")),
    Text("no end", end=""),
    Text("italic", style=Style(italic=True)),
)
"""Lines the fast path takes or hands back to ``write``."""


async def test_a_batch_shows_the_same_lines_as_writing_them_one_by_one() -> None:
    """The same strips, first line, widest width and size, trimmed to ``max_lines`` alike."""
    app = _LogsApp()
    async with app.run_test(size=(70, 16)) as pilot:  # narrow: lines wrap; short: they scroll
        await pilot.pause()
        slow, fast = app.query_one("#slow", RichLog), app.query_one("#fast", FastLog)
        batches = [
            [line for i in range(4) for line in _dashboard_lines(i)],
            list(ODD_LINES),
            [line for i in range(4, 12) for line in _dashboard_lines(i)],  # past max_lines
        ]
        for batch in batches:
            for line in batch:
                slow.write(line.copy())
            fast.write_lines(line.copy() for line in batch)
            await pilot.pause()
            assert fast.lines == slow.lines
            assert fast._start_line == slow._start_line
            assert fast._widest_line_width == slow._widest_line_width
            assert fast.virtual_size == slow.virtual_size
            assert fast.scroll_y == slow.scroll_y
            width = fast.scrollable_content_region.width
            for y in range(fast.size.height):
                got, want = fast.render_line(y), slow.render_line(y)
                assert list(got) == list(want), (y, width)


async def test_the_dashboards_lines_are_written_at_once_and_scroll_once() -> None:
    """Orders, fills and risk events, wrapped or not, never take ``write``'s line-by-line
    path, and a bar's lines ask for one scroll to the end, not one per line."""
    app = _LogsApp()
    async with app.run_test(size=(70, 40)) as pilot:
        await pilot.pause()
        fast = app.query_one("#fast", FastLog)
        handed_back: list[Text] = []
        scrolls: list[bool] = []
        fast.write = lambda text, **kw: handed_back.append(text)  # type: ignore[method-assign]
        original_scroll = fast.scroll_end
        fast.scroll_end = lambda **kw: scrolls.append(True) or original_scroll(**kw)  # type: ignore[method-assign]
        fast.write_lines(line for i in range(10) for line in _dashboard_lines(i))
        assert handed_back == []
        assert len(fast.lines) == 30
        assert scrolls == [True]
