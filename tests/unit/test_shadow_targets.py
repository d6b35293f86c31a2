"""The shadow book refuses targets that do not match the strategies' names, before it records
anything: its per-bar loop reads the held targets by index, so a short or long list must never
be held or half scored."""

from __future__ import annotations

import pytest

from tui_trader.learning.shadow import MARKET_RECORD, ShadowBook

NAMES = ("trend", "momentum", "meanrev")


def test_a_first_bar_with_a_target_missing_is_refused_and_nothing_is_held() -> None:
    book = ShadowBook()
    with pytest.raises(ValueError, match="3 strategy names but 2 targets"):
        book.score("AAA", 100.0, NAMES, [1.0, 0.0], "bull/calm")
    # nothing held: the next (whole) bar is the symbol's first again, so nothing is scored
    assert book.score("AAA", 101.0, NAMES, [1.0, 0.0, 0.5], "bull/calm") is None
    assert book.stats == {}


def test_a_later_bar_with_a_target_too_many_leaves_every_record_as_it_was() -> None:
    book = ShadowBook()
    book.score("AAA", 100.0, NAMES, [1.0, 0.0, 0.5], "bull/calm")
    book.score("AAA", 102.0, NAMES, [1.0, 0.0, 0.5], "bull/calm")
    before = {name: (st.bars, st.net_return) for name, st in book.stats["bull/calm"].items()}
    with pytest.raises(ValueError):
        book.score("AAA", 110.0, NAMES, [1.0, 0.0, 0.5, 1.0], "bull/calm")
    after = {name: (st.bars, st.net_return) for name, st in book.stats["bull/calm"].items()}
    assert after == before
    assert before["trend"] == (1, pytest.approx(0.02))  # the one bar scored: held long, +2%
    assert before[MARKET_RECORD][0] == 1
    # the symbol still holds the last whole bar's targets: the next bar scores from 102
    scored = book.score("AAA", 104.04, NAMES, [1.0, 0.0, 0.5], "bull/calm")
    assert scored is not None
    assert scored[2][0] == pytest.approx(0.02)  # trend: long from 102 to 104.04
