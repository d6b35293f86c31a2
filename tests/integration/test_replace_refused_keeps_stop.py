"""A protective stop's resize that Alpaca refuses outright while the old stop still works.

The desk resizes its stop by one replace (``PATCH /v2/orders/{id}``). Alpaca answers 422 both
when the old order is no longer working (filled, cancelled) and when it refuses the change
itself: a sell stop priced at or above the market ("stop_price must be below the current
price"), as happens when the market falls between the bar the desk priced the stop on and the
PATCH. The broker took every 422 for "no longer working": the desk then cancelled the old
stop, which still worked, and sent a fresh one at the refused price, refused too. The
position was left with no stop at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import alpaca_session
from tests.integration.broker_protection import buy_and_protect, open_stops, spy_held
from tests.integration.test_replace_race import _row, _stop_smaller_than_the_position
from tui_trader.brokers.alpaca import AlpacaBroker
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import running_sandbox


def test_a_resize_the_broker_refuses_keeps_the_old_stop_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A desk with a 2% stop leaves it smaller than its position and dies; a desk with a 1%
    stop starts, takes the stop over and resizes it (one replace, at its tighter price). The
    market falls between the two stop prices just before the PATCH: Alpaca refuses it. The old
    stop, still below the market, keeps working for its shares (before, the desk cancelled it
    and its fresh stop was refused too: no stop at all), its row open, the refusal said."""
    db = tmp_path / "k.db"
    dropped: list[float] = []
    replace = AlpacaBroker.replace

    def replace_after_a_drop(broker: AlpacaBroker, client_order_id: str, request: Any) -> Any:
        """The market falls between the desk's last bar and its PATCH (once)."""
        if not dropped:
            [old] = [o for o in open_stops(sb) if str(o.client_order_id) == client_order_id]
            low, high = float(old.stop_price), float(request.stop_price)
            assert high > low * 1.005, (low, high)  # room for the market between them
            now = float(sb.admin.state()["prices"]["SPY"])
            sb.admin.step(shock={"SPY": ((low + 0.6 * (high - low)) / now - 1.0) * 100.0})
            dropped.append(float(sb.admin.state()["prices"]["SPY"]))
            assert low < dropped[0] <= high, (low, dropped[0], high)
        return replace(broker, client_order_id, request)

    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        first = buy_and_protect(sb, db, protected=open_stops, shock=1.0)
        old, covered = _stop_smaller_than_the_position(sb, first)
        first.broker.close()
        simulate_death(first)
        held = spy_held(sb)
        monkeypatch.setattr(AlpacaBroker, "replace", replace_after_a_drop)
        second = alpaca_session(sb, db, symbols=("SPY",), stop_loss=StopRule(pct=1.0))
        try:
            assert dropped, "the new desk did not resize the stop by a replace"
            stops = [(str(s.client_order_id), float(s.qty)) for s in open_stops(sb)]
            assert stops == [(old, covered)]  # the old stop works on, for its shares
            assert spy_held(sb) == held
            assert _row(old).status == "new"
            said = " | ".join(e.action_taken for e in second.startup_events)
            assert "stop_price must be below the current price" in said, said
            assert f"sell {covered:g} SPY stop " in said and "still works" in said, said
        finally:
            second.broker.close()
