"""The halts kept on disk for a store, in the lines ``fleet`` and ``risk reset`` print.

A halt a desk decided while its store was lost waits in a marker file until the account's
next start on that store writes it (``store.halt_markers``, ``engine.kept_halts``). Until
then the store's rows say nothing of it, so the commands that show or lift halts say it.
"""

from __future__ import annotations

from typing import Any

from tui_trader.core.shown import shown_text
from tui_trader.store.halt_markers import UNREADABLE, FoundMarker, store_markers


def kept_halt_lines(db: Any, account: str | None = None) -> list[str]:
    """One line per halt kept on disk for the store ``db`` (only ``account``'s if given; an
    unreadable marker naming no account is always said)."""
    lines = []
    for found in store_markers(db):
        key = found.halt.account_key
        if account is not None and key not in (account, "?"):
            continue
        lines.append(shown_text(_line(found)))
    return lines


def _line(found: FoundMarker) -> str:
    """A kept halt in one line."""
    halt = found.halt
    if halt.reason == UNREADABLE:
        whose = (
            "the account it was written for"
            if halt.account_key == "?"
            else f"account {halt.account_key}"
        )
        return (
            f"halt marker {found.path} cannot be read ({found.why}): look at it (a start of "
            f"{whose} on this store halts on it)"
        )
    return (
        f"halt kept on disk for {halt.account_key} ({halt.reason}, decided {halt.decided_at} "
        f"while the store was lost): its next start on this store writes it and stays halted "
        f"({found.path})"
    )
