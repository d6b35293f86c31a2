"""``tui-trader db prune --before DATE``: the learning history trimmed, nothing else.

A desk writes ~50 learning rows a cycle, running or halted (~1M rows a day at the desk's pace),
and there was no way to trim them: the database only grew. Pruning deletes learning rows written
before DATE except the latest cycle of each strategy set (what the next start restores), after a
verified backup on SQLite; orders, fills, trades, snapshots, risk events and sessions stay.
"""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import file_rows
from tests.integration.cli_helpers import cli_env, read_until, run_cli, start_cli_on_terminal
from tests.integration.prune_helpers import (
    START,
    db_arg,
    latest_rows,
    restored,
    rows_per_table,
    run_adaptive,
)
from tui_trader.cli import main
from tui_trader.store.db import open_database
from tui_trader.store.learning_models import LEARNING_MODELS, LearningWeightRow
from tui_trader.store.models import MODELS
from tui_trader.store.pg_url import PgUrl


def test_prune_deletes_old_learning_keeps_the_audit_and_what_a_start_restores(
    store: Path | PgUrl, capsys
) -> None:
    """SQLite and PostgreSQL: the learning rows of every cycle but the last go; every audit
    table keeps each row; the next start restores the very weights it would have."""
    learned = run_adaptive(store, 30)
    before = rows_per_table(store)
    last = latest_rows(store)
    assert before["learning_weights"] > 0 and before["live_orders"] > 0
    capsys.readouterr()
    assert main(["db", "prune", "--before", "2026-11-25", "--db", db_arg(store), "--yes"]) == 0
    out = capsys.readouterr().out
    after = rows_per_table(store)
    for model in MODELS:  # the audit trail, risk state, halts and sessions: every row
        table = model._meta.table_name
        assert after[table] == before[table], table
    for model in LEARNING_MODELS:  # each key's newest row left (regime calls: the last cycle's)
        table = model._meta.table_name
        assert 0 < after[table] == last[table] < before[table], table
        assert f"{before[table] - after[table]:,} {table}" in out
    assert "kept the latest learning of 1 strategy set(s)" in out
    assert restored(store) == pytest.approx(learned)


def test_sqlite_is_backed_up_before_anything_is_deleted(tmp_path: Path, capsys) -> None:
    """The verified backup holds every row the prune deleted."""
    db = tmp_path / "desk.db"
    run_adaptive(db, 5)
    before = rows_per_table(db)
    capsys.readouterr()
    assert main(["db", "prune", "--before", "2026-11-25", "--db", str(db), "--yes"]) == 0
    (backup,) = (tmp_path / "backups").glob("desk-*Z.db")
    assert f"backup verified: {backup}" in capsys.readouterr().out
    assert rows_per_table(backup) == before
    assert rows_per_table(db)["learning_shadow"] < before["learning_shadow"]


def test_rows_from_the_date_on_are_kept(tmp_path: Path) -> None:
    """Two sessions a week apart: a date between them deletes the first's learning only."""
    db = tmp_path / "desk.db"
    run_adaptive(db, 4)
    run_adaptive(db, 3, START + timedelta(days=7))
    assert main(["db", "prune", "--before", "2026-11-30", "--db", str(db), "--yes"]) == 0
    opened = open_database(db)
    try:
        sessions = {row.session_id for row in LearningWeightRow.select()}
        cycles = {row.iteration for row in LearningWeightRow.select()}
    finally:
        opened.close()
    assert sessions == {2} and cycles == {1, 2, 3}


def test_the_latest_cycle_of_every_strategy_set_is_kept(tmp_path: Path) -> None:
    """An older strategy set's last cycle stays too (a desk run with it again restores it)."""
    db = tmp_path / "desk.db"
    run_adaptive(db, 5)
    conn = sqlite3.connect(db)
    with conn:  # cycles 1-2 as another strategy set's (a desk run with fewer strategies)
        conn.execute("UPDATE learning_weights SET strategies = 'trend' WHERE iteration <= 2")
    newest = file_rows(
        db, "SELECT max(id) FROM learning_weights GROUP BY strategies, regime, strategy"
    )
    conn.close()
    assert main(["db", "prune", "--before", "2026-11-25", "--db", str(db), "--yes"]) == 0
    opened = open_database(db)
    try:
        kept = {row.id for row in LearningWeightRow.select()}
        sets = {row.strategies for row in LearningWeightRow.select()}
    finally:
        opened.close()
    assert kept == {row_id for (row_id,) in newest}  # each key's newest weight, of both sets
    assert "trend" in sets and len(sets) == 2


@pytest.mark.parametrize(
    ("before", "said"),
    [
        ("2999-01-01", "--before 2999-01-01 is in the future"),
        ("20261101", "not a date (YYYY-MM-DD): '20261101'"),
        ("2026-02-30", "not a date (YYYY-MM-DD): '2026-02-30'"),
        ("yesterday", "not a date (YYYY-MM-DD): 'yesterday'"),
    ],
)
def test_a_bad_or_future_date_is_one_line_exit_2_and_nothing_deleted(
    tmp_path: Path, capsys, before: str, said: str
) -> None:
    db = tmp_path / "desk.db"
    run_adaptive(db, 3)
    counts = rows_per_table(db)
    capsys.readouterr()
    with pytest.raises(SystemExit) as refused:
        main(["db", "prune", "--before", before, "--db", str(db), "--yes"])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1 and "Traceback" not in err
    assert rows_per_table(db) == counts
    assert not (tmp_path / "backups").exists()


