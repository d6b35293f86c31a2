"""A kill-switch request from another process (the monitor), written once however often tried.

``live monitor``'s kill switch writes a ``halt_requests`` row and tries again while the store
does not answer (``tui.monitor_halt``). A try whose commit landed but whose answer was lost (a
PostgreSQL connection dropped after its COMMIT, an SQLite error raised once the write was in)
was tried again and wrote a second row for the same press: the session took each in turn, and
the account's history showed two ``manual_kill`` halts for one ctrl+k (the second cancelled
again, and, asked to flatten, flattened again). A request is one press: its session, the time it
was asked, who asked and whether to flatten; a try adds its row only if that row is not there
yet, in one transaction, so a try after a lost answer finds its row and writes nothing.
"""

from __future__ import annotations

from datetime import datetime

from tui_trader.store.db import to_db_time
from tui_trader.store.models import HaltRequest, database


def write_halt_request(
    session_id: int, asked: datetime, requested_by: str, reason: str, flatten: bool
) -> bool:
    """Write the request unless it is written already; True if this call wrote it."""
    when = to_db_time(asked)
    with database.atomic():
        written = (
            HaltRequest.select(HaltRequest.id)
            .where(
                (HaltRequest.session == session_id)
                & (HaltRequest.timestamp == when)
                & (HaltRequest.requested_by == requested_by)
                & (HaltRequest.flatten == flatten)
            )
            .exists()
        )
        if written:
            return False
        HaltRequest.create(
            session=session_id,
            timestamp=when,
            requested_by=requested_by,
            reason=reason,
            flatten=flatten,
        )
    return True
