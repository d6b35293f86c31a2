"""Live trading is hard to reach: a switch, a warning, the exact phrase, a deliberate press."""

from __future__ import annotations

import os

import pytest
from textual.widgets import Button, Checkbox, Input, Select, Static
from tui_helpers import capped_factory, wait_for

from tui_trader.tui.alpaca_status import alpaca_status
from tui_trader.tui.app import make_app
from tui_trader.tui.screens.live_warning import LiveWarningScreen
from tui_trader.tui.screens.setup import SetupScreen
from tui_trader.tui.setup_form import LIVE_PHRASE

SIZE = (120, 36)


async def _choose_live(app, pilot, warned: bool = True) -> None:
    """Pick 'Alpaca live' in the mode select; wait for the warning (or, when live is not
    enabled, for the reason next to the mode)."""
    setup = app.screen
    setup.query_one("#mode", Select).value = "live"
    if warned:
        await wait_for(pilot, lambda: isinstance(app.screen, LiveWarningScreen), "the warning")
        await wait_for(pilot, lambda: app.screen.focused is not None, "the warning's focus")
        # focused is not laid out: under load the dialog's region was still 0,0,0,0 here
        dialog = app.screen.query_one("#dialog-body")
        await wait_for(pilot, lambda: dialog.region.height > 0, "the warning laid out")
    else:
        await wait_for(
            pilot,
            lambda: "--enable-live" in str(setup.query_one("#mode-error", Static).render()),
            "the reason live is refused",
        )


async def _focus(pilot, widget) -> None:
    """Focus ``widget`` and wait until it has the focus: ``focus()`` only schedules it, and
    keys pressed before it lands go to the focused Cancel button (Enter would dismiss). Asked
    again on each look, as a user clicks a field again: under load the warning's own first focus
    (Cancel, from its mount) can land after ours, and the field then never had it in 30 s."""

    def landed() -> bool:
        if widget.has_focus:
            return True
        widget.focus()
        return False

    await wait_for(pilot, landed, f"the focus on {widget.id}")


async def test_live_is_refused_without_enable_live(db_path) -> None:
    """Without --enable-live live cannot be chosen: no warning, no Start."""
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await _choose_live(app, pilot, warned=False)
        assert isinstance(app.screen, SetupScreen)
        assert "--enable-live" in str(app.screen.query_one("#mode-error", Static).render())
        assert app.screen.query_one("#start", Button).disabled


async def test_the_live_switch_cannot_stand_in_for_enable_live(db_path) -> None:
    """A desk started without --enable-live (the terminal's, or each desk ``serve`` starts for
    a browser) had an "Enable live trading" switch a click turned on: then 'Alpaca live', the
    phrase, and real money, with no flag typed anywhere. The switch now stays off and cannot
    be turned on; set on some other way, it still lets nothing through."""
    app = make_app(db_path, skip_readiness=True)
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        switch = setup.query_one("#enable-live", Checkbox)
        await pilot.click("#enable-live")
        await pilot.pause()
        assert not switch.value
        assert "--enable-live" in str(switch.label)
        switch.value = True  # whatever sets it, the flag is what counts
        await pilot.pause()
        await _choose_live(app, pilot, warned=False)
        assert app.screen is setup and not setup.live_confirmed
        assert setup.query_one("#start", Button).disabled


async def test_each_live_session_asks_for_the_phrase_again(db_path, paced, monkeypatch) -> None:
    """A live session confirmed with the phrase, run and stopped; back on setup (f4), Enter on
    the focused Start started a second live session with no warning and no phrase: one
    confirmation stood for every live session of the desk. The next Start now shows the
    warning again, and nothing starts until the phrase is typed anew."""
    monkeypatch.setenv("APCA_API_KEY_ID", "PKTESTKEY123")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "zz-test-secret-4e1b9")
    built = []
    capped = capped_factory(db_path, paced, 2, mode="live")

    def factory():
        built.append(1)
        return capped()

    app = make_app(
        db_path,
        clock=paced,
        every=0.05,
        iterations=2,
        live_enabled=True,
        skip_readiness=True,
        session_factory=factory,
    )
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        await _choose_live(app, pilot)
        app.screen.query_one("#live-phrase", Input).value = LIVE_PHRASE
        confirm = app.screen.query_one("#live-confirm", Button)
        await wait_for(pilot, lambda: not confirm.disabled, "the confirm button enabled")
        await pilot.click("#live-confirm")
        await wait_for(pilot, lambda: app.screen is setup, "the setup screen")
        await wait_for(pilot, lambda: not setup.query_one("#start", Button).disabled, "Start")
        setup.query_one("#start", Button).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: built and not app.running, "the live session to end")
        await pilot.press("f4")
        await wait_for(pilot, lambda: app.screen is setup, "setup again")
        setup.query_one("#start", Button).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LiveWarningScreen), "the warning")
        assert len(built) == 1 and not app.running
        await pilot.press("escape")  # cancelled: still one session
        await wait_for(pilot, lambda: app.screen is setup, "the setup screen")
        assert len(built) == 1 and not app.running


