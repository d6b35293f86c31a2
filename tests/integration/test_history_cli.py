"""``history`` at 80 columns, short rationales, and the live commands' --help."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.cli_helpers import cli_env, run_cli, seeded_paper_db


def _run80(tmp_path: Path, *args: str) -> str:
    """The command's output in an 80-column terminal."""
    env = cli_env(tmp_path)
    env["COLUMNS"] = "80"
    done = subprocess.run(
        [sys.executable, "-m", "tui_trader", *args],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded local session with trades and orders (adaptive weights: long rationales)."""
    return seeded_paper_db(tmp_path_factory.mktemp("hist"))


def test_history_at_80_columns_keeps_dates_and_pnl_pct_whole(db: Path, tmp_path: Path) -> None:
    """Every trade line has its full close time and its pnl %, and fits 80 columns."""
    out = _run80(tmp_path, "history", "--db", str(db), "--limit", "5")
    rows = [line for line in out.splitlines() if re.match(r"^\s*\d+\s", line)]
    assert len(rows) == 5
    for line in rows:
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", line), line
        assert re.search(r"[+-]\d+\.\d\d%", line), line
    assert max(len(line) for line in out.splitlines()) <= 80


def test_history_at_80_columns_fits_fractional_trades_of_large_prices(
    db: Path, tmp_path: Path
) -> None:
    """Bitcoin-sized prices (~66,000 a unit) with fractional quantities: every line still fits
    80 columns, with its full close time, both prices whole and its pnl %. (The history's
    round trips are rebuilt from the fills: the fills are made bitcoin's.)"""
    big = tmp_path / "big.db"
    shutil.copy(db, big)
    with sqlite3.connect(big) as con:
        con.execute(
            "UPDATE live_fills SET symbol = 'BTC-USD', quantity = 0.015151, commission = 6.17, "
            "price = CASE side WHEN 'buy' THEN 66123.45 ELSE 66789.01 END"
        )
    out = _run80(tmp_path, "history", "--db", str(big), "--limit", "5")
    rows = [line for line in out.splitlines() if re.match(r"^\s*\d+\s", line)]
    assert len(rows) == 5
    for line in rows:
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d ", line), line
        assert re.search(r"[+-]\d+\.\d\d%", line) and "0.015151" in line, line
        assert " 12.34 " in line, line
    assert out.count("66,123.45") == 5 and out.count("66,789.01") == 5
    assert max(len(line) for line in out.splitlines()) <= 80


def test_history_orders_at_80_columns_keep_fractional_quantities_whole(
    db: Path, tmp_path: Path
) -> None:
    """The same orders of 0.015151 bitcoin filled at 66,123.45: every quantity, filled
    quantity, status and price is whole, and nothing is cut at the right edge (the table
    needed 86 columns: quantities read "0.015…", statuses "cance…", the rationale was cropped)."""
    big = tmp_path / "big.db"
    shutil.copy(db, big)
    with sqlite3.connect(big) as con:
        con.execute(
            "UPDATE live_orders SET symbol = 'BTC-USD', quantity = 0.015151, filled_qty = "
            "CASE WHEN filled_qty > 0 THEN 0.015151 ELSE 0 END, filled_price = "
            "CASE WHEN filled_price > 0 THEN 66123.45 ELSE filled_price END"
        )
        rows = con.execute(
            "SELECT status, filled_qty > 0 FROM live_orders ORDER BY id DESC LIMIT 6"
        ).fetchall()
    out = _run80(tmp_path, "history", "--db", str(big), "--orders", "--limit", "6")
    filled = sum(1 for _status, was_filled in rows if was_filled)
    assert filled and out.count("0.015151") == len(rows) + filled
    assert out.count("66,123.45") == filled
    for status, _ in rows:
        assert re.search(rf"\s{status}\s", out), status
    header = next(line for line in out.splitlines() if "market time" in line)
    assert header.rstrip().endswith("rationale")
    assert max(len(line) for line in out.splitlines()) <= 80


def test_history_orders_shows_short_rationales_unless_verbose(db: Path, tmp_path: Path) -> None:
    """Short: the target and the strategies behind it; --verbose: the whole rationale."""
    short = _run80(tmp_path, "history", "--db", str(db), "--orders", "--limit", "3")
    assert "target" in short and "weights" not in short and "regime" not in short
    rows = [line for line in short.splitlines() if re.match(r"^\s*\d+\s", line)]
    assert all(re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", line) for line in rows)
    full = _run80(tmp_path, "history", "--db", str(db), "--orders", "--limit", "3", "--verbose")
    assert "weights" in full.replace("\n", " ")


@pytest.mark.parametrize("action", ["paper", "trading"])
def test_live_help_states_the_live_defaults_and_no_replay_options(
    tmp_path: Path, action: str
) -> None:
    """1m bars, 5d warm-up, a cycle per bar; no replay file or replay-speed options."""
    out = run_cli(tmp_path, "live", action, "--help").stdout
    assert "bar interval: 1m 5m 15m 30m 1h 1d (1m)" in out
    assert "warm-up history before trading (5d)" in out
    assert "default: the bar interval" in out
    for replay_only in ("--snapshot-every", "--commit-every", "replay", "end of the data"):
        assert replay_only not in out, replay_only
