"""The Fleet screen: every session on the store, dead ones marked, halt one account or all.

The fleet is seeded straight into the database before the app starts (sessions on other hosts,
a frozen clock), so rows, heartbeat ages and snapshots are deterministic; the halts are checked
in the database, where the sessions would read them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fleet_helpers import seed_fleet
from textual.widgets import DataTable
from textual.widgets._footer import FooterKey
from tui_helpers import FROZEN_START, asking, scalar, wait_for

from tui_trader.core.clock import FrozenClock
from tui_trader.store.peewee_names import OperationalError
from tui_trader.tui.app import make_app
from tui_trader.tui.screens import fleet as fleet_screen
from tui_trader.tui.screens.fleet import FleetScreen

DB = Path("fleet.db")
"""Relative to the test's own folder."""


def _fleet_app(db: Path = DB):
    """``live monitor --all`` on the seeded store, at the frozen time."""
    return make_app(db, clock=FrozenClock(FROZEN_START), fleet_only=True)


def _cells(screen: FleetScreen) -> dict[str, list[str]]:
    """The table as plain text, by session key."""
    table = screen.query_one("#fleet-table", DataTable)
    return {str(key.value): [str(c) for c in table.get_row(key)] for key in table.rows}


def _state(db: Path, account: str) -> object:
    """The account's risk state in the database."""
    return scalar(db, "SELECT state FROM risk_state WHERE account_key = ?", account)


async def _asked(pilot) -> None:
    """Wait for the confirmation, its buttons mounted (a click before they are finds none)."""
    app = pilot.app
    await wait_for(
        pilot,
        lambda: asking(app) and bool(app.screen.query("#yes")),
        "the question",
    )


async def _loaded(pilot) -> FleetScreen:
    """The Fleet screen once its first read is drawn."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, FleetScreen), "the Fleet screen")
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.loads >= 1, "the first read")
    return screen


async def test_rows_and_dead_sessions_are_marked(tmp_path: Path) -> None:
    """Every session is listed with host, pid, mode, account, equity and state; a stale
    heartbeat and a process gone from this host both show DIED with the reason."""
    db = tmp_path / "fleet.db"
    seed_fleet(db, gone_here=True)
    app = _fleet_app(db)
    async with app.run_test(size=(200, 40)) as pilot:
        screen = await _loaded(pilot)
        rows = _cells(screen)
        assert list(rows) == ["bbbb2222", "aaaa1111", "eeee5555", "cccc3333", "dddd4444"]
        a = rows["aaaa1111"]
        assert a[:7] == [
            "aaaa1111",
            "running",
            "2s",
            "paper",
            "alpaca:PA1",
            "100,250.50",
            "+250.50",
        ]
        assert a[7:10] == ["SPY,QQQ", "desk-a", "4101"]
        assert rows["cccc3333"][1] == "DIED"
        assert rows["cccc3333"][10] == "DEAD: heartbeat stale (400 s old)"
        assert rows["eeee5555"][1] == "DIED"
        assert "is gone from" in rows["eeee5555"][10]
        assert rows["dddd4444"][1] == "stopped"
        status = str(screen.query_one("#fleet-status").render())
        assert "2 running on 1 account(s)" in status and "2 DIED" in status


async def test_ctrl_k_on_a_row_halts_its_account_after_saying_so(tmp_path: Path) -> None:
    """ctrl+k on a row asks first, naming the account and every session on it; Escape halts
    nothing; yes halts that account (both its sessions) and no other, audited with who/where."""
    db = tmp_path / "fleet.db"
    seed_fleet(db)
    app = _fleet_app(db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _loaded(pilot)
        await pilot.press("down")  # aaaa1111: shares alpaca:PA1 with bbbb2222
        await pilot.press("ctrl+k")
        await _asked(pilot)
        question = app.screen.question
        assert app.screen.title_text == "Halt account alpaca:PA1?"
        assert "every session trading alpaca:PA1 stops" in question
        assert "2 running session(s)" in question and "bbbb2222 on desk-b" in question
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "the question to close")
        assert _state(db, "alpaca:PA1") is None, "Escape halted nothing"
        await pilot.press("ctrl+k")
        await _asked(pilot)
        await pilot.click("#yes")
        await wait_for(pilot, lambda: screen.halts == 1, "the halt to be written")
        assert _state(db, "alpaca:PA1") == "halted"
        assert _state(db, "alpaca:LV9") is None, "the other account trades on"
        detail = scalar(db, "SELECT detail FROM live_risk_events WHERE event_type = 'manual_kill'")
        assert "Fleet screen" in str(detail) and "@" in str(detail) and "pid" in str(detail)
        await wait_for(
            pilot, lambda: _cells(screen)["aaaa1111"][1] == "HALTED", "the rows to show HALTED"
        )
        assert _cells(screen)["bbbb2222"][1] == "HALTED"


async def test_halt_all_names_how_many_and_halts_every_account(tmp_path: Path) -> None:
    """h asks "Halt ALL 3 session(s) on 2 account(s)?" (the dead-looking live one counts: in
    doubt, halt); no halts nothing; yes halts both accounts; the ended session's does not."""
    db = tmp_path / "fleet.db"
    seed_fleet(db)
    app = _fleet_app(db)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _loaded(pilot)
        await pilot.press("h")
        await _asked(pilot)
        assert app.screen.title_text == "Halt ALL 3 session(s) on 2 account(s)?"
        assert "2 running and 1 dead-looking session(s)" in app.screen.question
        await pilot.click("#no")
        await wait_for(pilot, lambda: app.screen is screen, "the question to close")
        assert _state(db, "alpaca:PA1") is None
        await pilot.press("h")
        await _asked(pilot)
        await pilot.click("#yes")
        await wait_for(pilot, lambda: screen.halts == 1, "the halts to be written")
        assert _state(db, "alpaca:PA1") == "halted"
        assert _state(db, "alpaca:LV9") == "halted"
        assert _state(db, "local:dddd4444") is None
        assert scalar(db, "SELECT count(*) FROM live_risk_events") == 2