def test_off_a_terminal_without_yes_nothing_is_deleted(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A script's prune without --yes: refused in one line, no backup, no row deleted (even
    with 'prune' waiting on its standard input)."""
    db = tmp_path / "desk.db"
    run_adaptive(db, 3)
    counts = rows_per_table(db)
    monkeypatch.setattr(sys, "stdin", io.StringIO("prune\n"))
    capsys.readouterr()
    with pytest.raises(SystemExit) as refused:
        main(["db", "prune", "--before", "2026-11-25", "--db", str(db)])
    assert refused.value.code == 2
    assert capsys.readouterr().err == (
        "tui-trader: error: refusing to prune without confirmation: run in a terminal or pass "
        "--yes\n"
    )
    assert rows_per_table(db) == counts
    assert not (tmp_path / "backups").exists()


def test_a_damaged_database_is_refused_in_one_line_and_left_as_it_was(
    tmp_path: Path, capsys
) -> None:
    db = tmp_path / "desk.db"
    run_adaptive(db, 3)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    data[4096:8192] = bytes(b ^ 0xFF for b in data[4096:8192])  # the second page, scrambled
    db.write_bytes(bytes(data))
    capsys.readouterr()
    with pytest.raises(SystemExit) as refused:
        main(["db", "prune", "--before", "2026-11-25", "--db", str(db), "--yes"])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{db} is damaged" in err, err
    assert db.read_bytes() == bytes(data)
    assert not (tmp_path / "backups").exists()


def test_nothing_older_says_so_and_makes_no_backup(tmp_path: Path, capsys) -> None:
    db = tmp_path / "desk.db"
    run_adaptive(db, 3)
    capsys.readouterr()
    assert main(["db", "prune", "--before", "2026-11-20", "--db", str(db), "--yes"]) == 0
    assert capsys.readouterr().out == (
        "nothing to prune: no learning rows written before 2026-11-20\n"
    )
    assert not (tmp_path / "backups").exists()


def _desk_cycles(db: Path, session_id: int) -> int:
    """Cycles the session has written learning for, read with the test's own connection."""
    (count,) = file_rows(
        db,
        "SELECT count(DISTINCT iteration) FROM learning_regimes WHERE session_id = ?",
        session_id,
    )[0]
    return count


def _wait_for(check: Callable[[], bool], proc: subprocess.Popen, what: str) -> None:
    """Poll ``check`` until it holds, the desk ends, or a minute passes."""
    deadline = time.monotonic() + 60
    while not check():
        assert proc.poll() is None, f"the desk ended before {what}"
        assert time.monotonic() < deadline, f"no {what} within 60 s"
        time.sleep(0.1)


def test_a_desk_running_on_the_database_goes_on_and_keeps_its_rows(tmp_path: Path) -> None:
    """A headless desk writing beside the prune: the older session's learning goes, the
    running desk's rows (written today) all stay, it keeps cycling and ends cleanly."""
    db = tmp_path / "desk.db"
    run_adaptive(db, 4)
    old_orders = file_rows(db, "SELECT count(*) FROM live_orders")[0][0]
    today = datetime.now(UTC).date()  # before the desk writes a row: all of its rows are after
    env = cli_env(tmp_path)
    with open(tmp_path / "desk.out", "w") as out, open(tmp_path / "desk.err", "w") as err:
        desk = subprocess.Popen(
            [sys.executable, "-m", "tui_trader", "paper", "--iterations", "0", "--every", "0.2",
             "--db", str(db)],
            stdout=out, stderr=err, env=env, cwd=tmp_path,
        )  # fmt: skip
    try:
        _wait_for(lambda: _desk_cycles(db, 2) >= 3, desk, "3 desk cycles")
        done = run_cli(tmp_path, "db", "prune", "--before", str(today), "--db", str(db), "--yes")
        assert done.returncode == 0, done.stderr
        assert "pruned " in done.stdout
        after_prune = _desk_cycles(db, 2)
        _wait_for(lambda: _desk_cycles(db, 2) >= after_prune + 3, desk, "3 cycles after it")
    finally:
        desk.send_signal(signal.SIGINT)
        desk.wait(timeout=60)
    assert desk.returncode == 0, (tmp_path / "desk.err").read_text()
    assert file_rows(db, "SELECT count(*) FROM learning_weights WHERE session_id = 1") == [(0,)]
    cycles = file_rows(db, "SELECT max(iteration) FROM learning_regimes WHERE session_id = 2")
    assert _desk_cycles(db, 2) == cycles[0][0]  # every cycle of the desk's still there
    assert file_rows(db, "SELECT count(*) FROM live_orders WHERE session_id = 1") == [(old_orders,)]
    assert file_rows(db, "SELECT status FROM sessions WHERE id = 2")[0][0] != "running"


@pytest.mark.parametrize(("answer", "code"), [("prune", 0), ("yes", 2)])
def test_on_a_terminal_it_says_what_goes_and_asks_for_the_word(
    tmp_path: Path, answer: str, code: int
) -> None:
    """The question names the rows per table and what is never touched; 'prune' typed in full
    goes on, anything else deletes nothing and makes no backup (exit 2)."""
    db = tmp_path / "desk.db"
    run_adaptive(db, 3)
    before = rows_per_table(db)
    proc, master = start_cli_on_terminal(
        tmp_path, "db", "prune", "--before", "2026-11-25", "--db", str(db)
    )
    try:
        shown = read_until(proc, b"to delete them: ")
        assert b"learning rows written before 2026-11-25 00:00 UTC" in shown
        assert b"no order, fill, trade, snapshot, risk event or halt is touched" in shown
        os.write(master, f"{answer}\n".encode())
        _out, err = proc.communicate(timeout=60)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == code, err
    after = rows_per_table(db)
    if code == 0:
        assert after["learning_weights"] < before["learning_weights"]
        assert (tmp_path / "backups").is_dir()
    else:
        assert err.decode() == "tui-trader: error: not pruned: nothing was deleted\n"
        assert after == before and not (tmp_path / "backups").exists()
