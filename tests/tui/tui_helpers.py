"""Helpers for the app's tests: a frozen clock that still paces, and waits on state (never on
time). Imported as ``tui_helpers`` (conftest puts this folder on ``sys.path``)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from textual.pilot import WaitForScreenTimeout

from tui_trader.core.clock import FrozenClock
from tui_trader.tui.screens.confirm import ConfirmScreen

FROZEN_START = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


class PacedFrozenClock(FrozenClock):
    """Frozen ``now`` (deterministic rows and screens), but waits really wait (a paced session
    stays running long enough to be killed)."""

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Block on the stop event like the wall clock; time itself stays frozen."""
        return stop.wait(max(seconds, 0.0))


def asking(app) -> bool:
    """Whether the app shows a question ready for an answer, its buttons mounted and one
    focused: a ``ConfirmScreen`` is the screen as soon as it is pushed, before its buttons exist
    (a click then finds no ``#yes``, and Enter reaches no button)."""
    screen = app.screen
    return (
        isinstance(screen, ConfirmScreen)
        and bool(screen.query("#yes"))
        and screen.focused is not None
    )


WAIT_AT_LEAST_S = 30.0
"""The shortest wall time any wait is given: on a loaded two-core machine the session's thread
can run several times slower than the polls, so a bound in polls alone failed tests that were
only slow."""


async def wait_for(pilot, condition: Callable[[], bool], what: str, tries: int = 300) -> None:
    """Let the app run until ``condition`` holds; fails with ``what`` once both ``tries`` polls
    and ``WAIT_AT_LEAST_S`` wall seconds have gone by (a state that never comes still fails)."""
    deadline = time.monotonic() + WAIT_AT_LEAST_S
    polls = 0
    while not condition():
        polls += 1
        if polls >= tries and time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}")
        try:
            await pilot.pause(0.02)
        except WaitForScreenTimeout:
            # The pilot's pause waits for every widget to drain its messages; a widget closed by
            # the app's exit in the middle of that pause never does, and the pilot gives up after
            # 30 s (seen once under load, waiting for a SIGHUP to quit the app). The state asked
            # for is what counts: look again, and fail only when it has not come.
            if not condition():
                raise


async def messages_handled(pilot, widget, what: str) -> None:
    """Wait until every message ``widget`` posted so far (a Checkbox's ``Changed``, say) has
    been handled by it and by each widget above it up to its screen.

    A bubbling message is handed up one queue at a time; a callback queued behind it on each
    queue in turn runs only once the message has passed there, so the last one (the screen's)
    runs after the screen handled it. A pause of the pilot promises no such thing: it returns
    once the process looks idle, which a process starved of CPU also looks."""
    chain = [widget, *widget.ancestors]
    chain = chain[: chain.index(widget.screen) + 1]
    reached: list[bool] = []

    def step(i: int) -> None:
        if i + 1 < len(chain):
            chain[i + 1].call_later(step, i + 1)
        else:
            reached.append(True)

    widget.call_later(step, 0)
    await wait_for(pilot, lambda: bool(reached), what)


def fast_desk_defaults() -> dict[str, str]:
    """The setup form's starting text as a settings file holding only ``requests-per-minute =
    60000`` leaves it (``TEST_REQUESTS_PER_MINUTE``, the in-process and child Alpaca sessions'
    test budget): a desk's Alpaca session started from Setup then runs its cycles without the
    desk's 180 a minute (a burst of 10), which held each request after the tenth for a third of
    a second (the cash-cap test's 12 cycles: ~13 s, ~4 s without). The budget at the desk's own
    figure stays tested where it is the point: ``test_desk_live_readiness``'s live sessions and
    ``test_tui_alpaca_not_started`` start with the form's plain defaults."""
    from tests.integration.alpaca_helpers import TEST_REQUESTS_PER_MINUTE
    from tui_trader.tui.setup_defaults import config_defaults

    return config_defaults({"requests_per_minute": TEST_REQUESTS_PER_MINUTE})


async def desk_threads_done() -> None:
    """Wait for the thread workers an exited desk left running (a session ending: its last
    account snapshot) while the sandbox is still up: call it after ``run_test``'s block, inside
    ``running_sandbox``'s. The test's ``asyncio.run`` waits for them anyway, but by then the
    sandbox had stopped, and the snapshot's requests were refused and retried for 4-8 s."""
    await asyncio.get_running_loop().shutdown_default_executor()


def scalar(db: Path, sql: str, *params: object) -> object:
    """One value from the database on a short-lived sqlite3 connection of the test's own.

    Tests never call ``open_database`` while an app runs: it rebinds the models' shared proxy
    under the session's feet.
    """
    if not db.exists():
        return 0
    con = sqlite3.connect(db, timeout=10)
    try:
        row = con.execute(sql, params).fetchone()
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()
    return row[0] if row else None


def capped_factory(db_path: Path, clock: FrozenClock, bars: int, mode: str = "local"):
    """A local session whose market serves ``bars`` bars, then waits like a live feed (the
    session stays ACTIVE at a known iteration, market orders stay working); ``mode`` relabels
    it (the desk's confirmations depend on it)."""
    import dataclasses

    from tui_trader.session.local import LocalSettings, build_local_session

    def factory():
        session = build_local_session(LocalSettings(db=db_path), clock)
        if mode != "local":
            session.config = dataclasses.replace(session.config, mode=mode)
        real = session.market.next_bars
        served = {"n": 0}

        def next_bars():
            if served["n"] >= bars:
                return {}
            served["n"] += 1
            return real()

        session.market.next_bars = next_bars
        return session

    return factory


def capped_desk(db_path: Path, clock: FrozenClock, bars: int):
    """The desk on a ``capped_factory`` local session, cycling every 0.05 s until it ends."""
    from tui_trader.tui.app import make_app

    return make_app(
        db_path,
        clock=clock,
        every=0.05,
        iterations=0,
        session_factory=capped_factory(db_path, clock, bars),
    )


async def start_capped(pilot, app, bars: int) -> None:
    """Enter on the setup screen, then wait until the session has run its ``bars`` bars."""
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.desk.latest and app.desk.latest.iteration == bars, "bars")


class _FixedKey:
    """A stand-in for ``secrets`` so that session keys are the same on every run."""

    @staticmethod
    def token_hex(n: int) -> str:
        return "5eed" * n


def fix_session_keys(monkeypatch) -> None:
    """Session keys appear on screen (snapshots): make them constant (their store's tag too)."""
    from tui_trader.store import session_rows, store_identity

    monkeypatch.setattr(session_rows, "secrets", _FixedKey)
    monkeypatch.setattr(store_identity, "secrets", _FixedKey)
