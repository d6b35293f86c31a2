"""An exit whose cancel before a sell was not confirmed, found ended later: put back if it was
cancelled, never if it was replaced (its replacement protects the position: a stop put back
beside it made two stops for one position, and a sell for the same shares twice)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from tests.unit.alpaca_raw import raw_order
from tui_trader.brokers.alpaca_orders import to_domain_order
from tui_trader.engine.put_back_waits import PutBackWaits

CID = "tt-1a2b3c4d_99-2-SPY-ps1"


class _Desk(PutBackWaits):
    """A session without exits that cancelled ``CID`` before a sell, unconfirmed, and whose
    broker's look-up of it answers ``found``; what it would put back is noted, not sent."""

    def __init__(self, found: Any) -> None:
        self.broker = SimpleNamespace(get_order=lambda _cid: found)
        self.protects = False
        self.put: list[str] = []
        stop = to_domain_order(raw_order(CID, "stop", "new", stop_price="96"))
        self._unsure = {"SPY": [(stop, "1a2b3c4d")]}

    def _put_back(self, symbol: str, released: Any, why: str, *_: Any) -> list[Any]:
        self.put.append(why)
        return []


def _ends(found: Any) -> list[str]:
    desk = _Desk(found)
    desk._unsure_ends(datetime.now(UTC))
    assert desk._unsure == {}, "decided: not asked again"
    return desk.put


def test_a_cancelled_exit_goes_back() -> None:
    [why] = _ends(to_domain_order(raw_order(CID, "stop", "canceled", stop_price="96")))
    assert "was not confirmed and it ended canceled" in why


def test_a_replaced_exit_is_not_put_back_beside_its_replacement() -> None:
    replaced = raw_order(
        CID, "stop", "replaced", stop_price="96", replaced_by="7b08df51-c1ac-453c-99f9-323a5f075f0d"
    )
    assert _ends(to_domain_order(replaced)) == []