async def test_enter_on_the_warning_does_not_go_live(db_path) -> None:
    """Cancel is focused: Enter cancels, the mode goes back to local."""
    app = make_app(db_path, live_enabled=True)
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        await _choose_live(app, pilot)
        assert isinstance(app.screen, LiveWarningScreen)
        assert app.screen.focused is app.screen.query_one("#live-cancel", Button)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is setup, "the setup screen")
        assert not setup.live_confirmed
        await wait_for(pilot, lambda: setup.query_one("#mode", Select).value == "local", "local")


async def test_wrong_phrase_and_enter_in_the_field_do_not_go_live(db_path) -> None:
    """A near-miss phrase leaves confirm disabled; even the right phrase + Enter does nothing."""
    app = make_app(db_path, live_enabled=True, skip_readiness=True)
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        await _choose_live(app, pilot)
        warning = app.screen
        await _focus(pilot, warning.query_one("#live-phrase"))
        await pilot.press(*"yes i understand", "enter")
        assert warning.query_one("#live-confirm", Button).disabled
        assert app.screen is warning
        warning.query_one("#live-phrase").value = ""
        await pilot.press(*LIVE_PHRASE, "enter")
        await pilot.pause()
        assert not warning.query_one("#live-confirm", Button).disabled
        assert app.screen is warning and not setup.live_confirmed
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is setup, "the setup screen")
        await wait_for(pilot, lambda: setup.query_one("#mode", Select).value == "local", "local")


async def test_enter_on_the_confirm_button_works_only_with_the_exact_phrase(db_path) -> None:
    """What docs/tui.md says: without the phrase the confirm button cannot take the focus (Tab
    skips it); with the exact phrase, Enter on the focused button confirms."""
    app = make_app(db_path, live_enabled=True, skip_readiness=True)
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        await _choose_live(app, pilot)
        warning = app.screen
        await _focus(pilot, warning.query_one("#live-phrase"))
        await pilot.press(*"YES I UNDERSTAN")
        await pilot.press("tab", "tab")
        assert warning.focused is not warning.query_one("#live-confirm", Button)
        await pilot.press("enter")
        await pilot.pause()
        assert not setup.live_confirmed
        app.screen.query_one("#live-phrase").value = ""
        await _focus(pilot, app.screen.query_one("#live-phrase"))
        await pilot.press(*LIVE_PHRASE)
        confirm = app.screen.query_one("#live-confirm", Button)
        await wait_for(pilot, lambda: not confirm.disabled, "the confirm button enabled")
        await _focus(pilot, confirm)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is setup, "the setup screen")
        assert setup.live_confirmed


async def test_confirmed_live_without_credentials_cannot_start(db_path) -> None:
    """The phrase and the button accept the warning; with no keys found, Start stays off and
    the reason is next to the mode."""
    app = make_app(db_path, live_enabled=True, skip_readiness=True)
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        await _choose_live(app, pilot)
        warning = app.screen
        warning.query_one("#live-phrase").value = LIVE_PHRASE
        confirm = warning.query_one("#live-confirm", Button)
        await wait_for(pilot, lambda: not confirm.disabled, "the confirm button enabled")
        await pilot.click("#live-confirm")
        await wait_for(pilot, lambda: app.screen is setup, "the setup screen")
        assert setup.live_confirmed
        assert "no credentials found" in str(setup.query_one("#mode-error", Static).render())
        assert setup.query_one("#start", Button).disabled
        assert "api.alpaca.markets" in str(setup.query_one("#alpaca-status", Static).render())


