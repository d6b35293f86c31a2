"""The paper-to-live gate: ``live readiness`` on a fresh database and after a paper record."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import make_session
from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.paper_record import write_paper_record
from tui_trader.cli import main
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.pg_url import PgUrl

RALLY = {"SPY": 1.0, "QQQ": 1.0, "IWM": 1.0}


def test_a_fresh_database_is_not_ready(tmp_path: Path, capsys) -> None:
    """Nothing traded on paper: exit 1, ``not ready`` and the reason."""
    assert main(["live", "readiness", "--db", str(tmp_path / "fresh.db")]) == 1
    out = capsys.readouterr().out
    assert "not ready: no Alpaca paper sessions in this database" in out


def test_local_sessions_show_in_the_record_but_do_not_make_it_ready(db_path: Path, capsys) -> None:
    """A simulated session is listed with its numbers; only Alpaca paper counts for the bar."""
    session = make_session(db_path)
    for _ in range(12):
        session.run_iteration()
    session.finish("completed")
    assert main(["live", "readiness", "--db", str(db_path)]) == 1
    out = capsys.readouterr().out
    assert f"local        {session.account_key}" in out and "iterations 12" in out
    assert "not ready: no Alpaca paper sessions" in out


def test_a_damaged_database_is_named_not_a_crash(db_path: Path, capsys) -> None:
    """The gate reads the record with its own connection, past the damage scan every other
    command makes: ``live readiness`` (and ``live trading``'s gate) on a damaged file ended with
    a crash line, "DatabaseError: database disk image is malformed", exit 1."""
    session = make_session(db_path)
    for _ in range(12):
        session.run_iteration()
    session.finish("completed")
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db_path.read_bytes())
    data[4096:8192] = bytes(b ^ 0xFF for b in data[4096:8192])  # the second page, scrambled
    db_path.write_bytes(bytes(data))
    with pytest.raises(SystemExit) as refused:
        main(["live", "readiness", "--db", str(db_path)])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{db_path} is damaged" in err, err


def _sandbox_record(sandbox: SandboxHandle, db: Path, cycles: int) -> str:
    """Trade the sandbox's paper account through a rally its admin API pushed (anyone on the
    machine can); returns the account key."""
    session = alpaca_session(sandbox, db, learning=LearningSettings("trend"))
    for n in range(cycles):
        sandbox.admin.step(shock=RALLY if n < 8 else None)
        session.run_iteration()
    settle(sandbox, session)
    session.finish("completed")
    session.broker.close()
    return session.account_key


def test_a_rally_pushed_on_the_sandbox_is_no_paper_record_for_real_money(
    sandbox: SandboxHandle, tmp_path: Path, capsys
) -> None:
    """12 cycles on the sandbox through a rally its admin API pushed: listed as a session on
    another host, and ``not ready``, saying why, exit 1 (on main: ``ready``, exit 0, and
    ``live trading`` went on to real money without ``--skip-readiness``). A session on
    Alpaca's paper host in the same database is ready, and the verdict still says what it
    left out."""
    db = tmp_path / "paper.db"
    sandboxed = _sandbox_record(sandbox, db, 12)
    assert main(["live", "readiness", "--db", str(db)]) == 1
    out = capsys.readouterr().out
    place = sandbox.base_url  # http://127.0.0.1:<port>
    assert f"other host   {sandboxed}" in out and "iterations 12" in out
    assert f"(on {place}: does not count)" in out
    left_out = (
        f"1 session on another host ({place}) does not count: only Alpaca's paper host "
        "paper-api.alpaca.markets does"
    )
    assert (
        f"not ready: no Alpaca paper sessions in this database (run 'live paper'); {left_out}"
    ) in out
    account = write_paper_record(db)
    assert main(["live", "readiness", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"ready (paper record of {account}); {left_out}" in out


def test_a_record_on_alpacas_paper_host_is_ready_and_every_rule_still_holds(
    tmp_path: Path, capsys
) -> None:
    """12 cycles on ``https://paper-api.alpaca.markets`` with equity up 250 (written through
    the store's API as such a session writes it): ``ready``, exit 0; each threshold given as
    an option refuses the same record, naming the shortfall."""
    db = tmp_path / "paper.db"
    account = write_paper_record(db, gain=250.0, deepest_drawdown_pct=1.5)
    assert main(["live", "readiness", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"alpaca paper {account}" in out and "iterations 12" in out
    assert "PnL +250.00  max drawdown 1.50%" in out
    assert f"ready (paper record of {account})" in out and "does not count" not in out
    for options, shortfall in (
        (["--min-iterations", "50"], "12 iterations, at least 50 needed"),
        (["--min-pnl", "300"], "PnL +250.00 is not above +300.00"),
        (["--max-drawdown-seen", "1"], "max drawdown 1.50% above 1.00%"),
        (["--min-days", "1"], "0 days traded, at least 1 needed"),
    ):
        assert main(["live", "readiness", "--db", str(db), *options]) == 1
        assert f"not ready: {account}: {shortfall}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("endpoint", "place"),
    [
        (
            "https://paper-api.alpaca.markets.example.com",
            "https://paper-api.alpaca.markets.example.com)",
        ),
        ("https://api.alpaca.markets", "https://api.alpaca.markets"),
        (
            "http://127.0.0.1:9\\@paper-api.alpaca.markets",
            "an address read as two hosts, paper-api.alpaca.markets and 127.0.0.1",
        ),
        ("http://trader:hunter2@127.0.0.1:9/v2", "http://127.0.0.1:9"),
        (None, "no endpoint stored"),
    ],
    ids=["look-alike", "live-host", "two-hosts", "password", "none"],
)
def test_a_paper_session_stored_with_any_other_endpoint_does_not_count(
    tmp_path: Path, capsys, endpoint: str | None, place: str
) -> None:
    """The same winning record with another stored endpoint: a look-alike host, Alpaca's live
    host, an address the HTTP client would read as another host than the check (a backslash:
    older versions stored such), none. Not ready, the endpoint named by its host only (never a
    password an older version stored with it)."""
    db = tmp_path / "paper.db"
    account = write_paper_record(db, endpoint=endpoint)
    assert main(["live", "readiness", "--db", str(db)]) == 1
    out = capsys.readouterr().out
    assert f"other host   {account}" in out
    assert "not ready: no Alpaca paper sessions in this database" in out
    assert f"1 session on another host ({place}" in out and "hunter2" not in out


def test_the_paper_host_counts_in_any_case_with_a_port_or_a_trailing_dot(
    tmp_path: Path, capsys
) -> None:
    """The host is read as ``brokers.alpaca_config`` reads it: ``https://PAPER-API.Alpaca.
    Markets.:443`` is Alpaca's paper host."""
    db = tmp_path / "paper.db"
    account = write_paper_record(db, endpoint="https://PAPER-API.Alpaca.Markets.:443")
    assert main(["live", "readiness", "--db", str(db)]) == 0
    assert f"ready (paper record of {account})" in capsys.readouterr().out


def test_both_stores_count_the_paper_host_and_name_what_they_left_out(
    store: Path | PgUrl, tmp_path: Path, capsys
) -> None:
    """On SQLite and on PostgreSQL alike: a losing session on Alpaca's paper host and a winning
    one on the sandbox's address, in one account. The sandbox's gain does not make the account
    ready: the paper host's record is judged alone (PnL -40), and the other session is named."""
    account = write_paper_record(store, gain=-40.0)
    write_paper_record(store, endpoint="http://127.0.0.1:8765", gain=5_000.0)
    assert main(["live", "readiness", "--db", str(store)]) == 1
    out = capsys.readouterr().out
    assert f"alpaca paper {account}" in out and f"other host   {account}" in out
    assert (
        f"not ready: {account}: PnL -40.00 is not above +0.00; 1 session on another host "
        "(http://127.0.0.1:8765) does not count"
    ) in out
