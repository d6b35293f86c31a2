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
from typing import TYPE_CHECKING

from tui_trader.store.audit import AuditLog

if TYPE_CHECKING:
    from tui_trader.engine.session import TradingSession


def end_stopped_start(audit: AuditLog) -> None:
    """Roll back what the interrupted start had open and end its row ``stopped`` (no cycle
    ran), if the row was written; a store that fails now leaves it to the stale heartbeat."""
    with contextlib.suppress(Exception):
        audit.abandon()
        if audit.session is not None:
            audit.end_session("stopped", 0)


def end_started_anyway(session: TradingSession) -> None:
    """A stop signal came while the session started, and a step of the start swallowed it:
    the start went on to its end. Before, the desk then traded with its trader's Ctrl+C lost
    (campaign32: a ``live paper`` desk cycled 90 s after it, until killed). It ends here as a
    start the signal stopped: its row ``stopped`` with no cycle, the broker's connection and
    the store closed; nothing more is sent (the protective stops the start placed stay at the
    broker: they protect the shares held, as after any stopped start)."""
    end_stopped_start(session.audit)
    with contextlib.suppress(Exception):
        session.broker.close()
    with contextlib.suppress(Exception):
        session.audit.db.close()
