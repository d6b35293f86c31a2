"""Keys are discoverable: every binding has an id and a tooltip, help lists them, the command
palette offers the main actions, and the kill switch is remappable by its id."""

from __future__ import annotations

from textual.binding import Binding
from tui_helpers import wait_for

from tui_trader.tui.app import TraderApp, make_app
from tui_trader.tui.screens.confirm import ConfirmScreen
from tui_trader.tui.screens.dashboard import DashboardScreen
from tui_trader.tui.screens.help import HelpScreen
from tui_trader.tui.screens.history import HistoryScreen
from tui_trader.tui.screens.live_warning import LiveWarningScreen
from tui_trader.tui.screens.order_detail import OrderDetailScreen
from tui_trader.tui.screens.setup import SetupScreen

CLASSES = (
    TraderApp, SetupScreen, DashboardScreen, HistoryScreen, HelpScreen, ConfirmScreen,
    LiveWarningScreen, OrderDetailScreen,
)  # fmt: skip


def test_every_binding_has_an_id_and_a_tooltip() -> None:
    """Ids make keys remappable; tooltips explain them in the footer."""
    for cls in CLASSES:
        for binding in cls.__dict__.get("BINDINGS", []):
            assert isinstance(binding, Binding), cls
            assert binding.id and binding.tooltip, f"{cls.__name__}: {binding.key}"
    kill = next(b for b in TraderApp.BINDINGS if b.id == "kill-switch")
    assert kill.key == "ctrl+k" and kill.priority


async def test_help_and_palette_list_the_kill_switch(db_path) -> None:
    """F1 shows the keys; the palette's commands include the kill switch and history."""
    app = make_app(db_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "ctrl+k" in text and "KILL SWITCH" in text
        await pilot.press("escape")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Kill switch", "Resume trading", "History", "New session"} <= set(titles)


async def test_the_kill_switch_can_be_remapped(db_path) -> None:
    """A keymap entry for the binding id moves the kill switch to another key."""
    app = make_app(db_path)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        app.set_keymap({"kill-switch": "ctrl+x"})
        await pilot.press("ctrl+x")
        await pilot.pause()
        assert any("nothing to halt" in n.message for n in app._notifications)


async def test_the_keys_help_lists_as_everywhere_work_from_the_help(db_path) -> None:
    """The help says f2/f3/f12 and ctrl+r work everywhere; in the help itself they did nothing
    (a modal screen holds back the app's keys): F1 then F12 left the help open on history."""
    from tui_trader.tui.screens.fleet import FleetScreen

    app = make_app(db_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "history")
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        await pilot.press("f12")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), "the fleet")
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the help again")
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "history again")
        assert not any(isinstance(s, HelpScreen) for s in app.screen_stack)
