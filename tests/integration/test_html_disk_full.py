"""``report --html FILE`` stopped by the system halfway through its page (a full disk, a quota,
a file-size limit): the page under that name stays whole, the earlier one if there was one.

The page (~4.8 MB: plotly.js is inside it) was written in place: cut off, it left half a page
under the name (the earlier page gone) that a browser showed as a report without its charts.
Now it is written to a new file beside it and renamed over the name once whole, as the desk's
other files are (``security.private_files.replace_privately``). A file-size limit
(``RLIMIT_FSIZE``, as ``ulimit -f``; Python ignores SIGXFSZ) stands in for the full disk.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.cli_helpers import cli_env, seeded_paper_db

LIMIT = 3_000_000
"""Bytes any file of the child may grow to: the database fits, the page does not."""


def _limited() -> None:
    """In the child, before it runs: files may not grow past ``LIMIT``."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded local session's database."""
    return seeded_paper_db(tmp_path_factory.mktemp("html"))


def test_a_page_cut_off_by_the_system_leaves_the_earlier_page_whole(
    db: Path, tmp_path: Path
) -> None:
    assert db.stat().st_size < LIMIT // 2
    out = tmp_path / "report.html"
    earlier = "<!DOCTYPE html><html><body>yesterday's report</body></html>"
    out.write_text(earlier)
    done = subprocess.run(
        [sys.executable, "-m", "tui_trader", "report", "--db", str(db), "--html", str(out)],
        capture_output=True, text=True, env=cli_env(tmp_path), cwd=tmp_path, timeout=120,
        preexec_fn=_limited,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tui-trader: error: --html: cannot write {out}")
    assert "File too large" in lines[0], lines[0]
    assert out.read_text() == earlier, "the earlier page was cut off"
    assert sorted(p.name for p in tmp_path.iterdir() if "report" in p.name) == ["report.html"]


def test_a_page_cut_off_by_the_system_leaves_no_page(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "tui_trader", "report", "--db", str(db), "--html", str(out)],
        capture_output=True, text=True, env=cli_env(tmp_path), cwd=tmp_path, timeout=120,
        preexec_fn=_limited,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert not out.exists(), "a cut-off page was left under the name"
    assert not [p for p in tmp_path.iterdir() if "report" in p.name]
