"""Two desks' exits in one symbol, read from one version of its close row: one goes out, and the
words of the other name what may have happened, not a halt that never was.

A new exit, and an exit put back, is claimed on the symbol's close row (``SPY close``) before it
goes out, as a halt's flatten close is (``engine.close_claims``): the row moves on for each. So
two desks handling SPY's exits at once (one placing the stop it keeps, the other putting back a
stop it cancelled before a sale that did not go out) race there too, and the second is not sent
(both could sell the same shares). Before, its words said "another desk's flatten close of SPY
was claimed ... (the account's halt); that close is what ends the position": a halt and a close
that never were. And a flatten's close not sent beside another desk's claim says who claimed
the row, not that its order "went out" (its send may have been refused after the claim). The two
desks read and claim through connections of their own.
"""

from __future__ import annotations

from pathlib import Path

from tui_trader.engine.close_claims import EXIT_RACED, CloseClaims
from tui_trader.store.db import open_database
from tui_trader.store.pg_url import PgUrl


def test_of_two_exits_read_from_one_version_one_goes_out_and_the_other_says_why(
    store: Path | PgUrl,
) -> None:
    db_a = open_database(store)
    db_b = open_database(store)
    try:
        a = CloseClaims(db_a, "acct", "desk-a")  # both read before either claims
        b = CloseClaims(db_b, "acct", "desk-b")
        assert a.fence("SPY", EXIT_RACED)() is None  # desk A's stop goes out
        said = b.fence("SPY", EXIT_RACED)()
        assert said is not None, "two exits for the same shares"
        assert said.startswith("not sent: "), said
        assert "an exit of SPY another desk placed" in said, said
        assert "that close is what ends the position" not in said, said
        assert CloseClaims(db_b, "acct", "desk-b").fence("SPY", EXIT_RACED)() is None  # read anew
        assert a.fence("QQQ", EXIT_RACED)() is None  # another symbol's row: its own
    finally:
        db_a.close()
        db_b.close()


def test_a_close_not_sent_beside_another_desks_claim_says_who_claimed_not_that_it_went_out(
    store: Path | PgUrl,
) -> None:
    """Desk A claims SPY's close row for its flatten close; its send may still be refused (by
    the broker, or its own last check). Desk B's close, read from the same version, is not
    sent, and says what is known: that desk A claimed the row. Before, it said A's close "went
    out" (``holds32``)."""
    db_a = open_database(store)
    db_b = open_database(store)
    try:
        a = CloseClaims(db_a, "acct", "1a2b3c4d_t1")
        b = CloseClaims(db_b, "acct", "5e6f7a8b_t1")
        assert a.fence("SPY")() is None  # desk A's close is claimed (it may yet be refused)
        said = b.fence("SPY")()
        assert said is not None and said.startswith("not sent: "), said
        assert "another desk's flatten close of SPY" in said, said
        assert "was claimed by session 1a2b3c4d while this desk read the account" in said, said
        assert "whether that order went out or was refused is not known here" in said, said
        assert "went out while" not in said, said
    finally:
        db_a.close()
        db_b.close()
