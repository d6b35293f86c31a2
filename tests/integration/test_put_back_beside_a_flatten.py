"""A stop put back after the desk's own order did not go out, beside another desk's halt
flatten: one of the two sells the shares, never both (a short).

Desk one (``--stop-loss``) cancelled its SPY stop before an order of its own, and that order
did not go out (the broker refused it, or the account's halt was found in its send gap), so
the stop goes back as it was (``StopRelease._put_back``). Desk one read the positions for it;
desk two's flatten then claimed its close on the symbol's close row, sent it, and it filled.
Before, the stop put back was sized from desk one's reading, sent without the claim the exit
step takes (``engine.close_claims``), and it filled on a flat account: a short. Now a stop put
back is claimed on the close row as an exit placed by the exit step is: it is not sent, says
why, and is tried again at the next cycle from a fresh reading.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.ended_stop import working_stops
from tests.integration.test_flatten_beside_a_stop_put_back import CRASH, _held, _two_desks
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.pg_url import PgUrl


def test_a_stop_put_back_after_a_flatten_close_is_not_sent(
    sandbox: SandboxHandle, trading: Any, store: Path | PgUrl
) -> None:
    """Desk one read the account (its positions, the store's other sales) to put back a stop
    its own order had released; desk two's flatten then claimed its close, sent it, and it
    filled: the stop, sized from desk one's reading, is not sent (before: it went out on the
    flat account and filled, a short), and once desk one reads the account afresh no stop is
    placed on it."""
    with _two_desks(sandbox, trading, store) as (one, two):
        stop = next(o for o in one.broker.open_orders() if o.symbol == "SPY")
        cancelled = one.broker.cancel(stop.client_order_id, confirm=True)
        assert cancelled is not None
        one._cancelled(cancelled)
        one._released = {"SPY": [(cancelled, None)]}  # its order did not go out
        stop_id = one._stop_id
        flattened: list[bool] = []

        def flatten_after_the_reads(symbol: str) -> str:
            """The new stop's id: taken once every read is done, right before its send."""
            if not flattened:
                flattened.append(True)
                two.request_kill(reason="test", flatten=True)
                assert two.apply_kill_requests() is not None
                sandbox.admin.step()  # the close fills; desk one has not seen it
                wait_until(lambda: _held(sandbox) == 0, what="the close's fill")
            return stop_id(symbol)

        one._stop_id = flatten_after_the_reads  # type: ignore[method-assign]
        events = one._restore_exits(one.clock.now())
        assert flattened, "desk one read the account to put its stop back"
        said = " ".join(e.action_taken for e in events)
        assert "not sent: another desk's flatten close of SPY" in said, said
        sandbox.admin.step(shock=CRASH)  # (a stop there would fill now)
        wait_until(lambda: sandbox.admin.state()["orders"]["open"] == 0, what="every fill")
        assert working_stops(trading) == [] and _held(sandbox) == 0, "no short"
        one.sync_orders()
        one._restore_exits(one.clock.now())  # the try again, from a fresh reading
        assert working_stops(trading) == [] and _held(sandbox) == 0, "nothing put back on flat"


def test_a_stop_put_back_on_positions_lagging_a_flatten_close_is_not_placed(
    sandbox: SandboxHandle, trading: Any, store: Path | PgUrl
) -> None:
    """Desk two's flatten close was claimed, went out and filled before desk one read the
    account to put its stop back (so the claim does not hold the stop back), but the
    positions desk one reads lag that fill (Alpaca's may) and desk two has not recorded it
    yet: the close's row, open in the store, counts as it does in the exit step's sizing
    (``engine.sales_beside``), and no stop goes out on the flat account (before: a stop for
    the whole position, filled on the next drop: a short)."""
    with _two_desks(sandbox, trading, store) as (one, two):
        stop = next(o for o in one.broker.open_orders() if o.symbol == "SPY")
        cancelled = one.broker.cancel(stop.client_order_id, confirm=True)
        assert cancelled is not None
        one._cancelled(cancelled)
        one._released = {"SPY": [(cancelled, None)]}  # its order did not go out
        before = one.broker.positions()
        two.request_kill(reason="test", flatten=True)
        assert two.apply_kill_requests() is not None
        wait_until(lambda: _held(sandbox) == 0, what="the close's fill")
        one.broker.positions = lambda: before  # type: ignore[method-assign]
        one._restore_exits(one.clock.now())
        assert working_stops(trading) == [], "a stop on the flat account"
        sandbox.admin.step(shock=CRASH)  # (a stop there would fill now)
        wait_until(lambda: sandbox.admin.state()["orders"]["open"] == 0, what="every fill")
        assert _held(sandbox) == 0, "no short"
