"""The desk's setup screen names the ``.env`` lines it skipped, where stderr would be the screen.

The command line warns on stderr of each ``.env`` line that is no ``NAME=value`` (hostile28c);
the full-screen desk cannot print there without corrupting its screen, so its Alpaca status line
(the one that says which credentials were found) names the skipped lines by number, never their
text, and nothing is written to stderr.
"""

from __future__ import annotations

import os

import pytest
from textual.widgets import Select, Static
from tui_helpers import wait_for

from tui_trader.tui.app import make_app

SIZE = (160, 40)


async def test_the_alpaca_status_names_the_skipped_lines_and_stderr_stays_clean(
    db_path, tmp_path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Alpaca paper chosen with working-looking credentials in ``.env`` and two junk lines
    (one a secret pasted alone): the status says lines 1 and 3 were skipped, not their text."""
    for name in [n for n in os.environ if n.startswith("APCA_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "pasted-secret-9f3c alone\nAPCA_API_KEY_ID=PKTESTKEY1\n=x\nAPCA_API_SECRET_KEY=s3cr3t\n"
    )
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        setup.query_one("#mode", Select).value = "paper"
        status = setup.query_one("#alpaca-status", Static)
        said = ".env lines 1, 3 skipped (no NAME=value; text not shown)"
        await wait_for(pilot, lambda: said in str(status.render()), "the skipped lines")
        assert "credentials found" in str(status.render())
        assert "pasted-secret" not in str(status.render())
    captured = capfd.readouterr()
    assert "skipped" not in captured.err and "pasted-secret" not in captured.err
