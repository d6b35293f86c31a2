"""The setup form in Alpaca modes: the local market's rows (replay file, seed) give way, and
"Suspend on halt" (``--suspend-on-halt``) is a switch there, not only a settings-file key."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, Checkbox, Input, Select, Static
from tui_helpers import wait_for

from tui_trader.tui.app import make_app
from tui_trader.tui.screens.live_warning import LiveWarningScreen
from tui_trader.tui.setup_form import LIVE_PHRASE

SUSPENDS = "A halt suspends the whole account (every process) until"
NO_SUSPEND = "A halt stops only this account's sessions' new orders (no suspend)."


@pytest.fixture
def alpaca_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Alpaca credentials found (nothing is sent: no session is started)."""
    monkeypatch.setenv("APCA_API_KEY_ID", "PKTEST")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-shown")


async def _checked(pilot, setup) -> None:
    """Wait for the form's first check (it runs once the first frame is out)."""
    await wait_for(pilot, lambda: setup._checked, "the form's first check")


async def test_replay_file_and_seed_rows_show_for_local_only_and_keep_their_values(
    db_path, alpaca_keys
) -> None:
    """A replay source with no file yet, and seed 11, then Alpaca paper: the two rows are gone
    and Start is enabled (an Alpaca session trades on Alpaca's data). Before, both rows stayed,
    and the replay file's complaint kept Start disabled for a file the session never reads.
    Back to Local: the rows, their values and the complaint return."""
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        setup = app.screen
        await _checked(pilot, setup)
        setup.query_one("#data", Select).value = "replay"
        setup.query_one("#seed", Input).value = "11"
        start = setup.query_one("#start", Button)
        error = setup.query_one("#replay_file-error", Static)
        await wait_for(pilot, lambda: "choose a CSV" in str(error.render()), "the complaint")
        assert start.disabled
        setup.query_one("#mode", Select).value = "paper"
        await wait_for(pilot, lambda: not start.disabled, "Start enabled for Alpaca paper")
        for row in ("#replay_file-row", "#seed-row", "#data-row"):
            assert not setup.query_one(row).display, row
        assert setup.result.plan is not None and setup.result.plan.mode == "paper"
        setup.query_one("#mode", Select).value = "local"
        await wait_for(pilot, lambda: setup.query_one("#seed-row").display, "the seed row")
        assert setup.query_one("#replay_file-row").display
        assert setup.query_one("#seed", Input).value == "11"
        assert setup.query_one("#data", Select).value == "replay"
        assert start.disabled and "choose a CSV" in str(error.render())
        setup.query_one("#data", Select).value = "sim"
        await wait_for(pilot, lambda: not start.disabled, "Start enabled again")
        assert setup.result.plan.settings.seed == 11


async def test_tab_in_alpaca_paper_skips_the_local_rows_and_stops_on_suspend(
    db_path, alpaca_keys
) -> None:
    """Tab from Mode round to Start in Alpaca paper at 80x24: never the replay file nor the
    seed, and "Suspend on halt" right after "Flatten on halt"; every stop lies on the screen
    (the form scrolls to it)."""
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        setup = app.screen
        await _checked(pilot, setup)
        setup.query_one("#mode", Select).value = "paper"
        await wait_for(pilot, lambda: setup.query_one("#suspend-row").display, "the switch")
        setup.query_one("#mode", Select).focus()
        await wait_for(pilot, lambda: setup.focused.id == "mode", "the focus on Mode")
        stops = []
        while setup.focused.id != "start" and len(stops) < 60:
            await pilot.press("tab")
            focused = setup.focused
            stops.append(focused.id)
            await wait_for(  # the form scrolls it into view (an animation)
                pilot,
                lambda focused=focused: focused.region.y >= 1 and focused.region.bottom <= 23,
                f"{focused.id} on the screen",
            )
        assert "replay_file" not in stops and "seed" not in stops and "data" not in stops
        assert stops[stops.index("flatten") + 1] == "suspend"
        assert stops[-1] == "start"


async def test_suspend_on_halt_is_a_switch_of_alpaca_modes_carried_into_the_plan(
    db_path, alpaca_keys, tmp_path: Path
) -> None:
    """The settings file's ``suspend-on-halt`` ticks the switch; the plan carries the switch
    as the file's value was carried (unticked: no suspend). Local mode: no such row, and the
    plan does not suspend. Before, only the file could set it."""
    from tui_trader.cli.config_cmd import setup_defaults

    path = tmp_path / "desk.toml"
    path.write_text("suspend-on-halt = true\n")
    app = make_app(db_path, setup_defaults=setup_defaults(path))
    async with app.run_test(size=(80, 24)) as pilot:
        setup = app.screen
        await _checked(pilot, setup)
        assert not setup.query_one("#suspend-row").display, "nothing to suspend locally"
        assert setup.result.plan.settings.suspend_on_halt is False
        assert "suspend_on_halt" not in str(setup.query_one("#carried", Static).render())
        setup.query_one("#mode", Select).value = "paper"
        await wait_for(pilot, lambda: setup.query_one("#suspend-row").display, "the switch")
        suspend = setup.query_one("#suspend", Checkbox)
        assert suspend.value, "the settings file's"
        await wait_for(pilot, lambda: setup.result.plan is not None, "a plan")
        assert setup.result.plan.settings.suspend_on_halt is True
        suspend.value = False
        await wait_for(
            pilot, lambda: setup.result.plan.settings.suspend_on_halt is False, "no suspend"
        )


async def test_the_live_warning_follows_the_suspend_switch_and_asks_again(
    db_path, alpaca_keys
) -> None:
    """The warning says what a halt does as the switch says it; ticking it after the warning
    was confirmed shows the warning again, and cancelling that puts the switch back."""
    app = make_app(db_path, live_enabled=True, skip_readiness=True)
    async with app.run_test(size=(120, 36)) as pilot:
        setup = app.screen
        await _checked(pilot, setup)
        suspend = setup.query_one("#suspend", Checkbox)
        setup.query_one("#mode", Select).value = "live"
        await wait_for(pilot, lambda: isinstance(app.screen, LiveWarningScreen), "the warning")
        await wait_for(pilot, lambda: app.screen.focused is not None, "the warning mounted")
        assert NO_SUSPEND in str(app.screen.query_one(".dialog-text", Static).render())
        app.screen.query_one("#live-phrase", Input).value = LIVE_PHRASE
        confirm = app.screen.query_one("#live-confirm", Button)
        await wait_for(pilot, lambda: not confirm.disabled, "the confirm button")
        await pilot.click("#live-confirm")
        await wait_for(pilot, lambda: app.screen is setup, "the setup screen")
        assert setup.revalidate().plan.settings.suspend_on_halt is False
        suspend.value = True
        await wait_for(pilot, lambda: isinstance(app.screen, LiveWarningScreen), "again")
        await wait_for(pilot, lambda: app.screen.focused is not None, "the warning mounted")
        assert SUSPENDS in str(app.screen.query_one(".dialog-text", Static).render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is setup, "the setup screen")
        await wait_for(pilot, lambda: not suspend.value, "the switch put back")
        plan = setup.revalidate().plan
        assert plan is not None and plan.settings.suspend_on_halt is False, "as confirmed"
