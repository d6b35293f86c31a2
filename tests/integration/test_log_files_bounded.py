"""``tui-trader.log`` and ``crash.log`` stay bounded on a desk run for months.

Both were appended to without end: the library log gets alpaca-py's stream lines (three each
connect, more each reconnect) and every failed alert or backup under the full-screen desk; the
crash log a traceback per crash. Now the library log rolls over at 5 MB into ``.1`` to ``.3``
and the crash log at 1 MB into ``crash.log.1``, every file the owner's only.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from tui_trader.cli import logs
from tui_trader.cli.logs import log_dir, report_crash, setup_logging


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_library_log_rolls_over_and_keeps_three_old_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past its size the log starts again, the old ones kept as .1 to .3 (the oldest dropped),
    every one 0600: the log folder holds at most four files of the limit's size."""
    monkeypatch.setattr(logs, "LOG_MAX_BYTES", 2_000)
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        path = setup_logging()
        for n in range(400):  # ~80 bytes a line: ~32 kB written, 16 times the limit
            logging.getLogger("alpaca.trading.stream").info("connected to: ws://127.0.0.1 %d", n)
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
    files = sorted(p.name for p in log_dir().iterdir() if p.name.startswith("tui-trader.log"))
    assert files == ["tui-trader.log", "tui-trader.log.1", "tui-trader.log.2", "tui-trader.log.3"]
    for name in files:
        assert (log_dir() / name).stat().st_size <= 2_000
        assert _mode(log_dir() / name) == 0o600, name
    assert "ws://127.0.0.1 399" in path.read_text()  # the newest line is in the current file


def test_the_crash_log_starts_again_past_its_size_keeping_one_old_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(logs, "CRASH_MAX_BYTES", 3_000)
    for n in range(60):
        report_crash(RuntimeError(f"crash number {n}"))
    files = sorted(p.name for p in log_dir().iterdir() if p.name.startswith("crash"))
    assert files == ["crash.log", "crash.log.1"]
    crash = log_dir() / "crash.log"
    assert crash.stat().st_size < 3_000 + 1_000  # one traceback past the limit at most
    assert "crash number 59" in crash.read_text()
    assert _mode(crash) == _mode(log_dir() / "crash.log.1") == 0o600
