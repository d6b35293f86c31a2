"""Halting accounts from the fleet view: through the account's shared risk state, audited.

A halt is written into the account's ``risk_state`` row by the same atomic merge the sessions
use (``store.risk_store``): every session trading that account adopts it at its next cycle,
cancels its open orders and sends no new exposure, whichever machine it runs on. The halt is
sticky (an existing halt stands; only ``risk reset`` lifts it, after a confirmation) and is
recorded as a ``manual_kill`` risk event naming who asked and from where, in the same
transaction as the halt itself, so the audit trail never misses one.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import UTC, datetime

from peewee import Database

from tui_trader.risk.gate import MANUAL_KILL, RiskLimits, RiskManager
from tui_trader.risk.state import SESSION_HALTS
from tui_trader.store.db import to_db_time
from tui_trader.store.liveness import this_host
from tui_trader.store.models import RiskEventRow
from tui_trader.store.risk_store import read_risk_state, sync_risk_state
from tui_trader.store.statements import load_risk_state


@dataclass(frozen=True, slots=True)
class HaltOutcome:
    """What a halt of one account did."""

    account_key: str
    halted_now: bool
    """True when this call halted the account; False when it was halted already."""
    reason: str | None
    """The account's halt reason after the call (the earlier one if it was halted already)."""


def who_and_where(via: str) -> str:
    """``user@host (pid N) via ...``: who asked for a halt, for the audit trail."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        user = f"uid {os.getuid()}"
    return f"{user}@{this_host()} (pid {os.getpid()}) via {via}"


def halt_account(db: Database, account_key: str, via: str, sessions: int = 0) -> HaltOutcome:
    """Halt one account for every session on it, atomically with its audit record.

    ``sessions`` is how many sessions were seen running on it (said in the event's detail)."""
    detail = f"kill switch from the fleet by {who_and_where(via)}"
    if sessions:
        detail += f"; {sessions} running session(s) on the account stop at their next cycle"
    before = load_risk_state(account_key)
    if before.halted and before.halt_reason not in SESSION_HALTS:  # lasts until reset: stands
        return HaltOutcome(account_key, False, before.halt_reason)
    # A daily-loss halt ends with its trading day: the press makes it last until reset (as the
    # desk's own ctrl+k does, ``risk.state.standing_halt``). Before, it was "already halted"
    # and the account traded again the next day, the press forgotten.
    manager = RiskManager(RiskLimits(), before)
    event = manager.halt(MANUAL_KILL, before.last_equity or 0.0, 0.0, detail)
    # the merge's first statement takes the row's write lock; the event commits with the halt,
    # on disk when this returns (a halt lost to a power loss would let the account trade on)
    with db.durably(always=True), db.atomic():
        after = sync_risk_state(db, before, manager.state)
        if after.halt_reason != MANUAL_KILL or not after.halt_detail.startswith(detail):
            # another halt that lasts until reset came first: it stands, nothing rewritten
            return HaltOutcome(account_key, False, after.halt_reason)
        # This press's halt, its words maybe extended: a daily-loss halt written since the
        # read gives way to it (``risk.state.standing_halt``) and is named in the row's words,
        # which the event records as they are (returned as "already halted", the row said
        # someone pressed the kill switch and the audit trail had no event of it).
        RiskEventRow.create(
            session=None,
            account_key=account_key,
            timestamp=to_db_time(datetime.now(UTC)),
            event_type=event.event_type,
            value=event.value,
            limit=0.0,
            action_taken=event.action_taken,
            detail=after.halt_detail,
        )
    return HaltOutcome(account_key, True, MANUAL_KILL)


def halt_accounts(db: Database, accounts: dict[str, int], via: str) -> list[HaltOutcome]:
    """Halt every account of ``accounts`` (account key: sessions running on it), one
    transaction each: a failure part-way leaves the accounts already halted halted."""
    return [halt_account(db, key, via, count) for key, count in sorted(accounts.items())]


def halted_now(db: Database, accounts: dict[str, int]) -> dict[str, bool]:
    """Whether each account's row says halted, read back after a halt whose answer was lost
    (an error raised once its commit may have landed): what the user is told is then what the
    store holds, not a guess."""
    states = {key: read_risk_state(db, key) for key in sorted(accounts)}
    return {key: state is not None and state.halted for key, state in states.items()}
