"""The real-money warning shown again when "adopt positions" or "suspend on halt" change after
it was confirmed: one warning at a time, however fast the switches change, and what is
confirmed last is what the form says.

Before: every change's event read the switches as they were when the desk handled it, and each
showed a warning of its own. A switch ticked, unticked and ticked again faster than the desk
handled the events (a cancel's put-back followed at once by a new tick, on a loaded machine)
stacked three warnings: the one confirmed uncovered the next. A switch changed while the
warning was open stacked a second one over it; confirmed in turn, the one underneath, naming
the older switches, was the confirmation kept, and the form no longer matched it.
"""

from __future__ import annotations

from textual.widgets import Button, Checkbox, Select, Static
from tui_helpers import messages_handled, wait_for

from tui_trader.tui.app import make_app
from tui_trader.tui.screens.live_warning import LiveWarningScreen
from tui_trader.tui.setup_form import LIVE_PHRASE

SIZE = (120, 36)


def _warnings(app) -> int:
    """How many live warnings are open (on the screen stack)."""
    return sum(isinstance(screen, LiveWarningScreen) for screen in app.screen_stack)


async def _confirm(app, pilot) -> str:
    """Wait for the live warning, then type the phrase and press confirm; returns its text."""
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, LiveWarningScreen) and app.screen.focused is not None,
        "the warning",
    )
    warning = app.screen
    text = str(warning.query_one(".dialog-text", Static).render())
    warning.query_one("#live-phrase").value = LIVE_PHRASE
    confirm = warning.query_one("#live-confirm", Button)
    await wait_for(pilot, lambda: not confirm.disabled, "the confirm button enabled")
    confirm.press()
    await wait_for(pilot, lambda: app.screen is not warning, "the warning answered")
    return text


async def _live_confirmed(app, pilot, monkeypatch):
    """The setup screen with 'Alpaca live' chosen and its warning confirmed."""
    monkeypatch.setenv("APCA_API_KEY_ID", "PKTEST")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-shown")
    setup = app.screen
    setup.query_one("#mode", Select).value = "live"
    await _confirm(app, pilot)
    await wait_for(pilot, lambda: app.screen is setup, "the setup screen")
    assert setup.live_confirmed and setup.revalidate().plan is not None
    return setup


async def test_a_switch_flipped_faster_than_the_desk_shows_one_warning(
    db_path, monkeypatch
) -> None:
    """Adopt ticked, unticked and ticked again before the desk handles the first change: one
    warning (adopting ON); confirmed, the form is back, the plan adopts positions."""
    app = make_app(db_path, live_enabled=True, skip_readiness=True)
    async with app.run_test(size=SIZE) as pilot:
        setup = await _live_confirmed(app, pilot, monkeypatch)
        adopt = setup.query_one("#adopt", Checkbox)
        adopt.value = True  # three changes queued before any is handled
        adopt.value = False
        adopt.value = True
        await messages_handled(pilot, adopt, "every queued change handled")
        assert _warnings(app) == 1
        assert "Adopt positions: ON" in await _confirm(app, pilot)
        assert app.screen is setup and _warnings(app) == 0
        plan = setup.revalidate().plan
        assert plan is not None and plan.adopt_positions is True


async def test_a_switch_changed_under_the_open_warning_is_asked_after_it(
    db_path, monkeypatch
) -> None:
    """Suspend-on-halt changed while the warning for adopting is open: after that warning is
    confirmed, the warning comes again naming the suspend too; confirmed, the live plan
    carries both, as the form shows them."""
    app = make_app(db_path, live_enabled=True, skip_readiness=True)
    async with app.run_test(size=SIZE) as pilot:
        setup = await _live_confirmed(app, pilot, monkeypatch)
        setup.query_one("#adopt", Checkbox).value = True
        await wait_for(pilot, lambda: isinstance(app.screen, LiveWarningScreen), "the warning")
        suspend = setup.query_one("#suspend", Checkbox)
        suspend.value = True  # under the open warning
        await messages_handled(pilot, suspend, "the change under the warning handled")
        assert _warnings(app) == 1
        first = await _confirm(app, pilot)
        assert "A halt suspends" not in first
        second = await _confirm(app, pilot)
        assert "Adopt positions: ON" in second and "A halt suspends the whole account" in second
        await wait_for(pilot, lambda: app.screen is setup, "the setup screen")
        assert _warnings(app) == 0
        plan = setup.revalidate().plan
        assert plan is not None and plan.adopt_positions is True
        assert plan.settings.suspend_on_halt is True
