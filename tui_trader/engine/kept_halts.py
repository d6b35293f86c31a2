"""A start honours a halt its account's last desk kept on disk while the store was lost.

That desk stopped trading and wrote its halt to a marker file (``store.halt_markers``,
``session.store_endings``), for the store could not take it. The account's next start on that
store, the store back, writes the halt to it before anything else (its event and the account's
halted risk state in one durable commit, as any halt), says so in its start events, and only
then removes the marker: the halt is now an ordinary one, lifted by the usual resume
(``risk reset``, the desk's ctrl+r). A resume that finds a kept halt still on disk (a desk of
the account lost its store while this one ran) writes it the same way before it lifts the halts
(``take_kept_halts``, ``drop_kept``), and says so; the desk's ctrl+r refuses, naming the file
and that command (``kept_halt_refusal``): before, the trader was told all was well and the next
start halted again. A marker that cannot be read is a halt too (fail closed). A
start whose store refuses that write fails on it (``KeptHaltUnwritten``, one line:
``session.lost_store``), the marker kept: it never trades.
"""

from __future__ import annotations

import shlex
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tui_trader.core.domain import RiskEvent
from tui_trader.security.redact import describe
from tui_trader.store.db import StoreError
from tui_trader.store.halt_markers import (
    UNREADABLE,
    FoundMarker,
    drop_marker,
    find_markers,
    store_name,
)
from tui_trader.store.queries import has_risk_event
from tui_trader.store.risk_store import lock_risk_row

if TYPE_CHECKING:
    from tui_trader.risk.gate import RiskManager
    from tui_trader.store.audit import AuditLog

KEPT_ACTION = "written by {who} from {path}, where it was kept while the store was lost"
"""The end of a kept halt's event action: who wrote it and where it came from."""
ENDED = "also ended the halt ({reason}) kept in {path} while the store was lost"
"""A resume's words for each kept halt it wrote and lifted with the others."""
UNREMOVED = (
    "the halt kept in {path} is written to the store, but the file could not be removed "
    "({why}): remove it by hand, or the next start halts the account again"
)
"""The start note when the marker of a halt now written cannot be removed."""


class KeptHaltUnwritten(StoreError):
    """The store refused the kept halt's write at start: the session does not start (nothing
    sent) and the marker stays for the next one. ``__cause__``: the store's own error."""

    def __init__(self, found: FoundMarker, cause: BaseException) -> None:
        super().__init__(
            f"the halt ({found.halt.reason}) kept in {found.path} could not be written to the "
            f"audit store ({describe(cause)}): nothing sent; it stays in that file for the "
            "next start"
        )


def honour_kept_halt(
    audit: AuditLog, risk: RiskManager, account_key: str, now: datetime
) -> tuple[list[RiskEvent], list[str]]:
    """Write the account's kept halts, if it has any (one a desk that kept one), to the store;
    their events and any note for the start. The earliest decided halt stands, the others' are
    events beside it (``risk.state.standing_halt``). The store failing here raises (the start
    fails, the markers stay)."""
    markers = find_markers(audit.db, account_key)
    if not markers:
        return [], []
    events: list[RiskEvent] = []
    try:
        with audit.db.durably(), audit.together():
            # The account's row locked first, then only the halts no one wrote meanwhile: a
            # ``risk reset`` run as this start found the file wrote it, lifted it and removed
            # the file; written again, it was in the history twice and halted the account the
            # trader had just reset (``unwritten``, as two resets at once are kept apart).
            # A marker that cannot be read is not looked up: its words (path and why) are the
            # same each time the same file is unreadable the same way, so an earlier episode's
            # row, reset since, matched it and the start traded. It halts every start it is
            # found at (a reset that raced it halts the account once more: fail closed).
            lock_risk_row(audit.db, account_key)
            fresh = unwritten([f for f in markers if f.halt.reason != UNREADABLE], account_key)
            fresh += [f for f in markers if f.halt.reason == UNREADABLE]
            events = take_kept_halts(risk, fresh, "this start")
            for event in events:
                audit.risk_event(event, account_key, now, durable=True)
            risk.state = audit.save_risk_state(risk.state)
    except Exception as exc:  # the start fails, in one line (``session.lost_store``)
        raise KeptHaltUnwritten(markers[0], exc) from exc
    return events, drop_kept(markers)


