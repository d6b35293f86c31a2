"""The desk's ctrl+r while a halt of its account is kept on disk: refused, in words that say
which file and what ends it.

Lifted by the desk alone, the kept halt (``store.halt_markers``) came back at the account's
next start, after the trader had been told trading was back. The refusal names the file, whose
name may hold characters the screen reads as markup (``[b]desk.db``): shown as written.
"""

from __future__ import annotations

from pathlib import Path

from textual.content import Content
from tui_helpers import asking, wait_for

from tui_trader.risk.gate import DRAWDOWN, MANUAL_KILL
from tui_trader.store.halt_markers import KeptHalt, keep_halt, store_name
from tui_trader.tui.app import make_app


async def test_ctrl_r_is_refused_while_a_halt_of_the_account_is_kept_on_disk(
    tmp_path: Path, paced
) -> None:
    db = tmp_path / "[b]desk.db"
    app = make_app(db, clock=paced, iterations=0, every=0.02)
    async with app.run_test(size=(160, 36), notifications=True) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.desk.latest is not None, "the first report")
        await pilot.press("ctrl+k")
        await pilot.press("escape")
        session = app.handle.session
        await wait_for(pilot, lambda: session.risk.state.halt_reason == MANUAL_KILL, "the kill")
        store = session.audit.db
        halt = KeptHalt(
            session.account_key,
            store_name(store) or "",
            DRAWDOWN,
            "equity 95,000.00 is 5.00% below peak 100,000.00",
            "2026-12-07T06:00:00+00:00",
            "b9",
        )
        path = keep_halt(store, halt)  # another desk of the account lost the store meanwhile
        await pilot.press("ctrl+r")
        # as the screen shows it (a notification's message is markup)
        said = lambda: [Content.from_markup(str(n.message)).plain for n in app._notifications]  # noqa: E731
        await wait_for(pilot, lambda: any("Cannot resume" in m for m in said()), "the refusal")
        [line] = [m for m in said() if "Cannot resume" in m]
        assert str(path) in line and "tui-trader risk reset --account" in line, line
        assert not asking(app), "the desk asked to resume over a halt kept on disk"
        assert app.halted and path.exists()
        app.handle.stop()
