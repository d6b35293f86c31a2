"""The clock's watch (``store.clock_watch``) on one desk's heartbeats, its clocks set by hand.

A PostgreSQL heartbeat returns the server's ``clock_timestamp()``, stamped somewhere between
the statement's send and its answer; the watch takes the middle of the round trip, its half as
uncertainty. A round trip slow after the stamp (a commit's fsync on a loaded disk, the answer
read late on a busy machine) must not read as a clock that jumped.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tui_trader.store import clock_watch
from tui_trader.store.clock_watch import ClockWatch

START = 1_800_000_000.0
"""The true time at the desk's start (seconds since the epoch)."""


class Clocks:
    """This machine's wall and boot clocks, moved by the test: ``true`` is the true time,
    ``ahead`` how far this machine's wall clock is off it (a step moves only that)."""

    def __init__(self) -> None:
        self.true, self.ahead, self.boot = START, 0.0, 1000.0

    @property
    def wall(self) -> float:
        """This machine's wall clock."""
        return self.true + self.ahead

    def run(self, seconds: float) -> None:
        """Time passes: both clocks move alike (an NTP slew moves both, as the kernel does)."""
        self.true += seconds
        self.boot += seconds


@pytest.fixture
def clocks(monkeypatch: pytest.MonkeyPatch) -> Clocks:
    """The watch reads these clocks."""
    now = Clocks()
    monkeypatch.setattr(clock_watch, "_wall", lambda: now.wall)
    monkeypatch.setattr(clock_watch, "_boot", lambda: now.boot)
    return now


def _server(at: float) -> datetime:
    """The server's ``clock_timestamp()`` read at true time ``at`` (its clock is true)."""
    return datetime.fromtimestamp(at, UTC).replace(tzinfo=None)


def _beat(watch: ClockWatch, clocks: Clocks, before_stamp: float, after_stamp: float) -> None:
    """One PostgreSQL heartbeat: ``before_stamp`` seconds until the server stamps it, then
    ``after_stamp`` until its answer is read."""
    sent = watch.before()
    clocks.run(before_stamp)
    stamped = clocks.true
    clocks.run(after_stamp)
    watch.server_read(sent, _server(stamped))


@pytest.mark.parametrize("late", [0.01, 4.0, 12.0, 30.0])
def test_a_heartbeat_answered_late_after_the_servers_stamp_holds_nothing(
    clocks: Clocks, late: float
) -> None:
    watch = ClockWatch()
    watch._server = (0.0, 0.0)  # a PostgreSQL desk: its start read the server's clock, true
    _beat(watch, clocks, 0.001, late)
    assert watch.hold() is None, watch.hold()
    clocks.run(0.5)
    watch.glance()  # the cycle's glance, between heartbeats
    assert watch.hold() is None, watch.hold()
    assert watch.take_events() == []


def test_a_step_after_a_late_heartbeat_still_holds(clocks: Clocks) -> None:
    watch = ClockWatch()
    watch._server = (0.0, 0.0)
    _beat(watch, clocks, 0.001, 12.0)
    clocks.ahead += 60.0  # the clock steps a minute ahead
    watch.glance()
    assert watch.hold() is not None and "s ahead of" in watch.hold()  # type: ignore[operator]
    (event,) = watch.take_events()
    assert event.event_type == "clock_off"
    assert 60.0 - 6.0 <= event.value <= 60.0 + 6.0  # the step, within the late beat's half


def test_a_clock_near_the_limit_is_said_once_not_at_every_heartbeat(clocks: Clocks) -> None:
    """A machine's clock drifting past 5 s off the server's (no NTP on one of them) sits near
    the limit for minutes, each heartbeat's reading a few milliseconds either side: one hold,
    not a hold and a resume at every heartbeat (rows in the audit trail, orders on and off)."""
    watch = ClockWatch()
    watch._server = (0.0, 0.0)
    events = []
    for beat in range(600):  # ten minutes of heartbeats, each reading 20 ms either side of 5 s
        clocks.ahead = 5.0 + (0.02 if beat % 2 else -0.02)
        _beat(watch, clocks, 0.001, 0.001)
        clocks.run(0.5)
        watch.glance()  # the cycle's
        events += [e.event_type for e in watch.take_events()]
        clocks.run(0.5)
    assert events == ["clock_off"], events[:6]
    assert watch.hold() is not None


def test_a_held_clock_resumes_once_a_second_inside_the_limit(clocks: Clocks) -> None:
    watch = ClockWatch()
    watch._server = (0.0, 0.0)
    said = []
    for ahead in (5.5, 4.5, 4.1, 3.9, 0.0):
        clocks.ahead = ahead
        _beat(watch, clocks, 0.001, 0.001)
        said.append((ahead, watch.hold() is not None))
        clocks.run(1.0)
    assert said == [(5.5, True), (4.5, True), (4.1, True), (3.9, False), (0.0, False)]
    assert [e.event_type for e in watch.take_events()] == ["clock_off", "clock_agrees"]


def test_a_held_clock_is_not_let_go_by_a_heartbeat_too_slow_to_tell(clocks: Clocks) -> None:
    """A heartbeat whose round trip took 30 s cannot say a clock 10 s off agrees: the hold
    stays (fail closed) until a reading sure of it (before, it let orders go until the next)."""
    watch = ClockWatch()
    watch._server = (0.0, 0.0)
    clocks.ahead = 10.0
    _beat(watch, clocks, 0.001, 0.001)
    assert watch.hold() is not None
    _beat(watch, clocks, 30.0, 0.001)  # stuck 30 s before the server stamped it
    assert watch.hold() is not None, "a reading 15 s uncertain let a clock 10 s off go"
    clocks.ahead = 0.0
    _beat(watch, clocks, 0.001, 0.001)
    assert watch.hold() is None
    assert [e.event_type for e in watch.take_events()] == ["clock_off", "clock_agrees"]
