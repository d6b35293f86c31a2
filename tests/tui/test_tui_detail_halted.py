"""ctrl+k over an order's detail at 80x24: the desk bar saying HALTED stays in sight.

The detail took 90% of the screen's height, centred: at 80x24 it left row 0 free for the desk
bar. The kill switch's red frame moves the screen behind one row down, and the detail then
covered the desk bar: after the flatten question the trader saw the order and a red edge, no
HALTED nor mode badge. It now keeps two rows free above and below, and fits 80 columns.
"""

from __future__ import annotations

from textual.widgets import DataTable
from tui_helpers import asking, capped_desk, start_capped, wait_for

from tui_trader.tui.screens.history import HistoryScreen
from tui_trader.tui.screens.order_detail import OrderDetailScreen
from tui_trader.tui.widgets.desk_footer import DeskFooter
from tui_trader.tui.widgets.deskbar import DeskBar

BARS = 30


async def test_the_halted_desk_bar_shows_above_an_order_s_detail(db_path, paced) -> None:
    app = capped_desk(db_path, paced, BARS)
    async with app.run_test(size=(80, 24)) as pilot:
        await start_capped(pilot, app, BARS)
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "history")
        history = app.screen
        await wait_for(pilot, lambda: history.loaded == history.seq and history.rows, "orders")
        history.query_one("#history-table", DataTable).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, OrderDetailScreen), "the detail")
        detail = app.screen
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: asking(app), "the flatten question")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is detail, "the detail again")
        bar = history.query_one(DeskBar)
        body = detail.query_one("#order-detail")
        await wait_for(pilot, lambda: bar.region.y == 1, "the red frame (the bar one row down)")
        await wait_for(pilot, lambda: "HALTED" in str(bar.render()), "HALTED in the bar")
        assert not body.region.overlaps(bar.region), (body.region, bar.region)
        assert not body.region.overlaps(history.query_one(DeskFooter).region)
        assert body.region.right <= 80
        app.handle.stop()
