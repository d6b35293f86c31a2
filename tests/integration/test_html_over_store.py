"""``report --html FILE`` refuses a FILE that is a SQLite database instead of writing over it.

``tui-trader report --db desk.db --html desk.db`` (a slip of the shell's history, or a link
named ``report.html`` that points at the store) printed "HTML report written to desk.db" and
exit 0: the audit trail was replaced by a web page.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_bad_input import assert_one_line_exit_2, run_main
from tui_trader.cli import main

WORDS = "is a SQLite database (an audit store or its backup?): it would be written over"


@pytest.fixture
def desk(place: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A session's audit database in ``place``."""
    assert main(["paper", "--db", "desk.db", "--iterations", "2"]) == 0  # main thread: signals
    capsys.readouterr()
    return place / "desk.db"


@pytest.mark.parametrize("target", ["desk.db", "report.html"], ids=["itself", "link-to-it"])
def test_the_html_page_is_not_written_over_the_database(
    desk: Path, place: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    if target == "report.html":
        (place / target).symlink_to(desk)
    before = desk.read_bytes()
    code, out, err, _ = run_main(["report", "--db", "desk.db", "--html", target], capsys)
    assert_one_line_exit_2(code, out, err, f"argument --html: {target} {WORDS}", place)
    assert desk.read_bytes() == before
    code, _, err, _ = run_main(["history", "--db", "desk.db"], capsys)
    assert code == 0, err  # the store still reads


def test_a_new_html_file_is_still_written(
    desk: Path, place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err, _ = run_main(["report", "--db", "desk.db", "--html", "page.html"], capsys)
    assert code == 0, err
    assert (place / "page.html").read_text().startswith("<!DOCTYPE html>")
