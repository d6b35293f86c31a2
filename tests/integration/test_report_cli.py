"""``tui-trader report`` and the summary that ends ``paper --batch``, run as a user runs them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import polars as pl
import pytest

from tests.integration.cli_helpers import run_cli, seeded_paper_db


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short seeded local session with trades (shared: the tests only read it)."""
    return seeded_paper_db(tmp_path_factory.mktemp("report"))


def test_report_prints_the_figures_and_writes_an_owner_only_offline_page(
    db: Path, tmp_path: Path
) -> None:
    """The terminal shows every figure and both charts; the page carries plotly.js itself."""
    page = tmp_path / "report.html"
    done = run_cli(tmp_path, "report", "--db", str(db), "--html", str(page))
    assert done.returncode == 0, done.stderr
    for label in (
        "Return", "CAGR", "Sharpe", "Sortino", "Max drawdown", "DD duration", "Exposure",
        "Trades", "Win rate", "Profit factor", "Avg win", "Avg loss", "Best trade",
        "Worst trade", "Turnover", "Commissions", "Slippage", "Equity", "Drawdown",
        "By symbol", "By strategy",
    ):  # fmt: skip
        assert label in done.stdout, label
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    text = page.read_text()
    assert "Plotly.newPlot" in text and "plotly.js v" in text  # the library is in the file
    assert '<script src="http' not in text and "cdn.plot.ly" not in text.split("plotly.js v")[0]
    assert "Max drawdown duration" in text and "By strategy" in text and "Period" in text


def test_report_of_an_unknown_session_is_one_line_and_exit_2(db: Path, tmp_path: Path) -> None:
    """A wrong key is the user's to fix: no traceback."""
    done = run_cli(tmp_path, "report", "--db", str(db), "--session", "nope")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "no session 'nope'" in done.stderr


def test_a_session_that_never_fell_shows_no_negative_zero_drawdown(tmp_path: Path) -> None:
    """One cycle, no fall: the drawdown was shown as '-0.00%', in the terminal and the page."""
    db, page = tmp_path / "flat.db", tmp_path / "flat.html"
    assert run_cli(tmp_path, "paper", "--iterations", "1", "--db", str(db)).returncode == 0
    done = run_cli(tmp_path, "report", "--db", str(db), "--html", str(page))
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if "Max drawdown" in line)
    assert "0.00%" in row
    assert "-0.00%" not in done.stdout  # nor on the drawdown chart's scale
    assert "-0.00%" not in page.read_text()


def test_paper_batch_ends_with_the_report(tmp_path: Path) -> None:
    """A batch replay's last lines are the same figures ``report`` prints for it."""
    rows = []
    price = 100.0
    for day in range(120):
        price *= 1.01 if (day // 15) % 2 == 0 else 0.99
        rows.append(("2024-01-01T00:00:00+00:00", "AAA", price, price, price, price, 1000.0))
    frame = pl.DataFrame(
        rows, schema=["timestamp", "symbol", "open", "high", "low", "close", "volume"],
        orient="row",
    )  # fmt: skip
    frame = frame.with_columns(
        (pl.datetime(2024, 1, 1, time_zone="UTC") + pl.duration(days=pl.int_range(0, 120))).alias(
            "timestamp"
        )
    )
    replay = tmp_path / "bars.csv"
    frame.write_csv(replay)
    db = tmp_path / "batch.db"
    done = run_cli(
        tmp_path, "paper", "--data", f"replay:{replay}", "--iterations", "0", "--batch",
        "--weights", "trend", "--commit-every", "10", "--db", str(db), "--max-position", "100",
        "--allocation", "100", "--max-drawdown", "100", "--max-daily-loss", "100",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    tail = done.stdout[done.stdout.index("Session end_of_data") :]
    again = run_cli(tmp_path, "report", "--db", str(db))
    assert "Performance" in tail and "Sharpe" in tail and "By strategy" in tail
    figures = again.stdout[again.stdout.index("Performance") :].strip()
    assert figures in tail


def _special(place: Path, kind: str) -> Path:
    """A named pipe, or a private clone of /dev/null (a character device; root only)."""
    path = place / f"{kind}.html"
    if kind == "pipe":
        os.mkfifo(path)
        return path
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root")
    os.chmod(path, 0o666)
    return path


@pytest.mark.parametrize("kind", ["pipe", "device"])
def test_html_to_a_pipe_or_a_device_is_refused_and_leaves_it_alone(
    db: Path, tmp_path: Path, kind: str
) -> None:
    """``report --html PIPE`` waited for a reader forever; ``report --html /dev/null`` wrote
    the page into the device and made it owner-only (0600): run as root, it broke /dev/null for
    every other user of the machine. Both are one line, exit 2, the target untouched (and
    ``data export --out`` refuses them the same way)."""
    target = _special(tmp_path, kind)
    before = stat.S_IMODE(target.stat().st_mode)
    done = run_cli(tmp_path, "report", "--db", str(db), "--html", str(target), timeout=30)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "is not a regular file (a device, pipe or socket)" in done.stderr
    assert len(done.stderr.splitlines()) == 1 and done.stdout == ""
    assert stat.S_IMODE(target.stat().st_mode) == before
    done = run_cli(tmp_path, "data", "export", "--symbol", "SPY", "--out", str(target), timeout=30)
    assert done.returncode == 2 and "is not a regular file" in done.stderr, done.stderr
