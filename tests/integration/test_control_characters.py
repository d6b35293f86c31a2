"""What a user typed is never printed raw, and keys and addresses are checked before use.

An error line quotes the value it refuses; an escape sequence in it (``tui-trader paper
$'\\e[2J'``) was printed as is, and cleared the screen that one line was on. ``serve --host``
printed its value raw in the refusal and in the remote warning (and an empty host listens on
every address). ``sandbox --key-id`` and ``--secret`` took anything, an empty one falling back
to the well-known keys, and the key id went unquoted into the ``export`` line the user pastes.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.cli_helpers import cli_env
from tests.integration.test_bad_input import assert_one_line_exit_2, run_main

CLEAR = "\x1b[2J"
"""The escape sequence that clears a terminal."""

CASES: list[tuple[str, list[str], str]] = [
    ("stray-argument", ["paper", CLEAR], "unrecognized arguments: \\x1b[2J"),
    ("serve-host-escape", ["serve", "--host", CLEAR + "evil"], "--host: holds a control"),
    ("serve-host-empty", ["serve", "--host", ""], "--host: is empty"),
    ("sandbox-key-escape", ["sandbox", "--key-id", CLEAR], "--key-id: holds a space or a"),
    ("sandbox-key-empty", ["sandbox", "--key-id", ""], "--key-id: is empty"),
    ("sandbox-secret-space", ["sandbox", "--secret", "my secret"], "(the secret is not shown)"),
    ("sandbox-secret-empty", ["sandbox", "--secret", ""], "--secret: is empty"),
    (
        "learn-window-name",
        ["learn", "evaluate", "--window", CLEAR + ":2024-01-02:2024-02-01", "--bars", "20"],
        "the window's name holds a control character",
    ),
]


@pytest.mark.parametrize(("argv", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_control_character_never_reaches_the_terminal(
    place: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    code, out, err, _ = run_main(argv, capsys)
    assert_one_line_exit_2(code, out, err, words, place)
    assert "\x1b" not in err
    assert "my secret" not in err


def test_a_bad_sandbox_secret_in_the_environment_is_refused_unshown(
    place: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUI_TRADER_SANDBOX_SECRET", "top\tsecret")
    code, out, err, _ = run_main(["sandbox", "--port", "0"], capsys)
    assert_one_line_exit_2(code, out, err, "$TUI_TRADER_SANDBOX_SECRET holds a space", place)
    assert "top" not in err


def test_the_sandbox_export_line_quotes_the_key_id(tmp_path: Path) -> None:
    """A key id with a ``;`` is pasted as one word, not as a second command."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_trader", "sandbox", "--port", "0", "--key-id", "PK;date"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=cli_env(tmp_path),
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        lines: list[str] = []
        while not any("export " in line for line in lines):
            assert time.monotonic() < deadline and proc.stdout is not None, lines
            line = proc.stdout.readline()
            assert line, f"the sandbox ended: {lines}"
            lines.append(line)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    export = next(line for line in lines if "export " in line)
    assert "export APCA_API_KEY_ID='PK;date' " in export
