"""A protective stop's replace still undecided by the exchange when the desk restarts.

The desk resizes its stop by a replace (Alpaca answers the new order ``pending_new``, the old
one turns ``pending_replace``) and dies before the exchange decides. The next start finds the
old stop's row ``pending_cancel`` ("replaced by" the new one) and the new one still pending:
neither is decided yet, so both are followed. The exchange then rejects the replacement and
the old stop works on (``order_replace_rejected``). The running desk must see that the old
stop works: before, the broker had forgotten which order replaced which (a memory of the
process that died), so the old stop stayed followed as cancelled for good while it worked at
Alpaca: never resized, never cancelled, and its symbol held.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import alpaca_session
from tests.integration.broker_protection import buy_and_protect, open_stops, spy_held
from tests.integration.test_replace_race import _row, _stop_smaller_than_the_position
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import running_sandbox


def test_a_replace_rejected_after_the_next_start_leaves_one_stop_for_the_position(
    tmp_path: Path,
) -> None:
    """Dead while the replace is undecided, restarted before the exchange rejects the
    replacement: once it does, the old stop's row is open again and the desk resizes that
    stop to the whole position (one stop at the broker, never two, never none)."""
    db = tmp_path / "p.db"
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        first = buy_and_protect(sb, db, protected=open_stops, shock=1.0)
        old, _ = _stop_smaller_than_the_position(sb, first)
        sb.admin.set_faults(replace_reject_rate=1, race_bars=2)
        sb.admin.step()
        first.run_iteration()  # the stop is resized by a replace: pending at Alpaca
        sb.admin.set_faults(replace_reject_rate=0)
        assert _row(old).status == "pending_cancel"
        [new] = [str(o.client_order_id) for o in open_stops(sb) if str(o.client_order_id) != old]
        first.broker.close()
        simulate_death(first)
        second = alpaca_session(sb, db, symbols=("SPY",), stop_loss=StopRule(pct=2.0))
        try:
            assert _row(old).status == "pending_cancel"  # the exchange has not decided yet
            sb.admin.step()  # the race's first bar: still undecided
            second.run_iteration()
            for _ in range(4):
                sb.admin.step()  # the first: the replacement rejected, the old stop works on
                second.run_iteration()
                second.sync_orders()
                stops = [(str(s.client_order_id), float(s.qty)) for s in open_stops(sb)]
                assert len(stops) <= 1, stops
            assert _row(new).status == "rejected"
            [stop] = open_stops(sb)
            assert float(stop.qty) == spy_held(sb)  # resized: the whole position
            assert _row(str(stop.client_order_id)).status == "new"
            assert _row(old).status != "pending_cancel"  # its end known: working or replaced
        finally:
            second.broker.close()
