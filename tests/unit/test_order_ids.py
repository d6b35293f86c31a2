"""The desk's client order ids read back: what start-up reconciliation recognises as its own."""

from __future__ import annotations

import pytest

from tui_trader.core.order_ids import OwnOrderId, make_order_id, read_order_id


@pytest.mark.parametrize(
    ("symbol", "leg"), [("SPY", "r"), ("BRK.B", "m12"), ("BF-B", "ps3"), ("SPY", "flat")]
)
def test_every_kind_of_the_desks_order_id_reads_back(symbol: str, leg: str) -> None:
    cid = make_order_id("1a2b3c4d", 17, symbol, leg)
    assert read_order_id(cid) == OwnOrderId("1a2b3c4d", 17, symbol, leg)


@pytest.mark.parametrize(
    "cid",
    [
        "4b3c2e1a-93d4-4a55-8f8e-6c2b0b0e9f11",  # alpaca's dashboard, a pair's leg
        "my-own-order",
        "tt-1a2b3c4d-x-SPY-r",  # no cycle number
        "tt-1a2b3c4d-3-SPY",  # no leg
        "TT-1a2b3c4d-3-SPY-r",
    ],
)
def test_ids_of_other_forms_are_not_the_desks(cid: str) -> None:
    assert read_order_id(cid) is None
