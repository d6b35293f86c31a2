"""The desk's "Alpaca live" passes the paper-to-live gate of ``live trading``.

Before, the desk let a trader pick Alpaca live, type the phrase and trade real money with no
paper record at all, while ``live trading`` refused that (exit 1) unless ``--skip-readiness``
was typed. Now the live warning shows the verdict, a store that is not ready refuses (the rule
and the way to skip it said), a ready record or the desk's ``--skip-readiness`` lets it start,
and the skip is written as the same ``readiness_skipped`` risk event.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Select, Static
from tui_helpers import desk_threads_done, scalar, wait_for

from tests.integration.alpaca_helpers import alpaca_session, sandbox_env, settle
from tests.integration.paper_record import write_paper_record
from tui_trader.cli.config_cmd import setup_defaults
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox
from tui_trader.tui.app import make_app
from tui_trader.tui.screens.live_warning import LiveWarningScreen
from tui_trader.tui.setup_form import LIVE_PHRASE

SIZE = (120, 36)
RALLY = {"SPY": 1.0, "QQQ": 1.0, "IWM": 1.0}
LIVE_SESSIONS = "SELECT count(*) FROM sessions WHERE mode = 'live'"
SKIPPED = "SELECT account_key, detail FROM live_risk_events WHERE event_type = 'readiness_skipped'"


def _sandbox_record(sb: SandboxHandle, db: Path, cycles: int = 12) -> str:
    """Trade the sandbox's paper account through a rally its admin API pushed (a record that
    must not count: the sandbox is not Alpaca's paper market); its account key."""
    session = alpaca_session(sb, db, learning=LearningSettings("trend"))
    for n in range(cycles):
        sb.admin.step(shock=RALLY if n < 8 else None)
        session.run_iteration()
    settle(sb, session)
    session.finish("completed")
    session.broker.close()
    return session.account_key


async def _warning(app, pilot) -> str:
    """Choose Alpaca live; the warning's text once it is up."""
    app.screen.query_one("#mode", Select).value = "live"
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, LiveWarningScreen) and app.screen.focused is not None,
        "the live warning",
    )
    return str(app.screen.query_one(".dialog-text", Static).render())


async def _confirm_and_start(app, pilot, then=None) -> None:
    """Type the phrase, press confirm, (``then``, on the setup screen), then Start."""
    warning = app.screen
    warning.query_one("#live-phrase", Input).value = LIVE_PHRASE
    confirm = warning.query_one("#live-confirm", Button)
    await wait_for(pilot, lambda: not confirm.disabled, "the confirm button enabled")
    await pilot.click("#live-confirm")
    await wait_for(pilot, lambda: not isinstance(app.screen, LiveWarningScreen), "setup again")
    if then is not None:
        await then()
    start = app.screen.query_one("#start", Button)
    # a Button ignores clicks for 0.2 s after a press ("-active"): ``then`` may have pressed it
    await wait_for(
        pilot, lambda: not start.disabled and not start.has_class("-active"), "Start enabled"
    )
    await pilot.click("#start")


