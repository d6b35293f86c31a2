"""A command whose PostgreSQL store went away while it ran: one plain line, exit 1.

The server ended the command's connection between its opening of the store and a read or a
write (an administrator's ``pg_terminate_backend``, a restart, a failover, a statement past its
deadline: ``store.pg.store_lost``). Before, every command (the reports, ``fleet``, ``risk
reset``) ended with the driver's error and a crash log, as if the desk had a bug. A session has
its own words for it (``session.store_endings.end_on_lost_store``); ``fleet halt`` reads the
halt back (``cli.fleet_cmd``). What a command had not committed was not written, and every
command is safe to run again, so that is what the line says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.cli.common import fail

if TYPE_CHECKING:
    import argparse


def command_name(args: argparse.Namespace) -> str:
    """``risk reset``, ``live status``, ``fleet``: the command and its action, as typed."""
    command = str(getattr(args, "command", None) or "")
    for suffix in ("_action", "_command"):
        action = getattr(args, f"{command}{suffix}", None)
        if isinstance(action, str):
            return f"{command} {action}"
    return command


def refuse_lost_store(exc: BaseException, args: argparse.Namespace) -> None:
    """If ``exc`` is the PostgreSQL store lost under the command ``args`` ran: say so in one
    line and exit 1 (the store failed, the input was fine). Returns only for any other
    exception."""
    from tui_trader.store.models import database
    from tui_trader.store.pg import lost_cause, store_lost

    db = database.obj
    if db is None or not store_lost(db, exc):
        return
    fail(lost_line(db.url, lost_cause(exc), command_name(args)), 1)


def lost_line(url: object, cause: str, command: str) -> str:
    """The line for the store at ``url`` lost (``cause``) before ``command`` finished."""
    return (
        f"lost the audit store {url} ({cause}) before 'tui-trader {command}' finished; "
        "run it again once the server answers"
    )