def take_kept_halts(risk: RiskManager, markers: list[FoundMarker], who: str) -> list[RiskEvent]:
    """Enter the kept halts ``markers`` in ``risk`` (the earliest decided standing), and their
    events for the store (written by ``who``: "this start", "risk reset")."""
    events = []
    for found in markers:
        halted = risk.halt(found.halt.reason, 0.0, 0.0, _detail(found))  # (until: its words)
        action = f"{halted.action_taken}; {KEPT_ACTION.format(who=who, path=found.path)}"
        events.append(RiskEvent(found.halt.reason, 0.0, 0.0, action, detail=_detail(found)))
    return events


def ended_words(markers: list[FoundMarker]) -> str:
    """What a resume that wrote and lifted the kept halts ``markers`` adds to its event."""
    return "; ".join(ENDED.format(reason=f.halt.reason, path=f.path) for f in markers)


def drop_kept(markers: list[FoundMarker]) -> list[str]:
    """Remove the markers whose halts are in the store now; a note for each that could not
    be removed (the next start would halt on it again)."""
    notes = []
    for found in markers:
        try:
            drop_marker(found)
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            notes.append(UNREMOVED.format(path=found.path, why=why))
    return notes


def unwritten(markers: list[FoundMarker], account_key: str) -> list[FoundMarker]:
    """The kept halts ``markers`` whose rows are not in the store yet. Two ``risk reset`` at
    once (or a reset and a start: ``honour_kept_halt``) each found the file before either
    removed it, and each wrote the halt's row: twice in the account's history. Asked inside the
    transaction that writes them, once the account's risk row is locked
    (``store.risk_store.sync_risk_state``, ``lock_risk_row``): one that committed first is
    seen, and its halt not written again."""
    return [f for f in markers if not has_risk_event(account_key, f.halt.reason, _detail(f))]


def _detail(found: FoundMarker) -> str:
    """The halt's words: the kept halt's own, when and by which session it was decided."""
    halt = found.halt
    if halt.reason == UNREADABLE:
        return (
            f"a halt marker {found.path} could not be read ({found.why}): it may have held a "
            "halt decided while the audit store was lost; halted until a person looks (moved "
            "aside as .unreadable)"
        )
    by = f" by session {halt.session_key}" if halt.session_key else ""
    return f"{halt.detail} (decided at {halt.decided_at}{by} while the audit store was lost)"


def kept_halt_refusal(db: Any, account_key: str) -> str | None:
    """Why a desk's resume is refused while a halt of its account is kept on disk for its
    store (another desk of the account lost the store), or ``None``. Lifted here, the halt
    would come back at the next start; ``risk reset`` writes it to the store first and lifts
    it with the others (a running desk takes that reset at its next cycle). The server is not
    asked (this runs on the desk's screen's thread)."""
    found = find_markers(db, account_key, ask=False)
    if not found:
        return None
    halt = found[0].halt
    return (
        f"a halt ({halt.reason}) of this account is kept on disk in {found[0].path}, decided "
        "while the store was lost and not in the store yet: end it with tui-trader risk reset "
        f"--account {shlex.quote(account_key)} --db {_store_option(db)} (which writes it first)"
    )


def _store_option(db: Any) -> str:
    """The desk's store as ``--db`` names it in a command the trader runs: without it, the
    command went to the default store (``no database``, or another store's halt of the same
    Alpaca account lifted) and the kept halt stayed. A PostgreSQL URL without its password."""
    if getattr(db, "is_postgres", False):
        return shlex.quote(db.url.without_password)
    return shlex.quote(store_name(db) or str(getattr(db, "database", "")))
