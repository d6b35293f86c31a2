"""A request timeout past ten minutes is refused alike by every command that reads it.

The settings file's ``timeout`` is an Alpaca session's seconds per request and a local
session's Yahoo deadline. ``live paper`` refused ``timeout = 9999`` (at most 600 s); ``paper``
took it, and ``--timeout 9999`` too: nearly three hours per request to a silent server, and
the same file meant one thing to one command and was an error to the other. Now the bound is
the same for every command: one line on stderr naming the file, its line and the key, exit 2.
Through the real command line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.cli_helpers import run_cli

COMMANDS = [
    ["paper", "--iterations", "1"],
    ["live", "paper", "--iterations", "1"],
    ["live", "trading", "--enable-live", "--iterations", "1"],
    ["config", "show"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=["paper", "live paper", "live trading", "config"])
def test_a_timeout_of_9999_in_the_settings_file_is_refused_in_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    """``timeout = 9999`` on the file's second line: the command refuses before it runs."""
    settings = tmp_path / "tui-trader.toml"
    settings.write_text('symbols = ["SPY"]\ntimeout = 9999\n')
    done = run_cli(tmp_path, *command, "--db", str(tmp_path / "desk.db"))
    assert done.returncode == 2, (done.returncode, done.stdout[-300:], done.stderr)
    assert done.stderr == (
        f"tui-trader: error: {settings}:2: key 'timeout': at most 600 seconds, got '9999'\n"
    ), done.stderr
    assert not (tmp_path / "desk.db").exists(), "the command ran on"


def test_paper_refuses_a_timeout_of_9999_on_the_command_line(tmp_path: Path) -> None:
    """``paper --timeout 9999``: the same bound as ``live paper --timeout``, in one line."""
    done = run_cli(tmp_path, "paper", "--timeout", "9999", "--db", str(tmp_path / "desk.db"))
    assert done.returncode == 2, (done.stdout[-300:], done.stderr)
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert "argument --timeout: at most 600 seconds, got '9999'" in done.stderr, done.stderr
