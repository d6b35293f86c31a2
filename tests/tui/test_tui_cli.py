"""The command line opens the app: no subcommand → the desk; ``live monitor`` → the monitor."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import tui_trader.tui.app as app_module
from tui_trader.cli import main
from tui_trader.core.clock import WallClock
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.models import SessionRow
from tui_trader.tui.monitor_handle import MonitorHandle

ROOT = Path(__file__).resolve().parents[2]


class _Recorder:
    """Stands in for ``make_app``: records what the CLI asked for instead of opening a screen."""

    def __init__(self) -> None:
        self.calls: list[tuple[Path, dict]] = []

    def __call__(self, db: Path, **kwargs):
        self.calls.append((db, kwargs))
        return self

    def run(self) -> None:
        """The app would run here."""


def test_no_subcommand_opens_the_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``tui-trader --db X`` opens the app on X (live off); ``--enable-live`` turns it on."""
    recorder = _Recorder()
    monkeypatch.setattr(app_module, "make_app", recorder)
    assert main(["--db", str(tmp_path / "a.db")]) == 0
    assert main(["--enable-live"]) == 0
    (db, first), (default_db, second) = recorder.calls
    off = {"live_enabled": False, "skip_readiness": False}
    assert db == tmp_path / "a.db" and first == off
    assert default_db.name == "tui_trader.db" and second == off | {"live_enabled": True}


def test_live_monitor_opens_the_monitor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``live monitor --db X --session K`` follows session K of X (looked up before the app
    opens, so that a missing or dead session is one line on the command line)."""
    recorder = _Recorder()
    monkeypatch.setattr(app_module, "make_app", recorder)
    db = tmp_path / "m.db"
    row = AuditLog(open_database(db), WallClock()).start_session(
        "local", "paper", None, "t", (), {}
    )
    SessionRow.update(key="abc").where(SessionRow.id == row.id).execute()
    assert main(["live", "monitor", "--db", str(db), "--session", "abc"]) == 0
    (called_db, kwargs) = recorder.calls[0]
    handle = kwargs["monitor"]
    assert called_db == db and isinstance(handle, MonitorHandle)
    assert handle.follower.session_key == "abc"


def test_live_monitor_needs_an_existing_database(tmp_path: Path, capsys) -> None:
    """A missing database is one line and exit code 2, not an empty new file."""
    with pytest.raises(SystemExit) as exit_info:
        main(["live", "monitor", "--db", str(tmp_path / "none.db")])
    assert exit_info.value.code == 2
    assert "no database" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


def test_headless_commands_do_not_import_textual() -> None:
    """``paper`` and friends stay fast: parsing the CLI imports no Textual."""
    code = (
        "import sys; from tui_trader.cli import build_parser; build_parser(); "
        "print('textual' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("stdin", ["dev-null", "closed"])
def test_the_desk_without_a_terminal_is_refused_in_one_line(tmp_path: Path, stdin: str) -> None:
    """``tui-trader < /dev/null`` (a cron job, a script) drew the desk into the void and waited
    for keys for ever; with standard input closed (``<&-``) Textual's driver crashed with a
    traceback (exit 0). Both are one line, exit 2, at once; nothing is created."""
    import os

    db = tmp_path / "desk.db"
    redirect = "</dev/null" if stdin == "dev-null" else "<&-"
    done = subprocess.run(
        ["sh", "-c", f'exec "$0" -m tui_trader --db "$1" {redirect}', sys.executable, str(db)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 2, done.stderr[-500:]
    assert done.stderr == (
        "tui-trader: error: the desk needs a terminal and standard input is not one (it would "
        "wait for keys that never come): run it in a terminal, or 'tui-trader paper' without "
        "one\n"
    )
    assert done.stdout == "" and not db.exists()
