"""An Alpaca session that cannot start is "not started", not a failed session that halts.

The desk's Alpaca start checks the account and the symbols before anything is written; what it
refuses (a symbol Alpaca does not have, a suspended account, a key whose requests stay spent)
is the user's to fix on the setup screen. It used to reach the trading worker's crash path: a
HALTED banner with "session_error: the trading worker failed" over a session that never ran.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from textual.widgets import Button, Input, Select
from tui_helpers import desk_threads_done, wait_for

from tests.integration.alpaca_helpers import sandbox_env, spend_key_minute
from tui_trader.sandbox.testing import running_sandbox
from tui_trader.tui.app import make_app
from tui_trader.tui.screens.setup import SetupScreen

LOOKED_WITHIN_S = 300.0
"""How long a start's wait holds on for the test to look at the desk bar (a deadline for a
test gone wrong, never reached by one that runs)."""


async def test_a_symbol_alpaca_does_not_have_leaves_the_desk_on_setup_not_halted(
    db_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start on Alpaca paper with a symbol the account does not know: back on the setup screen
    with the reason, nothing halted, no session recorded."""
    with running_sandbox() as sb:
        for name, value in sandbox_env(sb).items():
            monkeypatch.setenv(name, value)
        app = make_app(db_path, iterations=0, every=0.05)
        async with app.run_test(size=(120, 36), notifications=True) as pilot:
            setup = app.screen
            setup.query_one("#mode", Select).value = "paper"
            status = setup.query_one("#alpaca-status")
            await wait_for(
                pilot, lambda: "credentials found" in str(status.render()), "the keys found"
            )
            setup.query_one("#symbols", Input).value = "SPY,ZZZZQ"
            start = setup.query_one("#start", Button)
            await wait_for(pilot, lambda: not start.disabled, "Start to be enabled")
            await pilot.click("#start")
            await wait_for(
                pilot,
                lambda: (
                    any("not started" in str(n.message) for n in app._notifications) or app.halted
                ),
                "the start to be refused",
            )
            said = [str(n.message) for n in app._notifications]
            assert any("Session not started" in m and "ZZZZQ" in m for m in said), said
            assert not app.halted and not app.last_error
            await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen), "the setup screen")
            assert not app.running
            app.exit()


async def test_a_start_waiting_for_the_keys_next_minute_says_so_in_the_desk_bar(
    db_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program spent nearly all of the key's minute (a four-second window here): the
    desk bar says STARTING and what it waits for, with the seconds, then the session runs.

    The sandbox holds the spent minute (``rate_hold``) until the test has seen the wait: on a
    loaded machine the desk started after a bare four-second window had ended and never waited.
    The start's wait ends no sooner than it said, nor before the test has looked at the bar."""
    from tests.integration.test_key_minute_at_start import LEFT
    from tui_trader.session import alpaca as alpaca_session
    from tui_trader.session.key_minute import with_room
    from tui_trader.tui.widgets.deskbar import DeskBar

    seen = threading.Event()

    def pause(seconds: float) -> None:
        """The start's wait: the seconds it said, and on until the test has seen it."""
        began = time.monotonic()
        seen.wait(LOOKED_WITHIN_S)
        threading.Event().wait(max(seconds - (time.monotonic() - began), 0.0))

    def gated(*args: Any, **kwargs: Any) -> Any:
        """``with_room`` as the start calls it, with the wait above."""
        return with_room(*args, pause=pause, **kwargs)

    monkeypatch.setattr(alpaca_session, "with_room", gated)
    with running_sandbox(faults="rate_limit=200,rate_hold=1", rate_window_s=4.0) as sb:
        for name, value in sandbox_env(sb).items():
            monkeypatch.setenv(name, value)
        app = make_app(db_path, iterations=0, every=0.05)
        async with app.run_test(size=(160, 36), notifications=True) as pilot:
            setup = app.screen
            setup.query_one("#mode", Select).value = "paper"
            status = setup.query_one("#alpaca-status")
            await wait_for(
                pilot, lambda: "credentials found" in str(status.render()), "the keys found"
            )
            start = setup.query_one("#start", Button)
            await wait_for(pilot, lambda: not start.disabled, "Start to be enabled")
            spend_key_minute(sb, LEFT)
            await pilot.click("#start")

            def bar_text() -> str:
                return " ".join(str(bar.render()) for bar in app.screen.query(DeskBar))

            try:
                await wait_for(pilot, lambda: "waiting" in bar_text(), "the wait in the desk bar")
                text = bar_text()
            finally:
                sb.admin.set_faults(rate_hold=0)  # the neighbour stops: the minute runs on
                seen.set()
            assert "STARTING" in text and "s before starting" in text, text
            assert "requests for this minute are nearly spent" in text, text
            await wait_for(pilot, lambda: app.desk.info is not None, "the session to start")
            assert not app.halted and not app.last_error
            app.exit()
        await desk_threads_done()
