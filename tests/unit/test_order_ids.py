"""The desk's client order ids read back: what start-up reconciliation recognises as its own."""

from __future__ import annotations

import pytest

from tui_trader.core.order_ids import (
    OwnOrderId,
    key_tag,
    make_order_id,
    read_order_id,
    short_key,
    tagged_key,
)


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


def test_a_session_key_carries_its_stores_tag_and_its_ids_read_back() -> None:
    """A halt tells its store's sessions by the tag their key carries, rows or not."""
    key = tagged_key("1a2b3c4d", "9f3e1c")
    assert key_tag(key) == "9f3e1c"
    cid = make_order_id(key, 17, "BF-B", "ps3")
    assert read_order_id(cid) == OwnOrderId(key, 17, "BF-B", "ps3")
    assert len(make_order_id(key, 10**9, "ABCDEFGHIJKLMNOPQRST", "m123")) < 64
    assert short_key(key) == "1a2b3c4d"  # what a list of one store's sessions shows


def test_a_key_of_before_store_tags_carries_none() -> None:
    assert tagged_key("1a2b3c4d", None) == "1a2b3c4d"
    assert key_tag("1a2b3c4d") is None
    assert short_key("1a2b3c4d") == "1a2b3c4d"
