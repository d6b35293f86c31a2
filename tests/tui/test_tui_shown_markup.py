"""The desk shows stored and typed text as written, never as markup.

A shared store's account keys, hosts, halt reasons and rationales, a broker's error text and a
typed symbol reach the desk's notices, its yes/no questions and the order detail. Textual and
rich read ``[bold]x`` as a style, ``[link=...]`` as a link, ``[@click=...]`` as an action, and a
closing tag that matches nothing (``[/]``, ``[/bold]``) raised ``MarkupError``, which ended the
desk. Each is now shown with its square brackets.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from textual.widgets import Static
from tui_helpers import wait_for

from tui_trader.tui.app import make_app
from tui_trader.tui.screens.confirm import ConfirmScreen
from tui_trader.tui.screens.order_detail import OrderDetailScreen

SIZE = (120, 36)
HOSTILE = "acct[/bold] [bold]x[/] [@click=app.quit]q [link=https://evil.example]y"


def _shown(app) -> str:
    """Every Static's text on the current screen, as one string."""
    return "\n".join(str(w.render()) for w in app.screen.query(Static))


async def test_a_notice_quoting_stored_text_shows_it_as_written(db_path) -> None:
    app = make_app(db_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.screen.notify(f"Already halted: {HOSTILE}.", severity="warning")
        await wait_for(pilot, lambda: bool(app.screen.query("Toast")), "the notice")
        await pilot.pause()
        toasts = [str(t.render()) for t in app.screen.query("Toast")]
        assert any(f"Already halted: {HOSTILE}." in t for t in toasts), toasts
        assert app.is_running


async def test_a_question_quoting_stored_text_shows_it_as_written(db_path) -> None:
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ConfirmScreen(f"Halt account {HOSTILE}?", f"Every session on {HOSTILE}"))
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await wait_for(pilot, lambda: f"Every session on {HOSTILE}" in _shown(app), "as written")
        assert f"Halt account {HOSTILE}?" in _shown(app)
        assert app.is_running


async def test_an_order_detail_shows_its_stored_words_as_written(db_path) -> None:
    app = make_app(db_path)
    detail = {"id": 7, "symbol": "SPY", "error": HOSTILE, "rationale": f"why: {HOSTILE}"}
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(OrderDetailScreen(detail))
        await wait_for(pilot, lambda: isinstance(app.screen, OrderDetailScreen), "the detail")
        await pilot.pause()
        assert f"why: {HOSTILE}" in _shown(app)
        grid = next(w for w in app.screen.query(Static) if isinstance(w.content, Table))
        console = Console(width=300, file=io.StringIO())
        console.print(grid.content)
        assert HOSTILE in console.file.getvalue()  # the error field's cell
        assert app.is_running
