"""A stop signal while a session starts: its row ends ``stopped``, not left ``running``.

A start can take a while: the warm-up's downloads, start-up reconciliation's look-ups, a
request budget's pause. Ctrl+C there left the session row ``running`` (``interrupted``), and
SIGTERM (a service stop) or SIGHUP (the terminal closed) ended the process where it stood,
with nothing said: the row said ``running`` until its process was found gone (``died``). The
command now turns the signal into ``cli.stop_signals.Stopped`` while it builds the session,
the builders (``session.local``, ``session.alpaca``) end the row here, and the command says so
in one line. What the start wrote is whole either way: each of its writes is one transaction,
rolled back if the signal cut it.
"""

from __future__ import annotations

import contextlib

from tui_trader.store.audit import AuditLog


def end_stopped_start(audit: AuditLog) -> None:
    """Roll back what the interrupted start had open and end its row ``stopped`` (no cycle
    ran), if the row was written; a store that fails now leaves it to the stale heartbeat."""
    with contextlib.suppress(Exception):
        audit.abandon()
        if audit.session is not None:
            audit.end_session("stopped", 0)
