"""``--db=~/...`` and a quoted ``TUI_TRADER_DB="~/..."`` name a file in the user's home, as the
desk's setup screen already read them: the shell expands ``~`` only at the start of a word, so
``--db=~/desk.db`` reached us as typed and made a folder named ``~`` in the working folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.integration.cli_helpers import cli_env


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``tui-trader ARGS`` with ``HOME`` at ``tmp_path/home``, run from ``tmp_path/work``."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir(exist_ok=True)
    work.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "tui_trader", *args],
        capture_output=True,
        text=True,
        env={**cli_env(tmp_path), "HOME": str(home), **env},
        cwd=work,
        timeout=120,
    )


def test_a_tilde_in_the_db_option_is_the_home_folder(tmp_path: Path) -> None:
    run = _run(tmp_path, "paper", "--db=~/desk.db", "--iterations", "2", "--every", "0")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "home" / "desk.db").is_file()
    assert not (tmp_path / "work" / "~").exists()
    shown = _run(tmp_path, "history", "--db=~/desk.db")
    assert shown.returncode == 0, shown.stderr


def test_a_tilde_in_the_db_variable_is_the_home_folder(tmp_path: Path) -> None:
    run = _run(tmp_path, "paper", "--iterations", "1", "--every", "0", TUI_TRADER_DB="~/env.db")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "home" / "env.db").is_file()
    assert not (tmp_path / "work" / "~").exists()
