"""Running the real command line in a child process, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cli_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose data, cache and log folders live under ``tmp_path``."""
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        COLUMNS="200",
        NO_COLOR="1",
    )
    for name in ("APCA_API_KEY_ID", "APCA_API_SECRET_KEY", "APCA_API_BASE_URL"):
        env.pop(name, None)
    return env


def run_cli(
    tmp_path: Path, *args: str, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tui_trader ARGS`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "tui_trader", *args],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path),
        cwd=tmp_path,
        input=stdin,
        timeout=timeout,
    )


def start_cli(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """Start ``python -m tui_trader ARGS`` in the background, line-buffered."""
    env = cli_env(tmp_path)
    env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "tui_trader", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
