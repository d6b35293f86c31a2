"""Names the user chose are shown as written, square brackets and all.

rich reads ``[red]`` as a style and ``[/bold]`` as a closing tag. A database, a replay file or a
report page named so showed under another name (``--db 'x[red]y.db'``: "Database: xy.db"),
and a name whose closing tag matched nothing ended the command with a crash line (MarkupError,
exit 1): ``paper`` after its session row was written (the row was left to die), ``report
--html`` after the page was written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.cli_helpers import run_cli
from tests.integration.test_bad_input import daily_file, run_main


def test_a_session_and_its_report_name_their_files_as_written(tmp_path: Path) -> None:
    """The database and the replay file in the session's header, the report page's name after
    it is written: each as typed, and the session ends as recorded."""
    (tmp_path / "d[").mkdir()
    daily_file(tmp_path / "x[bold]y.csv")
    db = "d[/bold].db"
    out = run_cli(
        tmp_path,
        "paper",
        "--data",
        "replay:x[bold]y.csv",
        "--period",
        "20d",
        "--iterations",
        "2",
        "--db",
        db,
    )
    assert out.returncode == 0, out.stderr
    assert "Database: d[/bold].db" in out.stdout
    assert "replay x[bold]y.csv" in out.stdout
    status = run_cli(tmp_path, "status", "--db", db)
    assert "status=completed" in status.stdout, status.stdout  # not left to die
    page = "d[/bold].html"  # its closing tag matched nothing: a crash line once written
    out = run_cli(tmp_path, "report", "--db", db, "--html", page)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    assert f"HTML report written to {page}" in out.stdout
    assert (tmp_path / page).is_file()


def test_a_bar_file_named_like_a_pattern_is_that_file(tmp_path: Path) -> None:
    """polars reads a path as a glob pattern: a replay of '[ab].csv' traded the bars of a.csv
    and b.csv together (QQQ and SPY), not the file's own IWM."""
    daily_file(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text((tmp_path / "a.csv").read_text().replace(",SPY,", ",QQQ,"))
    (tmp_path / "[ab].csv").write_text((tmp_path / "a.csv").read_text().replace(",SPY,", ",IWM,"))
    out = run_cli(
        tmp_path, "paper", "--data", "replay:[ab].csv", "--period", "20d", "--iterations", "1"
    )
    assert out.returncode == 0, out.stderr
    assert "Symbols: IWM\n" in out.stdout, out.stdout


def test_learn_evaluate_names_its_files_as_written(
    place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each file's verdict line names it: 'x[red]y.csv' read as 'xy.csv', its verdict in red."""
    daily_file(place / "x[red]y.csv", days=300)
    code, out, err, _ = run_main(
        ["learn", "evaluate", "--data", "x[red]y.csv", "--seeds", "1"], capsys
    )
    assert code == 0 and err == "", err
    assert "verdict x[red]y.csv: " in out, out
