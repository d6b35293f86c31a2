"""Running a blocking call under our own deadline.

yfinance's ``timeout`` does not bound a whole download (against a server that accepts and never
answers it took about 130 s with ``timeout=5``), so every fetch runs in a daemon worker thread
that the caller waits for at most ``seconds``. A call that overruns is abandoned, not killed: its
thread ends on its own when its socket times out or closes, and never blocks the exit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from tui_trader.market import MarketDataError

T = TypeVar("T")


class DeadlineExceeded(MarketDataError):
    """A call did not finish within its deadline."""


def call_with_deadline(func: Callable[[], T], seconds: float, what: str) -> T:
    """Return ``func()`` if it finishes within ``seconds``; re-raise what it raised; else raise.

    ``what`` names the call in the ``DeadlineExceeded`` message (``"Yahoo Finance (SPY 1d)"``).
    """
    done = threading.Event()
    outcome: dict[str, object] = {}

    def worker() -> None:
        """Run the call and keep its result or its exception for the waiting thread."""
        try:
            outcome["value"] = func()
        except BaseException as exc:  # handed over to the caller, who re-raises it
            outcome["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=worker, name=f"deadline: {what}", daemon=True)
    thread.start()
    if not done.wait(seconds):
        raise DeadlineExceeded(f"{what}: no answer within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
