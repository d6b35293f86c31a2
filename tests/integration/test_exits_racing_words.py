"""Two desks of one account placing protective exits in one symbol in the same moment: one
goes out, and the other says why in words for that case, not a halt's flatten's.

Every new exit is claimed on the symbol's close row (``engine.close_claims``), as a halt's
flatten close is: of two claims read from one version, one moves the row on. An exit refused
there said "another desk's flatten close of SPY was claimed after this desk read the positions
(the account's halt)" even when the other claim was another desk's exit on an account no desk
had halted. Now an exit's claim marks the row, and the refused exit names the other desk's exit.
"""

from __future__ import annotations

from pathlib import Path

from tui_trader.engine.close_claims import EXIT_RACED, CloseClaims
from tui_trader.store.db import open_database
from tui_trader.store.pg_url import PgUrl

ACCOUNT = "alpaca:paper:test"


def test_of_two_exits_read_alike_one_goes_out_and_the_other_names_it(
    store: Path | PgUrl,
) -> None:
    first, second = open_database(store), open_database(store)
    try:
        one, two = CloseClaims(first, ACCOUNT, "desk-1"), CloseClaims(second, ACCOUNT, "desk-2")
        assert one.fence("SPY", EXIT_RACED)() is None  # desk one's exit goes out
        why = two.fence("SPY", EXIT_RACED)()
        assert why is not None and why.startswith(
            "not sent: another desk of the account placed its protective exit in SPY"
        ), why
        assert "flatten" not in why and "halt" not in why, why
        # read alike again: a flatten's close first, then an exit: the flatten's words
        three, four = CloseClaims(first, ACCOUNT, "desk-3"), CloseClaims(second, ACCOUNT, "desk-4")
        assert three.fence("SPY")() is None
        why = four.fence("SPY", EXIT_RACED)()
        assert why is not None and "another desk's flatten close of SPY" in why, why
        # an exit first, then a flatten's close: the close waits for its next pass
        five, six = CloseClaims(first, ACCOUNT, "desk-5"), CloseClaims(second, ACCOUNT, "desk-6")
        assert five.fence("SPY", EXIT_RACED)() is None
        why = six.fence("SPY")()
        assert why is not None and "or its exit put back there" in why, why
    finally:
        first.close()
        second.close()
