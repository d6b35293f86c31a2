"""The send gap's clock: only an order's own slot, only past ``SEND_GAP``, until cleared."""

from __future__ import annotations

from tui_trader.engine.send_gap import SEND_GAP, SendGap


def test_only_a_gap_over_the_threshold_for_the_same_order_asks_for_a_second_look() -> None:
    now = [100.0]
    gap = SendGap(clock=lambda: now[0])
    gap.slot_taken("tt-a")
    now[0] += SEND_GAP / 2  # the normal path: a durable commit and a little code
    assert gap.overdue("tt-a") is None
    gap.slot_taken("tt-b")
    now[0] += 12.0  # frozen
    assert gap.overdue("tt-other") is None  # a protective exit sent meanwhile: not its slot
    assert gap.overdue("tt-b") == 12.0
    gap.clear()  # sent or refused
    assert gap.overdue("tt-b") is None
    assert SendGap().overdue("tt-a") is None  # no slot noted (a local session, a halted one)
