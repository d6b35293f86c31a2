"""The exchange calendar stored on disk for the day: a later process reads it back without
loading pandas (``tui-trader status`` went from ~0.7 s to ~0.2 s), answers exactly as the
library's calendar does, and never trusts a file that does not check out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from tui_trader.core.timeframes import NEW_YORK
from tui_trader.market import calendar as cal
from tui_trader.market import calendar_cache

CHILD = """
import json, sys
from datetime import UTC, date, datetime
from tui_trader.cli.reports import _session_label as status_label
from tui_trader.market import calendar as cal, calendar_cache
calendar_cache.today = lambda: date.fromisoformat(sys.argv[2])  # the parent's day, held
c = cal.us_equity_calendar()
moments = [datetime.fromisoformat(m) for m in json.loads(sys.argv[1])]
print(json.dumps({
    "pandas": "pandas" in sys.modules,
    "labels": [c.session_label(m).value for m in moments],
    "days": len(c._days),
    "status": status_label(moments[0].strftime("%Y-%m-%d %H:%M:%S")),
}))
"""


def _moments() -> list[str]:
    """Moments around an early close, a holiday and a clock change, as ISO UTC text."""
    out = []
    for day in ("2025-07-03", "2025-07-04", "2026-03-06", "2026-03-09", "2025-11-28"):
        for at in (time(3, 59), time(4, 30), time(9, 30), time(12, 59), time(13), time(16)):
            ny = datetime.combine(datetime.fromisoformat(day).date(), at, tzinfo=NEW_YORK)
            out.append(ny.astimezone(UTC).isoformat())
    return out


def _child(cache: Path, day: date) -> dict:
    """A fresh process's calendar, with ``cache`` as the cache directory, on ``day``."""
    env = {**os.environ, "TUI_TRADER_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(_moments()), day.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def _stored_file(cache: Path) -> Path:
    [path] = (cache / calendar_cache.FOLDER).glob("XNYS-*.json")
    return path


@pytest.fixture
def today(monkeypatch) -> date:
    """The day the calendar files are keyed by, held at the test's start: a run crossing
    midnight would otherwise build the calendar again for the new day."""
    day = date.today()
    monkeypatch.setattr(calendar_cache, "today", lambda: day)
    return day


@pytest.fixture
def builds(tmp_path, monkeypatch, today) -> list[str]:
    """This process's calendar cache in ``tmp_path/cache`` on a held ``today``, and the list of
    each build of the calendar from exchange-calendars (each ``ExchangeCalendar.load``)."""
    monkeypatch.setenv("TUI_TRADER_CACHE_DIR", str(tmp_path / "cache"))
    made: list[str] = []
    load = cal.ExchangeCalendar.load.__func__  # type: ignore[attr-defined]

    def counted(cls, name: str = "XNYS", *args, **kwargs):
        made.append(name)
        return load(cls, name, *args, **kwargs)

    monkeypatch.setattr(cal.ExchangeCalendar, "load", classmethod(counted))
    return made


def test_the_second_process_of_the_day_reads_the_calendar_without_pandas(tmp_path) -> None:
    cache = tmp_path / "cache"
    day = date.today()  # both processes on one day, even in a run crossing midnight
    first = _child(cache, day)
    assert first["pandas"]  # built from exchange-calendars, then stored
    assert _stored_file(cache).stat().st_size > 0
    second = _child(cache, day)
    assert not second["pandas"], "the stored calendar was not used"
    assert second["labels"] == first["labels"] and second["days"] == first["days"]
    assert {"PRE", "OPEN", "AFTER", "CLOSED"} <= set(second["labels"])
    assert second["status"] == first["status"] == f"session {first['labels'][0]}"


@pytest.mark.parametrize(
    "spoil",
    [
        lambda text: text[: len(text) // 2],  # truncated
        lambda text: text.replace('"key":"XNYS', '"key":"XLON', 1),  # another calendar's
        lambda text: "[]",  # not a calendar
        lambda text: json.dumps(  # an open after its close (a hand edit)
            {**json.loads(text), "sessions": [[800000, 20, 10], *json.loads(text)["sessions"]]}
        ),
        lambda text: json.dumps(  # days not rising: a session repeated
            {**json.loads(text), "sessions": json.loads(text)["sessions"] * 2}
        ),
        lambda text: json.dumps(  # a number that is not a whole one
            {**json.loads(text), "sessions": [[800000.5, 10, 20], *json.loads(text)["sessions"]]}
        ),
    ],
    ids=["truncated", "other-key", "not-a-calendar", "open-after-close", "repeated", "fraction"],
)
def test_a_spoiled_file_is_not_trusted_and_is_written_anew(tmp_path, builds, spoil) -> None:
    truth = cal.ExchangeCalendar.cached()
    path = _stored_file(tmp_path / "cache")
    good = path.read_text()
    assert len(cal.ExchangeCalendar.cached()._days) == len(truth._days) and len(builds) == 1
    path.write_text(spoil(good))
    again = cal.ExchangeCalendar.cached()
    assert len(builds) == 2, "a spoiled file was read as the calendar"
    assert again._sessions == truth._sessions
    assert path.read_text() == good  # stored again, whole


def test_a_cache_that_cannot_be_written_costs_the_build_not_the_command(
    tmp_path, monkeypatch
) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")  # the cache "directory" is a file: nothing can be made under it
    monkeypatch.setenv("TUI_TRADER_CACHE_DIR", str(blocked))
    cal.us_equity_calendar.cache_clear()
    try:
        whole = cal.us_equity_calendar()
        assert whole.first_day.year == 1995
        day = datetime(2025, 7, 3, 17, 30, tzinfo=UTC)  # 13:30 New York, after the early close
        assert whole.session_label(day) is cal.SessionLabel.AFTER
    finally:
        cal.us_equity_calendar.cache_clear()


def test_yesterdays_file_is_not_used_and_is_removed(tmp_path, builds, today) -> None:
    cal.ExchangeCalendar.cached()
    todays = _stored_file(tmp_path / "cache")
    version = calendar_cache.library_version()
    assert version is not None
    yesterday = today - timedelta(days=1)
    todays.rename(todays.with_name(calendar_cache.cache_file("XNYS", version, yesterday).name))
    cal.ExchangeCalendar.cached()
    assert len(builds) == 2  # built again for today
    assert _stored_file(tmp_path / "cache").name == todays.name  # yesterday's removed


def test_a_file_others_could_write_cannot_open_the_market_on_a_holiday(tmp_path, builds) -> None:
    """A cache folder others share (``$TUI_TRADER_CACHE_DIR``): a file another user could have
    written passes every check of its shape, so it is not used at all."""
    truth = cal.ExchangeCalendar.cached()
    christmas = datetime(2026, 12, 25, 15, 0, tzinfo=UTC)  # 10:00 New York, a holiday
    assert not truth.is_open(christmas)
    path = _stored_file(tmp_path / "cache")
    stored = json.loads(path.read_text())
    planted = [christmas.date().toordinal(), int(christmas.timestamp()) - 1800, 1798232400]
    stored["sessions"] = sorted([*stored["sessions"], planted])
    path.write_text(json.dumps(stored))
    path.chmod(0o664)  # as a shared group folder's file: anyone in the group could write it
    again = cal.ExchangeCalendar.cached()
    assert not again.is_open(christmas), "a planted file opened the market on Christmas Day"
    assert len(builds) == 2 and again._sessions == truth._sessions
    assert path.stat().st_mode & 0o077 == 0  # written anew, this user's alone


def test_a_pipe_at_the_files_place_costs_the_build_not_a_hang(tmp_path, builds, today) -> None:
    version = calendar_cache.library_version()
    assert version is not None
    path = calendar_cache.cache_file("XNYS", version, today)
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    done: list[cal.ExchangeCalendar] = []
    worker = threading.Thread(target=lambda: done.append(cal.ExchangeCalendar.cached()))
    worker.start()
    worker.join(timeout=60)
    hung = worker.is_alive()
    if hung:  # stuck opening the pipe: a writer's open and close lets it go
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        worker.join()
    assert not hung, "the calendar hung on a pipe in the cache folder"
    assert done and len(builds) == 1
    assert done[0].first_day.year == 1995


def test_another_users_calendars_in_a_shared_folder_are_left_alone(
    tmp_path, builds, monkeypatch
) -> None:
    """A cache folder two users share (``$TUI_TRADER_CACHE_DIR``): the one whose process comes
    second (here: this process seen as another user, the files as the first user's) builds
    its own calendar and removes neither the first user's file of the day, which it cannot
    trust, nor that user's older one. Before, it replaced the one and deleted the other: the
    first user's next process paid the build again, and so on, turn and turn about."""
    cal.ExchangeCalendar.cached()  # the first user's calendar of the day
    theirs = _stored_file(tmp_path / "cache")
    version = calendar_cache.library_version()
    assert version is not None
    yesterday = (datetime.now() - timedelta(days=1)).date()
    older = theirs.with_name(calendar_cache.cache_file("XNYS", version, yesterday).name)
    older.write_text(theirs.read_text())
    older.chmod(0o600)
    before = theirs.stat()
    other = os.geteuid() + 1
    monkeypatch.setattr(os, "geteuid", lambda: other)  # the second user's process
    again = cal.ExchangeCalendar.cached()
    assert len(builds) == 2  # the first user's file is not trusted
    assert again._sessions  # and the calendar answers
    assert older.exists(), "the other user's older calendar was deleted"
    after = theirs.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), (
        "the other user's calendar of the day was written over"
    )
    files = sorted(p.name for p in (tmp_path / "cache" / calendar_cache.FOLDER).iterdir())
    assert len(files) == 3, files  # the first user's two, and the second user's own
