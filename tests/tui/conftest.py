"""Fixtures for the app's tests: private folders, clocks, a database per test, async tests
without a plugin, and short Pilot idle waits."""

from __future__ import annotations

import asyncio
import inspect
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tui_helpers, with or without tests/__init__.py

from tui_helpers import FROZEN_START, PacedFrozenClock

from tui_trader.core.clock import FrozenClock


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests on a fresh event loop (no async plugin is needed)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep data, logs and credentials out of the user's home and environment."""
    home = tmp_path / "home"
    for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    for name in ("APCA_API_KEY_ID", "APCA_API_SECRET_KEY", "APCA_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _short_idle_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pilot waits up to 1 s per key for the *process* to go idle, and a running session's
    thread keeps it busy; cap that wait so key presses cost ~0.1 s (state is still awaited
    explicitly with ``wait_for``)."""
    import textual.app
    import textual.pilot
    from textual._wait import wait_for_idle

    async def short(min_sleep: float = 0.0, max_sleep: float = 1.0) -> None:
        await wait_for_idle(min_sleep, min(max_sleep, 0.1))

    monkeypatch.setattr(textual.pilot, "wait_for_idle", short)
    monkeypatch.setattr(textual.app, "wait_for_idle", short)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh database file per test."""
    return tmp_path / "desk.db"


@pytest.fixture
def frozen() -> FrozenClock:
    """A clock that never moves and never waits."""
    return FrozenClock(FROZEN_START)


@pytest.fixture
def paced() -> PacedFrozenClock:
    """A clock that never moves but really waits between iterations."""
    return PacedFrozenClock(FROZEN_START)
