"""The closing lines of a session stay lines: a session of many symbols counts their regimes.

The "Learning:" line named every symbol's regime: a 20,000-symbol session printed one line of
about 280 KB. Past a dozen symbols it now says how many are in each regime.
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.cli_helpers import run_cli


def _learning_line(out: str) -> str:
    [line] = [line for line in out.splitlines() if " Learning: weights " in line]
    return line


def test_a_session_of_many_symbols_counts_them_by_regime(tmp_path: Path) -> None:
    symbols = [f"S{i:03d}" for i in range(200)]
    done = run_cli(
        tmp_path,
        "paper",
        "--symbols",
        ",".join(symbols),
        "--iterations",
        "2",
        "--db",
        str(tmp_path / "many.db"),
    )
    assert done.returncode == 0, done.stderr
    line = _learning_line(done.stdout)
    assert "; regimes of 200 symbols: " in line, line
    counted = line.split("; regimes of 200 symbols: ")[1].split(", ")
    assert sum(int(part.rsplit(" ", 1)[1]) for part in counted) == 200
    assert not any(symbol in line for symbol in symbols), "a symbol named one by one"
    assert len(line) < 300


def test_a_session_of_a_few_symbols_names_each_ones_regime(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "paper", "--iterations", "2", "--db", str(tmp_path / "few.db"))
    assert done.returncode == 0, done.stderr
    line = _learning_line(done.stdout)
    for symbol in ("SPY", "QQQ", "IWM"):
        assert f"{symbol} " in line.split("; regimes ")[1], line