async def test_fleet_key_from_every_screen_kill_switch_first(db_path: Path) -> None:
    """f12 opens the Fleet screen from setup, history, dashboard and report; its footer leads
    with the kill switch and shows the Fleet key."""
    app = make_app(db_path, clock=FrozenClock(FROZEN_START))
    async with app.run_test(size=(120, 36)) as pilot:
        for before in ("f4", "f3", "f2", "f9"):
            await pilot.press(before)
            await wait_for(pilot, lambda: not isinstance(app.screen, FleetScreen), "another")
            await pilot.press("f12")
            await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), "Fleet screen")
        # the footer composes its keys a frame after the screen is shown (empty under load)
        await wait_for(pilot, lambda: bool(app.screen.query(FooterKey)), "the footer's keys")
        keys = [k.key for k in app.screen.query(FooterKey)]
        assert keys[0] == "ctrl+k" and "f12" in keys


async def test_kill_switch_on_the_fleet_screen_halts_this_desk_first(db_path: Path, paced) -> None:
    """With a session running on this desk, ctrl+k on the Fleet screen still halts it at once
    (the kill switch is never weaker on one screen), then asks about the selected row's account."""
    app = make_app(db_path, clock=paced, iterations=0, every=0.02)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.desk.latest is not None, "the first report")
        await pilot.press("f12")
        screen = await _loaded(pilot)
        await wait_for(pilot, lambda: bool(screen.rows), "the desk's own row")
        await pilot.press("ctrl+k")
        assert app.desk.halted and app.halted, "halted on the key press, before any question"
        await _asked(pilot)
        assert app.screen.title_text == f"Halt account local:{app.desk.info.key}?"
        await pilot.press("escape")
        await wait_for(
            pilot,
            lambda: (
                scalar(
                    db_path,
                    "SELECT count(*) FROM live_risk_events WHERE event_type = 'manual_kill'",
                )
                == 1
            ),
            "the session's own manual_kill",
        )
        app.handle.stop()


