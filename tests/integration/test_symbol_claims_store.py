"""A symbol's claim is taken by compare-and-set: of the sessions that read it alike, exactly one
takes it, on SQLite and PostgreSQL, however their statements interleave."""

from __future__ import annotations

import threading
from pathlib import Path

from tui_trader.store import symbol_claims
from tui_trader.store.db import open_database
from tui_trader.store.pg_url import PgUrl

ACCOUNT = "alpaca:paper:test"


def test_of_two_sessions_that_read_one_claim_only_one_takes_it(store: Path | PgUrl) -> None:
    first, second = open_database(store), open_database(store)
    try:
        seen = symbol_claims.read(first, ACCOUNT).get("SPY")
        assert seen is None  # no order in SPY yet: no row
        assert symbol_claims.take(first, ACCOUNT, "SPY", "desk-1", seen) == 1
        assert symbol_claims.take(second, ACCOUNT, "SPY", "desk-2", seen) is None
        now = symbol_claims.read(second, ACCOUNT)["SPY"]
        assert now is not None and (now.holder, now.version) == ("desk-1", 1)
        assert symbol_claims.take(second, ACCOUNT, "SPY", "desk-2", now) == 2  # desk 1 ended
        after = symbol_claims.read(first, ACCOUNT)["SPY"]
        assert after is not None and (after.holder, after.version) == ("desk-2", 2)
        assert symbol_claims.take(first, ACCOUNT, "SPY", "desk-1", now) is None  # stale read
    finally:
        first.close()
        second.close()


def test_sessions_racing_for_one_claim_take_it_once_each_round(store: Path | PgUrl) -> None:
    """Four threads, each on its own connection, read the claim and take it at the same moment,
    100 rounds: each round exactly one wins (last-writer-wins would let all four through)."""
    open_database(store).close()
    rounds, threads = 100, 4
    barrier = threading.Barrier(threads)
    wins: list[list[int]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []

    def desk(n: int) -> None:
        db = open_database(store)
        try:
            for r in range(rounds):
                seen = symbol_claims.read(db, ACCOUNT).get("SPY")
                barrier.wait()
                if symbol_claims.take(db, ACCOUNT, "SPY", f"desk-{n}", seen) is not None:
                    wins[n].append(r)
                barrier.wait()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
            barrier.abort()
        finally:
            db.close()

    workers = [threading.Thread(target=desk, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors
    won = sorted(r for rs in wins for r in rs)
    assert won == list(range(rounds))


def test_a_hand_edited_claim_row_is_never_taken(db_path: Path) -> None:
    db = open_database(db_path)
    try:
        symbol_claims.take(db, ACCOUNT, "SPY", "desk-1", None)
        db.execute_sql("UPDATE symbol_claims SET version = 'x' WHERE symbol = 'SPY'")
        assert symbol_claims.read(db, ACCOUNT) == {"SPY": None}
    finally:
        db.close()


def test_a_holders_confirm_and_a_takeover_from_one_reading_never_both_succeed(
    store: Path | PgUrl,
) -> None:
    """The holder (woken from a freeze) confirms its claim right before its order while another
    desk, which found it dead, takes the claim over from the same reading, at the same moment,
    100 rounds: each round exactly one of them goes on to trade (both did before: the holder
    sent on its stale reading)."""
    setup = open_database(store)
    symbol_claims.take(setup, ACCOUNT, "SPY", "holder", None)
    setup.close()
    rounds = 100
    barrier = threading.Barrier(2)
    confirmed: list[int] = []
    taken: list[int] = []
    errors: list[BaseException] = []

    def holder() -> None:
        db = open_database(store)
        try:
            for r in range(rounds):
                seen = symbol_claims.read(db, ACCOUNT)["SPY"]
                barrier.wait()
                if seen is not None and seen.holder == "holder":
                    version = seen.version
                    if symbol_claims.confirm(db, ACCOUNT, "SPY", "holder", version) is not None:
                        confirmed.append(r)
                barrier.wait()
                if r in taken:  # the round's loser gets the claim back for the next round
                    now = symbol_claims.read(db, ACCOUNT)["SPY"]
                    assert symbol_claims.take(db, ACCOUNT, "SPY", "holder", now) is not None
                barrier.wait()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
            barrier.abort()
        finally:
            db.close()

    def taker() -> None:
        db = open_database(store)
        try:
            for r in range(rounds):
                seen = symbol_claims.read(db, ACCOUNT)["SPY"]
                barrier.wait()
                if symbol_claims.take(db, ACCOUNT, "SPY", "taker", seen) is not None:
                    taken.append(r)
                barrier.wait()
                barrier.wait()
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
        finally:
            db.close()

    workers = [threading.Thread(target=holder), threading.Thread(target=taker)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors
    assert not set(confirmed) & set(taken), "both the holder and the taker went on"
    assert sorted(confirmed + taken) == list(range(rounds))
