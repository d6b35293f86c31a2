"""A ``.env`` that is there but is no file (a folder, a link that loops or leads nowhere): the
user is told what it is, by its path, not only "credentials not found" about a file that
seems to exist. One line, exit 2, nothing sent.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.cli_helpers import run_cli

KINDS: dict[str, tuple[Callable[[Path], None], str]] = {
    "folder": (lambda p: p.mkdir(), "is a folder, not a settings file"),
    "link-loop": (lambda p: os.symlink(p.name, p), "is a symbolic link that loops"),
    "link-to-nothing": (
        lambda p: os.symlink("gone.env", p),
        "is a symbolic link to gone.env, which does not exist",
    ),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_dot_env_that_is_no_file_is_named(tmp_path: Path, kind: str) -> None:
    """``live paper`` without credentials in the environment names the ``.env`` and what it is."""
    make, words = KINDS[kind]
    env_file = tmp_path / ".env"
    make(env_file)
    out = run_cli(tmp_path, "live", "paper", "--iterations", "1")
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert "Alpaca credentials not found" in lines[0]
    assert f"{env_file} {words}" in lines[0], lines[0]