async def test_a_store_with_no_paper_record_refuses_live_at_the_desk(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No paper record: the warning says REFUSED, the rule that failed and how to skip; the
    phrase cannot be typed, the confirm button does nothing even pressed, and Escape goes back
    to a local form. On main the phrase and the button started real-money trading."""
    monkeypatch.setenv("APCA_API_KEY_ID", "PKTEST")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-shown")
    app = make_app(db_path, live_enabled=True)
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        text = await _warning(app, pilot)
        assert "REFUSED, live trading cannot start: the paper record is not ready: no " in text
        assert "Alpaca paper sessions in this database" in text
        assert "start the desk with --skip-readiness" in text
        warning = app.screen
        phrase = warning.query_one("#live-phrase", Input)
        assert phrase.disabled and not phrase.display
        phrase.value = LIVE_PHRASE  # typed some other way: still nothing
        confirm = warning.query_one("#live-confirm", Button)
        await pilot.pause()
        assert confirm.disabled
        confirm.disabled = False
        confirm.press()
        await pilot.pause()
        assert app.screen is warning and not setup.live_confirmed
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is setup, "the setup screen")
        await wait_for(pilot, lambda: setup.query_one("#mode", Select).value == "local", "local")
        assert not app.running
    assert scalar(db_path, LIVE_SESSIONS) == 0


async def test_a_ready_paper_record_lets_the_desk_go_live_and_the_files_bar_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """12 cycles through a rally on the sandbox refuse live, saying the sandbox's session does
    not count (on main: ready, and the desk went live on a rally anyone can push there). A
    record on Alpaca's paper host (written as such a session writes it): the warning says
    ready and the live session starts, with no skip recorded. The settings file's
    ``min-iterations = 50`` (as ``live trading`` reads it) refuses that record, naming the
    shortfall."""
    db = tmp_path / "desk.db"
    with running_sandbox() as sb:
        for name, value in sandbox_env(sb).items():
            monkeypatch.setenv(name, value)
        _sandbox_record(sb, db)
        app = make_app(db, live_enabled=True)
        async with app.run_test(size=SIZE) as pilot:
            text = " ".join((await _warning(app, pilot)).split())
            assert "REFUSED, live trading cannot start: the paper record is not ready: no " in text
            assert f"1 session on another host ({sb.base_url}) does not count" in text
            assert app.screen.query_one("#live-phrase", Input).disabled
        account = write_paper_record(db)
        path = tmp_path / "desk.toml"
        path.write_text("min-iterations = 50\n")
        app = make_app(db, live_enabled=True, setup_defaults=setup_defaults(path))
        async with app.run_test(size=SIZE) as pilot:
            text = await _warning(app, pilot)
            assert f"not ready: {account}: 12 iterations, at least 50 needed" in text
            assert app.screen.query_one("#live-phrase", Input).disabled
        app = make_app(db, live_enabled=True, iterations=0, every=0.05)
        async with app.run_test(size=SIZE) as pilot:
            setup = app.screen
            field = setup.query_one("#db", Input)
            text = await _warning(app, pilot)
            assert f"Paper record: ready (paper record of {account})" in text

            async def other_store_then_back() -> None:
                """Start with the Database field on a store with no record: refused at Start
                (the gate is asked again there), nothing starts; then the ready store again."""
                field.value = str(tmp_path / "other.db")
                start = setup.query_one("#start", Button)
                await wait_for(pilot, lambda: not start.disabled, "Start enabled")
                await pilot.click("#start")
                await wait_for(
                    pilot,
                    lambda: any("REFUSED" in str(n.message) for n in app._notifications),
                    "the refusal",
                )
                assert app.screen is setup and not app.running
                field.value = str(db)

            await _confirm_and_start(app, pilot, other_store_then_back)
            await wait_for(pilot, lambda: scalar(db, LIVE_SESSIONS) == 1, "the live session")
            assert app.running and not app.last_error
            app.exit()
        await desk_threads_done()
    assert scalar(db, SKIPPED) is None


async def test_the_desk_started_with_skip_readiness_goes_live_and_records_the_skip(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No paper record, the desk started with ``--skip-readiness``: the warning says so, the
    session starts, and the skip is the ``readiness_skipped`` risk event of the live account
    with the verdict, as ``live trading --skip-readiness`` writes it."""
    with running_sandbox() as sb:
        for name, value in sandbox_env(sb).items():
            monkeypatch.setenv(name, value)
        app = make_app(db_path, live_enabled=True, skip_readiness=True, iterations=0, every=0.05)
        async with app.run_test(size=SIZE) as pilot:
            text = await _warning(app, pilot)
            assert "Paper record not ready: no Alpaca paper sessions" in text
            assert "--skip-readiness: going on anyway, written as a risk event" in text
            await _confirm_and_start(app, pilot)
            await wait_for(pilot, lambda: isinstance(scalar(db_path, SKIPPED), str), "the skip")
            assert app.running and not app.last_error
            app.exit()
        await desk_threads_done()
    account = scalar(db_path, "SELECT account_key FROM sessions WHERE mode = 'live'")
    assert isinstance(account, str) and account.startswith("alpaca:")
    assert scalar(db_path, SKIPPED.replace("account_key, detail", "account_key")) == account
    detail = scalar(db_path, SKIPPED.replace("account_key, detail", "detail"))
    assert str(detail).startswith("not ready: no Alpaca paper sessions")


def test_skip_readiness_is_a_desk_option_next_to_enable_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``tui-trader --enable-live --skip-readiness`` opens the desk with the skip; without it
    the desk has none (a settings file cannot set it: ``config_file.COMMAND_LINE_ONLY``)."""
    from tui_trader.cli import main
    from tui_trader.tui import app as app_module

    opened: list[tuple[bool, bool]] = []

    class NoRun:
        def run(self) -> None:
            """Nothing."""

    def fake(db, live_enabled=False, skip_readiness=False, **_):
        opened.append((live_enabled, skip_readiness))
        return NoRun()

    monkeypatch.setattr(app_module, "make_app", fake)
    db = str(tmp_path / "d.db")
    assert main(["--db", db, "--enable-live", "--skip-readiness"]) == 0
    assert main(["--db", db, "--enable-live"]) == 0
    assert opened == [(True, True), (True, False)]


async def test_a_served_desk_started_with_skip_readiness_offers_live_with_the_gate_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve --enable-live --skip-readiness``: the command line ``serve`` gives textual-serve
    for each browser's desk carries both flags, and the desk it opens offers Alpaca live with
    the gate skipped, as the terminal desk started so. Before, ``serve`` had no
    ``--skip-readiness`` (exit 2), so a browser's desk could never take the documented way
    around the gate."""
    from tui_trader.cli import main
    from tui_trader.tui import app as app_module
    from tui_trader.web import guarded_server

    monkeypatch.chdir(tmp_path)  # no settings file of the machine's
    monkeypatch.setenv("APCA_API_KEY_ID", "PKTEST")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-shown")
    db = tmp_path / "served.db"
    commands: list[str] = []

    class Served:
        """Keeps the desk command instead of listening."""

        def __init__(self, command: str, *_args) -> None:
            commands.append(command)

        def serve(self) -> None:
            """Nothing."""

    monkeypatch.setattr(guarded_server, "GuardedServer", Served)
    assert main(["serve", "--enable-live", "--skip-readiness", "--db", str(db)]) == 0
    words = shlex.split(commands[0])
    assert words[:4] == ["exec", sys.executable, "-m", "tui_trader"]
    opened = []
    real = app_module.make_app

    class Kept:
        def run(self) -> None:
            """Nothing: the test runs the app it kept."""

    def keep(*args, **kwargs):
        opened.append(real(*args, **kwargs))
        return Kept()

    monkeypatch.setattr(app_module, "make_app", keep)
    assert main(words[4:]) == 0  # the desk process's own command line, as it would parse it
    app = opened[0]
    async with app.run_test(size=SIZE) as pilot:
        text = await _warning(app, pilot)
        assert "Paper record not ready: no Alpaca paper sessions" in text
        assert "--skip-readiness: going on anyway, written as a risk event" in text
        phrase = app.screen.query_one("#live-phrase", Input)
        assert not phrase.disabled and phrase.display


@pytest.mark.parametrize("command", [[], ["serve"]])
def test_skip_readiness_without_enable_live_is_refused(tmp_path: Path, command: list[str]) -> None:
    """``--skip-readiness`` alone would skip nothing (live cannot be chosen): one line, exit 2,
    from the desk and from ``serve`` alike; nothing listens, no desk opens."""
    from tests.integration.cli_helpers import run_cli

    done = run_cli(tmp_path, *command, "--skip-readiness", "--db", str(tmp_path / "d.db"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "needs --enable-live" in done.stderr
    assert not (tmp_path / "d.db").exists()
