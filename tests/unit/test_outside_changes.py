"""The rules by which a session tells a position changed outside it from its own fills."""

from __future__ import annotations

from datetime import UTC, datetime

from tui_trader.core.domain import Position
from tui_trader.core.orders import Fill, Side
from tui_trader.engine.outside_changes import OUTSIDE_CHANGE, POSITIONS_ADOPTED, OutsideChanges

T = datetime(2026, 12, 1, 15, tzinfo=UTC)


def _held(qty: float) -> dict[str, Position]:
    return {"SPY": Position("SPY", qty, 100.0, 100.0)} if qty else {}


def _check(book: OutsideChanges, qty: float, working: set[str] | None = None, others=False):
    return book.check(("SPY",), _held(qty), working or set(), lambda: others)


def test_own_fills_keep_the_expectation_and_nothing_is_held() -> None:
    book = OutsideChanges()
    assert _check(book, 0) == []
    book.on_fill(Fill("a", "SPY", Side.BUY, 20, 100.0, T))
    assert _check(book, 20) == [] and book.holds == {}
    book.on_fill(Fill("b", "SPY", Side.SELL, 5, 100.0, T))
    assert _check(book, 15) == [] and book.holds == {}


def test_a_fill_of_ours_still_on_its_way_holds_one_cycle_and_raises_nothing() -> None:
    book = OutsideChanges()
    _check(book, 0)
    assert _check(book, 20) == []  # the position read saw a fill not drained yet
    assert "SPY" in book.holds
    book.on_fill(Fill("a", "SPY", Side.BUY, 20, 100.0, T))
    assert _check(book, 20) == [] and book.holds == {}


def test_a_change_seen_twice_is_an_event_once_and_the_symbol_stays_left_alone() -> None:
    book = OutsideChanges()
    _check(book, 20)
    assert _check(book, 70) == []
    events = _check(book, 70)
    assert [e.event_type for e in events] == [OUTSIDE_CHANGE] and events[0].value == 50
    assert _check(book, 70) == [] and "SPY" in book.holds
    assert _check(book, 20) == [] and "SPY" in book.holds  # left alone for the session


def test_a_symbol_with_our_order_working_is_not_judged_but_waits_while_it_disagrees() -> None:
    """Never an outside change while our order works; but a position that disagrees with our
    fills (a read lagging a partial fill, or ahead of one not drained yet) holds the symbol's
    orders until the two agree: the rebalance would buy again what has filled."""
    book = OutsideChanges()
    _check(book, 20)
    for _ in range(3):
        assert _check(book, 70, working={"SPY"}) == []
        assert "does not agree with this session's fills (they make 20)" in book.holds["SPY"]
    # the read is ahead of the desk's own fill news here: the words blame neither side
    assert "one of the two has not heard of a fill yet" in book.holds["SPY"]
    book.on_fill(Fill("a", "SPY", Side.BUY, 50, 100.0, T))
    assert _check(book, 70, working={"SPY"}) == [] and book.holds == {}
    book.on_fill(Fill("b", "SPY", Side.BUY, 30, 100.0, T))  # the read lags this one
    assert _check(book, 70, working={"SPY"}) == [] and "SPY" in book.holds
    assert _check(book, 100) == [] and book.holds == {}  # the order ended, the read caught up


def test_with_another_live_session_on_the_account_its_fills_are_taken_as_they_come() -> None:
    book = OutsideChanges()
    _check(book, 20, others=True)
    _check(book, 70, others=True)
    assert _check(book, 70, others=True) == [] and book.holds == {}
    assert _check(book, 70) == [] and book.holds == {}  # the new quantity is the expectation


def test_a_difference_at_start_leaves_the_symbol_alone_and_says_what_the_record_makes() -> None:
    book = OutsideChanges()
    [event] = book.start(("SPY",), {"SPY": 20.0}, _held(70), set(), lambda: False)
    assert (event.event_type, event.symbol, event.value) == (OUTSIDE_CHANGE, "SPY", 50)
    assert (
        "the broker holds 70" in event.detail and "fills in this database make 20" in event.detail
    )
    assert "SPY" in book.holds and book.own("SPY") == 20
    assert _check(book, 70) == [] and "SPY" in book.holds  # left alone for the session


def test_without_an_earlier_session_in_the_database_held_shares_are_not_the_desks() -> None:
    book = OutsideChanges()
    [event] = book.start(("SPY",), None, _held(30), set(), lambda: False)
    assert "no earlier session on this account" in event.detail and book.own("SPY") == 0
    assert OutsideChanges().start(("SPY",), None, _held(0), set(), lambda: False) == []


