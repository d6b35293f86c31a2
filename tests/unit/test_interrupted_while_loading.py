"""A Ctrl+C while the command line loads: ``interrupted`` and exit 130, never a traceback.

The ``tui-trader`` console script imported ``tui_trader.cli`` before its own guard existed: a
Ctrl+C in the first tenth of a second (sooner on a quiet machine, later on a busy one) printed
Python's traceback of the import (crash29, by hand: 2 of 10 interrupts at 0.05 and 0.1 s). The
script now starts at ``tui_trader.entry``, which loads the command line under a guard. Here the
import itself is interrupted, as a Ctrl+C landing in it would be: no timing is involved.
"""

from __future__ import annotations

import importlib.abc
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tui_trader import entry

ROOT = Path(__file__).resolve().parents[2]


class _CtrlC(importlib.abc.MetaPathFinder):
    """A finder that is interrupted when the command line's package is imported."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "tui_trader.cli":
            raise KeyboardInterrupt
        return None


def test_a_ctrl_c_while_the_command_line_loads_is_one_word_and_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delitem(sys.modules, "tui_trader.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_CtrlC(), *sys.meta_path])
    assert entry.main() == 130
    captured = capsys.readouterr()
    assert captured.err == "interrupted\n"
    assert captured.out == ""


def test_the_console_script_and_python_m_start_at_the_guard() -> None:
    """The installed ``tui-trader`` command (pyproject's script) and ``python -m tui_trader``
    both go through ``tui_trader.entry``."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["tui-trader"] == "tui_trader.entry:main"
    assert "from tui_trader.entry import main" in (ROOT / "tui_trader" / "__main__.py").read_text()
