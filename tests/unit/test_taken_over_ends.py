"""The one look-up of a taken-over stop whose cancel was not confirmed
(``engine.taken_over_ends``): cancelled, the order goes out (said); replaced or filled since
the listing, it waits with a plain line; still working or not answered, nothing is decided."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tests.unit.alpaca_raw import raw_order
from tui_trader.brokers import BrokerError
from tui_trader.brokers.alpaca_orders import to_domain_order
from tui_trader.engine.taken_over_ends import TakenOverEnds

CID = "tt-1a2b3c4d_99-2-SPY-ps1"
LISTED = to_domain_order(raw_order(CID, "stop", "new", stop_price="96"))
"""The stop as the half-minute-old listing showed it: working, nothing filled."""


class _Desk(TakenOverEnds):
    """A desk whose broker's look-up of ``CID`` answers ``found`` (or raises it)."""

    def __init__(self, found: Any) -> None:
        def look_up_many(ids: list[str]) -> dict[str, Any]:
            if isinstance(found, Exception):
                raise found
            return {CID: found} if found is not None else {}

        self.broker = SimpleNamespace(
            look_up_many=look_up_many, get_order=lambda _cid: None, look_up_orders=lambda _s: None
        )
        self.stop_notes: list[str] = []
        self.adopted_from = lambda _cid: "1a2b3c4d"


def _answer(status: str, filled: str = "0", **kw: Any) -> Any:
    return to_domain_order(raw_order(CID, "stop", status, filled, stop_price="96", **kw))


def test_a_stop_found_cancelled_is_cancelled_and_the_order_goes_out_said() -> None:
    desk = _Desk(_answer("canceled"))
    cancelled, waits = desk._cancel_answered(LISTED)
    assert waits is None and cancelled is not None and cancelled.status.is_final
    [note] = desk.stop_notes
    assert "already canceled at the broker" in note and "the order goes out now" in note


def test_a_stop_found_replaced_holds_the_order_beside_its_replacement() -> None:
    desk = _Desk(_answer("replaced", replaced_by="7b08df51-c1ac-453c-99f9-323a5f075f0d"))
    cancelled, waits = desk._cancel_answered(LISTED)
    assert cancelled is None and waits is not None
    assert "was replaced at the broker by another order (7b08df51" in waits
    assert "nothing goes out beside it in SPY" in waits


def test_a_stop_found_filled_sells_nothing_beside_it() -> None:
    desk = _Desk(_answer("filled", "100", filled_avg_price="96"))
    cancelled, waits = desk._cancel_answered(LISTED)
    assert cancelled is None and waits is not None and "filled 100 shares" in waits


def test_a_stop_still_working_or_not_answered_decides_nothing() -> None:
    for found in (_answer("new"), _answer("pending_cancel"), None, BrokerError("down")):
        desk = _Desk(found)
        assert desk._cancel_answered(LISTED) == (None, None), found
        assert desk.stop_notes == []
