"""The time by which every wait of a PostgreSQL store must end: a lost store's halt tries keep
to their 30 s.

A desk that lost its store tries to write its halt for ``store.pg.RECONNECT_WITHIN`` seconds
(``session.store_endings``). Each wait for the server has its own deadline (a statement's,
``store.pg_deadline``; a connect's, ``store.pg.CONNECT_TIMEOUT``), and those added up past the
30 s: a connection opened just before the end, then its look-up and its write each up to 30 s
(a backend frozen, a row locked), ended the desk up to about a minute later than it said, the
halt neither written nor said kept on disk meanwhile. Inside ``answering_by`` every wait of the
store's connections ends by the given time, and no connection is tried with less than the
shortest connect timeout psycopg allows left: the halt is written, or said not written, within
the budget.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from typing import Any

SHORTEST_CONNECT = 2
"""Seconds: psycopg's (and libpq's) shortest connect timeout; a smaller one waits this long."""


class AnswerBy:
    """A store's bound on its waits: ``at``, monotonic seconds, or ``None`` (none but theirs)."""

    def __init__(self) -> None:
        self.at: float | None = None

    def left(self) -> float | None:
        """Seconds left before ``at`` (never below 0), or ``None`` without a bound."""
        return None if self.at is None else max(0.0, self.at - time.monotonic())

    def connect_timeout(self, usual: int) -> int | None:
        """A new connection's timeout: ``usual``, or less to end by ``at``; ``None`` if too
        little is left to try one."""
        left = self.left()
        if left is None:
            return usual
        whole = math.floor(left)
        return None if whole < SHORTEST_CONNECT else min(usual, whole)


@contextlib.contextmanager
def answering_by(db: Any, until: float) -> Iterator[None]:
    """Inside, every wait of ``db``'s connections (a PostgreSQL store's) ends by ``until``
    (monotonic); nothing changes for a store without the bound (SQLite)."""
    bound = getattr(db, "answer_by", None)
    if not isinstance(bound, AnswerBy):
        yield
        return
    before, bound.at = bound.at, until
    try:
        yield
    finally:
        bound.at = before
