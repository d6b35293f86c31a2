"""A snapshot's positions with an option contract among them read back at 100 shares a
contract: the fifth field a session writes for it (``store.stored_positions``)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tui_trader.store.stored_positions import shown_positions

CALL = "SPY261218C00500000"


def _read(entries: list[object]) -> dict[str, float]:
    """The market values read back from a snapshot holding ``entries``."""
    snapshot = SimpleNamespace(id=7, positions=json.dumps(entries))
    notes: list[str] = []
    return {p.symbol: p.market_value for p in shown_positions(snapshot, notes)}


def test_an_option_reads_back_at_a_hundred_shares_a_contract_and_a_share_at_one() -> None:
    read = _read([["SPY", 10, 500.0, 510.0], [CALL, 2, 4.1, 4.1, 100]])
    assert read == pytest.approx({"SPY": 5_100.0, CALL: 820.0})


@pytest.mark.parametrize("multiplier", [0, -100, "100", None])
def test_a_multiplier_no_contract_has_is_left_out_as_unreadable(multiplier: object) -> None:
    """A hand edit's multiplier of 0, below 0 or not a number: the position is not shown at a
    value it does not have (the other is)."""
    assert _read([["SPY", 10, 500.0, 510.0], [CALL, 2, 4.1, 4.1, multiplier]]) == {"SPY": 5_100.0}
