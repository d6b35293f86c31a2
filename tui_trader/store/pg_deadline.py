"""Every wait for the PostgreSQL server has a deadline: a server that stops answering ends the
session in plain words instead of hanging it.

A server that stops answering without closing the connection (its processes stopped with
SIGSTOP, a machine frozen or cut off behind a firewall that drops packets, a backend stuck)
left each statement waiting for its answer for ever: a session hung mid-cycle, silent, its
heartbeat going stale, its working orders at the broker unwatched, Ctrl+C the only way out.
TCP keepalives do not help where the server's kernel still answers for it (a stopped process,
a loopback connection), so the deadline is the client's own: each wait for the server
(a statement, a commit, a pipeline's answers) may take ``STATEMENT_DEADLINE`` seconds. Past it
the connection is closed and the statement fails as a lost connection (``store.pg.store_lost``):
the session halts and ends with the line a lost store gets (``lost the audit store URL (the
server did not answer within 30 s) ...``, exit 1). No order is sent without its row: an order's
row commits before it is sent, and a session whose store stopped answering sends nothing more.
"""

from __future__ import annotations

from typing import Any

import psycopg
from peewee import Psycopg3Adapter

from tui_trader.store.pg_budget import AnswerBy
from tui_trader.store.pg_driver import load_psycopg

load_psycopg()  # peewee was loaded without the driver (``store.pg_driver``)

STATEMENT_DEADLINE = 30.0
"""Seconds one wait for the server may take: the shortest heartbeat window
(``store.liveness.MIN_WINDOW``), after which the other processes count the session dead."""

_WaitTimeout = psycopg.errors._WaitTimeout  # raised by psycopg's waits when a timeout expires


class AnsweringConnection(psycopg.Connection):
    """A psycopg connection whose every wait for the server ends by ``STATEMENT_DEADLINE``,
    and by its store's ``answer_by`` when one is set (``store.pg_budget``)."""

    answer_by: AnswerBy | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        """psycopg's wait, with the deadline as its timeout; past it, the connection is
        closed (its state is unknown) and ``OperationalError`` says why."""
        deadline = STATEMENT_DEADLINE if timeout is None else timeout
        left = self.answer_by.left() if self.answer_by is not None else None
        if timeout is None and left is not None and left < deadline:
            if left <= 0:  # the store's budget is spent: no wait begins
                self.close()
                raise psycopg.OperationalError(
                    "the time to write the halt ran out; connection closed"
                )
            deadline = left
        try:
            return super().wait(gen, interval, deadline)
        except _WaitTimeout:
            if timeout is not None:  # psycopg's own timed wait (a notification's): its call
                raise
            self.close()
            raise psycopg.OperationalError(
                f"the server did not answer within {deadline:g} s; connection closed"
            ) from None


class AnsweringAdapter(Psycopg3Adapter):
    """peewee's psycopg 3 adapter, opening ``AnsweringConnection``s (as its own ``connect``
    does, with the class changed)."""

    def connect(self, db: Any, **params: Any) -> AnsweringConnection:
        """A new connection to ``db``'s server, its waits bound by ``db.answer_by`` if set
        (its connect too: none tried with too little time left)."""
        if db._encoding:
            params.setdefault("client_encoding", db._encoding)
        if db.database.startswith("postgresql://"):
            params.setdefault("conninfo", db.database)
        else:
            params.setdefault("dbname", db.database)
        bound = getattr(db, "answer_by", None)
        if isinstance(bound, AnswerBy) and "connect_timeout" in params:
            timeout = bound.connect_timeout(int(params["connect_timeout"]))
            if timeout is None:
                raise psycopg.OperationalError(
                    "the time to write the halt ran out; no connection tried"
                )
            params["connect_timeout"] = timeout
        conn = AnsweringConnection.connect(**params)
        conn.answer_by = bound if isinstance(bound, AnswerBy) else None
        return conn