def test_a_symbol_with_our_order_working_at_start_is_judged_by_the_cycles_from_the_record() -> None:
    book = OutsideChanges()
    assert book.start(("SPY",), {"SPY": 20.0}, _held(20), {"SPY"}, lambda: False) == []
    assert book.holds == {}
    book.on_fill(Fill("a", "SPY", Side.BUY, 10, 100.0, T))  # the earlier run's order fills
    assert _check(book, 30) == [] and book.holds == {}


def test_a_fill_of_ours_turning_up_on_the_look_up_is_not_a_change_outside() -> None:
    book = OutsideChanges()
    _check(book, 20)
    assert _check(book, 12) == []  # our stop sold 8, its news not here yet

    def look_up(symbol: str) -> bool:
        book.on_fill(Fill("ps", symbol, Side.SELL, 8, 100.0, T))
        return True

    assert book.check(("SPY",), _held(12), set(), lambda: False, look_up) == []
    assert _check(book, 12) == [] and book.holds == {}


def test_with_adopt_the_difference_at_start_is_taken_as_the_desks_own() -> None:
    book = OutsideChanges()
    [event] = book.start(("SPY",), {"SPY": 20.0}, _held(70), set(), lambda: False, adopt=True)
    assert (event.event_type, event.value) == (POSITIONS_ADOPTED, 50)
    assert book.holds == {} and _check(book, 70) == [] and book.holds == {}


def test_after_start_a_symbol_first_held_later_starts_from_nothing_not_from_the_broker() -> None:
    book = OutsideChanges()
    book.start(("SPY",), {"SPY": 20.0}, _held(20), set(), lambda: False)
    aapl = {"AAPL": Position("AAPL", 40, 100.0, 100.0)}
    assert book.check(("AAPL",), aapl, set(), lambda: False) == []
    assert book.own("AAPL") == 0  # held: its protective exit covers none of the 40
    [event] = book.check(("AAPL",), aapl, set(), lambda: False)
    assert (event.symbol, event.value) == ("AAPL", 40)


def test_the_snapshot_difference_is_left_to_the_start_event_that_speaks_of_its_symbol() -> None:
    """SPY: the snapshot and the record agree (20), the broker holds 70: the outside-change
    event says +50, the reconciliation does not say it again. IWM: the snapshot (5) is older
    than the record (10, a fill came after it): the outside-change event, made with every
    recorded fill, says the truer +40, and the snapshot's +45 is not said beside it. QQQ: no
    start event speaks of it (not judged), so the reconciliation still names it."""
    from tui_trader.engine.reconcile import positions_event

    differences = {"SPY": (20.0, 70.0), "QQQ": (0.0, 7.0), "IWM": (5.0, 50.0)}
    event = positions_event(differences, {"SPY", "IWM"})
    assert event is not None and event.value == 1
    assert (
        event.detail == "positions differ from the last snapshot: QQQ 0 recorded vs 7 at the broker"
    )
    assert positions_event({"SPY": (20.0, 70.0)}, {"SPY"}) is None
    assert positions_event({"SPY": (20.0, 70.0)}).detail.endswith(
        "SPY 20 recorded vs 70 at the broker"
    )


def test_a_symbol_left_alone_names_the_shares_its_fills_do_not_account_for() -> None:
    """Record 20, broker 70: SPY is left alone and 50 of its shares are not the desk's; a
    fill of the desk's own (its exit selling 5) moves only the desk's part. A symbol traded as
    usual names none."""
    book = OutsideChanges()
    book.start(("SPY",), {"SPY": 20.0}, _held(70), set(), lambda: False)
    assert book.not_ours(_held(70)) == {"SPY": 50.0}
    book.on_fill(Fill("x", "SPY", Side.SELL, 5, 100.0, T))
    assert book.not_ours(_held(65)) == {"SPY": 50.0}
    assert book.not_ours({}) == {}
    usual = OutsideChanges()
    usual.start(("SPY",), {"SPY": 20.0}, _held(20), set(), lambda: False)
    assert usual.not_ours(_held(20)) == {}


def test_a_hold_is_said_once_per_onset() -> None:
    """A hold is said when it starts; while it stands, not again; once it has ended, a new
    one is said again (the next check forgets the old one)."""
    book = OutsideChanges()
    _check(book, 0)
    _check(book, 20)  # a fill not drained yet: held for a cycle
    first = book.holds["SPY"]
    assert book.first_said("SPY", first) and not book.first_said("SPY", first)
    book.on_fill(Fill("a", "SPY", Side.BUY, 20, 100.0, T))
    assert _check(book, 20) == [] and book.holds == {}  # the hold ended
    _check(book, 40)  # another one starts
    assert book.first_said("SPY", book.holds["SPY"])
    _check(book, 40)  # seen again: left alone for good, a new reason said once
    left = book.holds["SPY"]
    assert book.first_said("SPY", left) and not book.first_said("SPY", left)
    _check(book, 40)
    assert not book.first_said("SPY", left)
