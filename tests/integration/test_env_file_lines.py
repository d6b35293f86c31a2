"""Junk lines in ``.env`` are said, by file and line number, never by their text (hostile28c).

python-dotenv skips a line that is no ``NAME=value`` (``garbage line``, ``=x``, a name with no
``=``) and goes on; the command line said nothing about it, so a key written on such a line
read as "credentials not found" with no word of why. Now each skipped line is one warning line
on stderr, once, naming the file and the line number; the line itself may hold a secret pasted
on its own, so its text is never shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.alpaca_helpers import sandbox_env
from tests.integration.cli_helpers import run_cli
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox

PASTED = "pasted-secret-9f3c on its own"
"""A junk line's text: a secret pasted without a name, which must never be printed."""


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    """A sandbox to check the credentials against."""
    with running_sandbox() as sb:
        yield sb


def test_each_skipped_line_is_one_warning_naming_its_number_not_its_text(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """``live status`` with working credentials in ``.env`` and three junk lines among blank
    and comment lines: it runs (exit 0) and says lines 1, 4 and 6 were skipped, each once
    (the file is read twice, for mixed sources and for the values), without their text."""
    settings = [f"{k}={v}" for k, v in sandbox_env(sandbox).items()]
    lines = [PASTED, "# a comment", "", "=x", *settings, "lonely_name_no_equals", "  "]
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(lines) + "\n")
    out = run_cli(tmp_path, "live", "status")
    assert out.returncode == 0, out.stderr
    warnings = out.stderr.splitlines()
    line_of_lonely = lines.index("lonely_name_no_equals") + 1
    assert warnings == [
        f"tui-trader: warning: {env_file}: line 1 skipped (not NAME=value; its text is not shown)",
        f"tui-trader: warning: {env_file}: line 4 skipped (no name before '='; its text is "
        "not shown)",
        f"tui-trader: warning: {env_file}: line {line_of_lonely} skipped (a name with no '='; "
        "its text is not shown)",
    ], out.stderr
    assert "pasted-secret" not in out.stdout + out.stderr
    assert "lonely_name" not in out.stdout + out.stderr


def test_a_key_left_without_its_equals_sign_is_named_in_the_one_line_refusal(
    tmp_path: Path,
) -> None:
    """``APCA_API_KEY_ID PK...`` (a space for the ``=``) is refused as unreadable already; a
    key name alone on its line, its value on the next, set nothing: the refusal ("credentials
    not found") now names those lines, still one line, exit 2, no value shown."""
    env_file = tmp_path / ".env"
    env_file.write_text("APCA_API_KEY_ID\nPKVALUE123 x\nAPCA_API_SECRET_KEY=hunter2-9f3c\n")
    out = run_cli(tmp_path, "live", "status")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, out.stderr
    assert "Alpaca credentials not found: APCA_API_KEY_ID" in out.stderr
    assert f"{env_file}: line 1 skipped (a name with no '='" in out.stderr
    assert f"{env_file}: line 2 skipped (not NAME=value" in out.stderr
    assert "PKVALUE" not in out.stderr and "hunter2" not in out.stderr