def test_snapshot_fleet_80x24(snap_compare) -> None:
    """Three sessions on two accounts, one dead, one ended: 80 columns show state, heartbeat,
    account and money."""
    seed_fleet(DB)

    async def run_before(pilot) -> None:
        await _loaded(pilot)
        await pilot.pause()

    assert snap_compare(_fleet_app(), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_fleet_120x36(snap_compare) -> None:
    """The same fleet at 120x36: symbols and hosts too."""
    seed_fleet(DB)

    async def run_before(pilot) -> None:
        await _loaded(pilot)
        await pilot.pause()

    assert snap_compare(_fleet_app(), terminal_size=(120, 36), run_before=run_before)


async def test_a_hand_edited_process_id_leaves_the_fleet_readable(tmp_path: Path) -> None:
    """Text in one session's ``pid`` (a hand edit of a shared store): the screen said "could
    not read the sessions: invalid literal for int()" and listed none, so no halt could be
    aimed from it. Now every session is listed; that one's pid shows as "-" and its liveness
    is judged by its heartbeat (fresh here: running)."""
    db = tmp_path / "fleet.db"
    seed_fleet(db, gone_here=True)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE sessions SET pid = 'xyzzy' WHERE key = 'eeee5555'")
    app = _fleet_app(db)
    async with app.run_test(size=(200, 40)) as pilot:
        screen = await _loaded(pilot)
        rows = _cells(screen)
        assert list(rows) == ["eeee5555", "bbbb2222", "aaaa1111", "cccc3333", "dddd4444"]
        assert rows["eeee5555"][1] == "running" and rows["eeee5555"][9] == "-"


def _lose_the_answer(monkeypatch, written: tuple[str, ...], read_back: bool = True) -> None:
    """Make the Fleet screen's halt write the accounts ``written`` (each in its own commit, as
    it does) and then raise, as a store whose answer was lost does; without ``read_back``, the
    store does not answer the read that follows either."""
    real = fleet_screen.halt_accounts

    def lost(db, accounts, via):
        real(db, {key: n for key, n in accounts.items() if key in written}, via)
        raise OperationalError("disk I/O error")

    def silent(db, accounts):
        raise OperationalError("unable to open database file")

    monkeypatch.setattr(fleet_screen, "halt_accounts", lost)
    if not read_back:
        monkeypatch.setattr(fleet_screen, "halted_now", silent)


LOST = "its answer was lost: disk I/O error"


@pytest.mark.parametrize(
    ("written", "read_back", "title", "words"),
    [
        (
            ("alpaca:LV9", "alpaca:PA1"),
            True,
            "HALTED",
            f"The halt was written: alpaca:LV9, alpaca:PA1 halted ({LOST}). Sessions stop at "
            "their next cycle.",
        ),
        (
            ("alpaca:LV9",),
            True,
            "HALT FAILED",
            f"The halt was written: alpaca:LV9 halted ({LOST}); NOT written for alpaca:PA1: "
            "stop its sessions where they run.",
        ),
        (
            (),
            True,
            "HALT FAILED",
            "The halt was NOT written: disk I/O error. Stop the sessions where they run.",
        ),
        (
            ("alpaca:LV9", "alpaca:PA1"),
            False,
            "HALT UNKNOWN",
            "Unknown whether the halt was written: the store did not answer (disk I/O error); "
            "check with `tui-trader fleet`, and stop the sessions where they run if not halted.",
        ),
    ],
    ids=["written", "part-written", "not-written", "unknown"],
)
async def test_a_halt_whose_answer_was_lost_says_what_the_store_holds(
    tmp_path: Path, monkeypatch, written, read_back, title, words
) -> None:
    """The halt raised after its commits may have landed: before, the screen said "The halt
    was NOT written" whatever the store held (an account halted, told it was not). Now it reads
    the accounts back and says what is true, or that it cannot know."""
    db = tmp_path / "fleet.db"
    seed_fleet(db)
    _lose_the_answer(monkeypatch, written, read_back)
    app = _fleet_app(db)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        screen = await _loaded(pilot)
        await pilot.press("h")
        await _asked(pilot)
        await pilot.click("#yes")
        await wait_for(pilot, lambda: screen.halts == 1, "the halt's outcome")
        await wait_for(  # the notice is a message of its own, handled after the count
            pilot, lambda: any(n.title.startswith("HALT") for n in app._notifications), "notice"
        )
        said = [(n.title, str(n.message)) for n in app._notifications]
    assert (title, words) in said, said
    for account in ("alpaca:LV9", "alpaca:PA1"):
        assert (_state(db, account) == "halted") == (account in written)
