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


def test_a_dot_env_whose_references_grow_without_end_is_refused_at_once(tmp_path: Path) -> None:
    """Each line doubling the one before (``A2=${A1}${A1}``): python-dotenv fills the
    references in, so 1 KB of 30 such lines took 48 s and 8 GB of memory before ``live status``
    said anything. Now the file is refused, naming the line's variable, before any is built."""
    lines = ["A0=xxxxxxxx", *(f"A{i}=${{A{i - 1}}}${{A{i - 1}}}" for i in range(1, 21))]
    (tmp_path / ".env").write_text("\n".join(lines) + "\n")
    out = run_cli(tmp_path, "live", "status")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, out.stderr
    assert "A17 grows past 1 MB once its ${...} references are filled in" in out.stderr