async def test_a_dotenv_that_cannot_be_read_is_said_beside_the_mode(
    db_path, tmp_path, monkeypatch
) -> None:
    """Alpaca paper chosen with a binary ``.env`` beside the desk: the setup screen's check
    raised ``ConfigError`` in its handler, which ended the desk with a traceback. Now the
    reason is next to the mode, Start stays off and the desk is still on its setup screen."""
    for name in [n for n in os.environ if n.startswith("APCA_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_bytes(b"\xff\xfe\x00 not text")
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        setup.query_one("#mode", Select).value = "paper"
        error = setup.query_one("#mode-error", Static)
        await wait_for(pilot, lambda: "not a text file" in str(error.render()), "the reason")
        assert setup.query_one("#start", Button).disabled
        assert app.is_running and app.screen is setup


def test_credentials_are_found_but_the_secret_never_shown(tmp_path) -> None:
    """The status names the key's first letters and the URL, never the secret."""
    env = {"APCA_API_KEY_ID": "PKTESTKEY123", "APCA_API_SECRET_KEY": "s3cr3t-value"}
    line = alpaca_status("paper", env, tmp_path / ".env").describe()
    assert "PKTE…" in line and "paper-api.alpaca.markets" in line
    assert "s3cr3t" not in line and "PKTESTKEY123" not in line
    (tmp_path / ".env").write_text("APCA_API_KEY_ID=PKFILE99\nAPCA_API_SECRET_KEY=x\n")
    line = alpaca_status("live", {}, tmp_path / ".env").describe()
    assert ".env file" in line and "https://api.alpaca.markets" in line


async def _warning_shown(app, pilot) -> None:
    """Wait for the live warning to be on the screen, mounted (its Cancel has the focus)."""
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, LiveWarningScreen) and app.screen.focused is not None,
        "the warning",
    )


async def _confirm_warning(app, pilot, setup) -> None:
    """Type the phrase on the open live warning and press its confirm button."""
    await _warning_shown(app, pilot)
    warning = app.screen
    warning.query_one("#live-phrase").value = LIVE_PHRASE
    confirm = warning.query_one("#live-confirm", Button)
    await wait_for(pilot, lambda: not confirm.disabled, "the confirm button enabled")
    await pilot.click("#live-confirm")
    await wait_for(pilot, lambda: app.screen is setup, "the setup screen")


async def test_adopting_positions_is_said_on_the_live_warning_and_asked_again(
    db_path, monkeypatch
) -> None:
    """Adopting positions changes what a live desk may trade, so the real-money warning says
    whether it is on; ticking it after the warning was confirmed shows the warning again (ON),
    and cancelling that puts the switch back, the earlier confirmation standing. A live plan
    carries the choice only as confirmed."""
    monkeypatch.setenv("APCA_API_KEY_ID", "PKTEST")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-shown")
    app = make_app(db_path, live_enabled=True, skip_readiness=True)
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        await _choose_live(app, pilot)
        text = str(app.screen.query_one(".dialog-text", Static).render())
        assert "Adopt positions: off" in text
        await _confirm_warning(app, pilot, setup)
        assert setup.revalidate().plan.adopt_positions is False
        adopt = setup.query_one("#adopt", Checkbox)
        adopt.value = True
        await _warning_shown(app, pilot)
        text = str(app.screen.query_one(".dialog-text", Static).render())
        assert "Adopt positions: ON" in text and "it may sell them" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is setup, "the setup screen")
        await wait_for(pilot, lambda: not adopt.value, "the switch put back")
        assert setup.revalidate().plan.adopt_positions is False
        adopt.value = True
        await _warning_shown(app, pilot)
        await _confirm_warning(app, pilot, setup)
        assert setup.revalidate().plan.adopt_positions is True


async def test_the_live_warning_names_limits_typed_with_their_percent_sign(db_path) -> None:
    """The form takes '20%' as 20 (as the command line does); the real-money warning read the
    field with float() alone, found no number and named the default 5% over a session that
    would run with a 20% kill switch."""
    app = make_app(db_path, live_enabled=True)
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#max_drawdown", Input).value = "20%"
        await _choose_live(app, pilot)
        warning = app.screen
        assert warning.limits.max_drawdown_pct == 20.0
        shown = "\n".join(str(w.render()) for w in warning.query(Static))
        assert "max drawdown 20%" in shown, shown


