"""The desk in a real browser: ``tui-trader serve`` opened in headless Chromium.

The page loads with the printed link, the desk is drawn (a screenshot that is not blank, and
the setup screen's words in the terminal stream), Enter starts a session and ctrl+k halts it:
the database then holds the ``manual_kill`` row, written by the desk process the browser drives.
The text is read from the websocket frames the page receives (xterm.js draws on a canvas).
"""

from __future__ import annotations

import base64
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.cdp import Browser, Page, png_colours, wait_for
from tests.integration.cli_helpers import start_cli
from tests.unit.test_serve_cli import free_port, read_url

CAPTURE_TEXT = """
window.__deskText = "";
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  const keep = (data) => {
    if (typeof data === "string") { window.__deskText += data; }
    else if (data instanceof ArrayBuffer) { window.__deskText += decoder.decode(data); }
    else if (data instanceof Blob) { data.arrayBuffer().then(keep); }
  };
  class Recording extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => keep(event.data));
    }
  }
  window.WebSocket = Recording;
})();
"""
"""Keeps every frame the page's websocket receives in ``window.__deskText``."""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``tui-trader serve`` on a free loopback port; its link and database."""
    db = tmp_path / "desk.db"
    port = free_port()
    proc = start_cli(tmp_path, "serve", "--port", str(port), "--db", str(db))
    try:
        yield read_url(proc, port), db
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture
def page() -> Iterator[Page]:
    """A tab of a fresh headless Chromium."""
    browser = Browser()
    tab = browser.page()
    try:
        yield tab
    finally:
        tab.close()
        browser.close()


def _risk_events(db: Path) -> list[str]:
    """Event types in the database (none before the desk creates it)."""
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return [r[0] for r in conn.execute("SELECT event_type FROM live_risk_events")]
        except sqlite3.OperationalError:  # tables not there yet
            return []


def _screen(page: Page) -> str:
    """Everything the desk has sent to the page so far."""
    return page.evaluate("window.__deskText") or ""


def _colours(page: Page) -> int:
    """Distinct colours in a quarter-size screenshot of the page."""
    shot = page.call(
        "Page.captureScreenshot",
        format="png",
        clip={"x": 0, "y": 0, "width": 1280, "height": 800, "scale": 0.25},
    )
    return png_colours(base64.b64decode(shot["data"]))


def test_the_desk_runs_and_halts_from_a_browser(
    served: tuple[str, Path], page: Page, tmp_path: Path
) -> None:
    """Load, see the setup screen, start a session with Enter, halt it with ctrl+k."""
    url, db = served
    shots = Path(os.environ.get("TT_SCREENSHOTS", tmp_path))
    page.call("Page.enable")
    page.call("Page.addScriptToEvaluateOnNewDocument", source=CAPTURE_TEXT)
    page.call("Page.navigate", url=url)
    wait_for(lambda: "New session" in _screen(page), 60, "the setup screen in the page")
    # the first screen can reach the page in more than one write: wait for its button too
    wait_for(lambda: "Start session" in _screen(page), 30, "the setup screen's Start button")
    wait_for(lambda: _colours(page) >= 8, 30, "a drawn (not blank) page")
    page.screenshot(shots / "desk-setup.png")

    page.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
    page.key("Enter", "Enter", 13, text="\r")
    wait_for(lambda: "Orders & fills" in _screen(page), 60, "the dashboard after Enter")
    assert "manual_kill" not in _risk_events(db)

    page.key("k", "KeyK", 75, modifiers=2)
    wait_for(lambda: "manual_kill" in _risk_events(db), 30, "the manual_kill row")
    wait_for(lambda: "HALTED" in _screen(page), 30, "HALTED on the page")
    page.screenshot(shots / "desk-halted.png")
