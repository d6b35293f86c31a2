"""The desk's first screen comes up without importing what it does not show (issue 17).

Importing the screens not shown first (History, Report, Fleet, the dashboard and its charts)
and the session's own modules (the engine, the audit store, the PostgreSQL driver) cost about
0.65 s of CPU before the setup screen could appear; they are imported when first needed. Checked
in a fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

NOT_AT_START = (
    "tui_trader.tui.screens.dashboard",
    "tui_trader.tui.screens.fleet",
    "tui_trader.tui.screens.history",
    "tui_trader.tui.screens.report",
    "textual_plotext",
    "tui_trader.engine.session",
    "tui_trader.store.audit",
    "peewee",
    "psycopg",
)

SCRIPT = """
import asyncio, re, sys
from pathlib import Path
from textual.app import App
from textual.widgets import Button
from tui_trader.tui.app import make_app

deferred = sys.argv[2:]
first = []
frame = []
display = App._display

def recording(self, screen, renderable):
    # The first frame of the setup screen handed to the terminal: what was imported by then,
    # and what it draws. Textual drops the frames made while it batches updates (as the app
    # starts): those never reach the terminal.
    shown = renderable is not None and not self._batch_count
    if shown and not first and type(screen).__name__ == "SetupScreen":
        first.append([m for m in deferred if m in sys.modules])
        codes = chr(27) + "[[][0-9;?]*[A-Za-z]"  # the terminal's control sequences
        drawn = re.sub(codes, "", renderable.render_segments(self.console))
        frame.append(" ".join(drawn.split()))
    return display(self, screen, renderable)

App._display = recording

async def main():
    app = make_app(Path(sys.argv[1]))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.pause()
        print("screen", type(app.screen).__name__)
        print("loaded", *first[0])
        print("frame", frame[0])
        print("start", "off" if app.screen.query_one("#start", Button).disabled else "on")
        await pilot.press("f12")
        await pilot.pause()
        print("then", type(app.screen).__name__)

asyncio.run(main())
"""


def test_setup_screen_is_drawn_without_the_other_screens_and_the_engine(tmp_path: Path) -> None:
    """When the setup screen first reaches the terminal none of the deferred modules is loaded
    and that frame is the whole screen: the desk bar saying NO SESSION, the form down to its
    Start button, the keys; then the form is checked (Start turns on for the valid defaults)
    and f12 opens Fleet.

    The first frame that reaches the terminal, not the first one Textual makes: those made
    while the app starts are dropped. The form's first check (the engine's import) once came
    before the first frame shown, the bar was empty until the next tick, and the first frames
    shown were pieces of the form (only what changed since the dropped full frame)."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "desk.db"), *NOT_AT_START],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = dict(
        line.split(" ", 1) if " " in line else (line, "")
        for line in done.stdout.split("\n")
        if line
    )
    assert lines["screen"] == "SetupScreen"
    assert lines["loaded"] == "", f"imported before the first screen: {lines['loaded']}"
    for seen in ("NO SESSION", "New session", "Max orders per day", "Start session", "KILL SWITCH"):
        assert seen in lines["frame"], f"{seen!r} missing from the first frame: {lines['frame']}"
    assert lines["start"] == "on"
    assert lines["then"] == "FleetScreen"