async def test_the_live_warning_fits_at_80x24_with_the_desk_bar_and_footer_seen(db_path) -> None:
    """At 80x24 the warning's bottom border ran into the footer (two rows too tall); now the
    whole dialog, with the paper record's verdict, lies between the desk bar and the footer."""
    app = make_app(db_path, live_enabled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await _choose_live(app, pilot)
        body = app.screen.query_one("#dialog-body").region
        assert body.y >= 1 and body.bottom <= 23, body
        assert "paper record" in str(app.screen.query_one(".dialog-text", Static).render())


@pytest.mark.parametrize(
    ("file", "said"),
    [
        ("suspend-on-halt = true\n", "A halt suspends the whole account (every process) until"),
        ("", "A halt stops only this account's sessions' new orders (no suspend)."),
    ],
)
async def test_the_live_warning_says_what_a_halt_does_to_the_account(
    db_path, tmp_path, monkeypatch, file: str, said: str
) -> None:
    """The settings file's ``suspend-on-halt`` decides whether a halt suspends trading on the
    whole Alpaca account (every process, until re-armed) or stops only this account's sessions'
    new orders; the warning said neither. Now it says which, and at 80x24 the tallest warning
    (positions adopted, the gate skipped) still lies between the desk bar and the footer."""
    from tui_trader.cli.config_cmd import setup_defaults

    monkeypatch.setenv("APCA_API_KEY_ID", "PKTEST")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-shown")
    path = tmp_path / "desk.toml"
    path.write_text(file + "adopt-positions = true\n")
    app = make_app(
        db_path, live_enabled=True, skip_readiness=True, setup_defaults=setup_defaults(path)
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await _choose_live(app, pilot)
        text = str(app.screen.query_one(".dialog-text", Static).render())
        assert said in text, text
        assert "Adopt positions: ON" in text and "going on anyway" in text
        body = app.screen.query_one("#dialog-body").region
        assert body.y >= 1 and body.bottom <= 23, body
        assert app.screen.query_one("#live-phrase", Input).region.bottom <= 23


async def test_the_live_warning_says_the_limits_are_of_the_equity_cap(db_path, tmp_path) -> None:
    """With an equity cap typed (the cash field in Alpaca modes, ``--start-cash``), every
    percentage limit is of the desk's cap, not of the whole account (``risk.gate``): the warning
    says so, and its tallest form (positions adopted, a suspend on halt, the gate skipped) still
    lies between the desk bar and the footer at 80x24. Before, it said "of equity" alone."""
    from tui_trader.cli.config_cmd import setup_defaults

    path = tmp_path / "desk.toml"
    path.write_text("adopt-positions = true\nsuspend-on-halt = true\n")
    app = make_app(
        db_path, live_enabled=True, skip_readiness=True, setup_defaults=setup_defaults(path)
    )
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.query_one("#mode", Select).value = "paper"
        await pilot.pause()
        app.screen.query_one("#start_cash", Input).value = "10000"
        await _choose_live(app, pilot)
        text = str(app.screen.query_one(".dialog-text", Static).render())
        assert "Active limits, in % of the desk's $10,000.00 equity cap" in text, text
        body = app.screen.query_one("#dialog-body").region
        assert body.y >= 1 and body.bottom <= 23, body
        assert app.screen.query_one("#live-phrase", Input).region.bottom <= 23


async def test_limits_edited_after_the_warning_are_named_again_before_live_starts(
    db_path, monkeypatch
) -> None:
    """The real-money warning names the limits and the equity cap the session will run with.
    Edited after it was confirmed (a 5% kill switch made 50%, a cap typed), Start went live on
    the new terms without a word; now Start shows the warning again with them, and only its
    confirmation starts the session."""
    monkeypatch.setenv("APCA_API_KEY_ID", "PKTEST")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-shown")
    app = make_app(db_path, live_enabled=True, skip_readiness=True)
    started = []
    async with app.run_test(size=SIZE) as pilot:
        monkeypatch.setattr(app, "start_plan", started.append)
        setup = app.screen
        await _choose_live(app, pilot)
        await _confirm_warning(app, pilot, setup)
        setup.query_one("#max_drawdown", Input).value = "50"
        setup.query_one("#start_cash", Input).value = "10000"
        await pilot.pause()
        setup.action_start()
        await _warning_shown(app, pilot)
        text = str(app.screen.query_one(".dialog-text", Static).render())
        assert "max drawdown 50%" in text and "$10,000.00 equity cap" in text, text
        assert started == [], "went live before the new terms were confirmed"
        await _confirm_warning(app, pilot, setup)
        await wait_for(pilot, lambda: started, "the live session started")
        (plan,) = started
        assert plan.mode == "live" and plan.settings.limits.max_drawdown_pct == 50.0
        assert plan.settings.capital == 10_000.0
        setup.action_start()  # the same terms again: one confirmation, one live session
        await _warning_shown(app, pilot)
        assert len(started) == 1
