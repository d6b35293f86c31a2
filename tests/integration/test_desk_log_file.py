"""The desk's operations lines (a failed alert or backup: ``tui.handles``) reach the log file.

The full-screen desk owns the terminal, so those lines go to ``tui-trader.log`` rather than the
screen. Before, only the ``live`` commands set that file up: under the desk the logger had no
handler, Python's last-resort handler wrote the line to stderr, which Textual holds while it
runs, and the line was lost.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tui_trader.cli import main
from tui_trader.cli.logs import log_dir


class _Desk:
    """Stands in for the Textual app: what a failed backup says while the desk runs."""

    def run(self) -> None:
        logging.getLogger("tui_trader.ops").warning("backup failed (trading continues): disk full")


def test_a_failed_backup_on_the_desk_is_in_the_log_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tui_trader.tui.app.make_app", lambda *args, **kwargs: _Desk())
    monkeypatch.chdir(tmp_path)  # no settings file here
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        assert main(["--db", str(tmp_path / "desk.db")]) == 0
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
    log = log_dir() / "tui-trader.log"
    assert log.exists(), "the desk wrote no log file"
    assert "backup failed (trading continues): disk full" in log.read_text(encoding="utf-8")


def test_the_desk_opens_without_its_log_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A log folder that cannot be made (a file in its place) costs the log, not the desk."""
    opened: list[bool] = []

    class _Opened:
        def run(self) -> None:
            opened.append(True)

    monkeypatch.setattr("tui_trader.tui.app.make_app", lambda *args, **kwargs: _Opened())
    blocked = tmp_path / "state"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocked))
    monkeypatch.chdir(tmp_path)
    assert main(["--db", str(tmp_path / "desk.db")]) == 0
    assert opened == [True]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no log file" in err[0] and "Traceback" not in err[0], err


def test_live_status_goes_on_without_its_log_folder(tmp_path: Path) -> None:
    """``live status`` (as ``live paper``) with a log folder that cannot be made: one warning
    line, then the command's own answer (here: nothing listens at the URL, exit 2). Before,
    ``error: NotADirectoryError: ...``, exit 1, and not a word about the account (review29a)."""
    from tests.integration.cli_helpers import run_cli

    blocked = tmp_path / "state"
    blocked.write_text("not a folder", encoding="utf-8")
    env = {
        "XDG_STATE_HOME": str(blocked),
        "APCA_API_KEY_ID": "PKREVIEW29A",
        "APCA_API_SECRET_KEY": "review29a-secret",
        "APCA_API_BASE_URL": "http://127.0.0.1:9",
    }
    out = run_cli(tmp_path, "live", "status", "--timeout", "1", env=env)
    assert out.returncode == 2, out.stderr
    err = out.stderr.splitlines()
    assert len(err) == 2 and "no log file" in err[0] and "Traceback" not in out.stderr, err
    assert "cannot reach Alpaca at http://127.0.0.1:9" in err[1], err
