"""``tui-trader risk show|reset``: look at, or deliberately re-arm, an account's risk state.

A drawdown or manual halt outlives the process that tripped it; only ``risk reset`` lifts it, and
only after the user confirms. The reset is itself a risk event in the audit trail. It is merged
into the account's row atomically (``store.risk_store``): a session running on the account takes
it at its next cycle, and a halt written after the user looked is not lifted unseen. The lifted
halt and its ``risk_reset`` row commit in one transaction: a reset killed or interrupted between
them leaves the account halted, never re-armed without its audit record.

A halt kept on disk for the account while the store was lost (``engine.kept_halts``) is shown
before the question and ended with the reset: written to the store as the next start would
write it, in the reset's transaction, then its file removed. Before, the reset said ACTIVE and
the next start halted again on the file.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from tui_trader.cli.common import (
    UsageError,
    add_db_option,
    key_arg,
    open_existing_db,
)
from tui_trader.cli.kept_halt_lines import kept_halt_lines
from tui_trader.cli.questions import confirmed_by_typing
from tui_trader.cli.shown_console import ShownConsole, styled
from tui_trader.core.clock import WallClock
from tui_trader.core.shown import shown_text
from tui_trader.engine.kept_halts import drop_kept, ended_words, take_kept_halts, unwritten
from tui_trader.risk.gate import RiskLimits, RiskManager
from tui_trader.store.audit import load_risk_state
from tui_trader.store.db import to_db_time
from tui_trader.store.halt_markers import FoundMarker, find_markers
from tui_trader.store.models import RiskEventRow, RiskStateRow
from tui_trader.store.queries import find_session, last_snapshot, sessions_of_account
from tui_trader.store.risk_store import sync_risk_state
from tui_trader.store.stored_numbers import required, shown, shown_whole


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``risk show`` and ``risk reset``."""
    risk = subparsers.add_parser("risk", help="show or reset an account's risk state")
    actions = risk.add_subparsers(dest="risk_action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="every account's risk state")
    add_db_option(show)
    show.set_defaults(handler=show_risk)
    reset = actions.add_parser(
        "reset",
        help="lift a halt and restart the drawdown peak (on Alpaca, offer to clear "
        "suspend_trade too)",
    )
    add_db_option(reset)
    reset.add_argument(
        "--account", type=key_arg, default=None, help="account key (default: latest session's)"
    )
    reset.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    reset.set_defaults(handler=reset_risk)


def show_risk(args: argparse.Namespace) -> int:
    """Print each account's state, halt reason, peak equity and orders today."""
    open_existing_db(args.db)
    console = ShownConsole(highlight=False)
    rows = list(RiskStateRow.select().order_by(RiskStateRow.updated_at.desc()))
    if not rows:
        console.print("no risk state recorded yet")
    for row in rows:
        style = "bold white on red" if row.state == "halted" else "bold green"
        reason = f" {row.halt_reason}: {row.halt_detail}" if row.halt_reason else ""
        value = shown(row.peak_equity, "risk_state", row.account_key, "peak_equity")
        peak = f"{value:,.2f}" if value else "-"
        console.print(  # every stored word shown as written: no markup, no control characters
            styled(
                f"{row.account_key}: ",
                (f" {row.state.upper()} ", style),
                f"{reason}  peak {peak}  orders today {_count(row)} (day {row.day})",
            )
        )
    return 0


def reset_risk(args: argparse.Namespace) -> int:
    """Confirm, then lift the halt and record a ``risk_reset`` event."""
    db = open_existing_db(args.db)
    session = find_session()
    account = args.account or (session.account_key if session else None)
    if account is None:
        raise UsageError("no account to reset: no sessions yet (pass --account)")
    state = load_risk_state(account)
    if RiskStateRow.get_or_none(RiskStateRow.account_key == account) is None:
        raise UsageError(f"no risk state for account {account!r}")
    what = f"HALTED ({state.halt_reason}: {state.halt_detail})" if state.halted else "ACTIVE"
    what = shown_text(what)  # as stored by any writer of a shared store
    kept = find_markers(db, account)  # halts no row holds yet: ended with this reset
    told = "".join(f"; {line}" for line in kept_halt_lines(db, account))
    if kept:
        told += "; the reset writes " + (
            "it to the store and lifts it too"
            if len(kept) == 1
            else f"these {len(kept)} to the store and lifts them too"
        )
    if not args.yes and not confirmed_by_typing(
        "reset",
        f"Account {shown_text(account)} is {what}{told}.",
        "Type 'reset' to re-arm trading and restart the drawdown peak: ",
        "refusing to reset without confirmation: run in a terminal or --yes",
    ):
        print("not reset")
        return 2
    clock = WallClock()
    snap = last_snapshot(session) if session and session.account_key == account else None
    manager = RiskManager(RiskLimits(), state)
    equity = (
        required(snap.equity, "live_account_snapshots", snap.id, "equity")
        if snap
        else state.last_equity
    )  # the new drawdown peak: never from a hand-edited inf or text
    written = take_kept_halts(manager, kept, "risk reset")  # (the reset lifts them all)
    event = manager.reset(equity, who="risk reset command")
    ended: list[FoundMarker] = []
    with db.atomic():  # the lifted halt and its audit rows commit together, or none does
        after = sync_risk_state(db, state, manager.state)  # (the account's row locked first)
        if not after.halted:
            ended = unwritten(kept, account)  # not those another reset wrote meanwhile
            rows = [row for row, found in zip(written, kept, strict=True) if found in ended]
            if ended:
                event = replace(event, action_taken=f"{event.action_taken}; {ended_words(ended)}")
            for row in [*rows, event]:  # a kept halt written as the next start would
                RiskEventRow.create(
                    session=None,
                    account_key=account,
                    timestamp=to_db_time(clock.now()),
                    event_type=row.event_type,
                    value=row.value,
                    limit=0.0,
                    action_taken=row.action_taken,
                    detail=row.detail,
                )
    if after.halted:
        print(
            shown_text(
                f"not reset: account {account} was halted again meanwhile "
                f"({after.halt_reason}: {after.halt_detail}); look again and rerun"
            )
        )
        return 1
    print(f"risk state of {account} reset: trading ACTIVE (was {what})")
    for found in kept:
        print(
            shown_text(
                f"ended the halt ({found.halt.reason}) kept on disk in {found.path} while the "
                "store was lost: written to the store and lifted with this reset"
                if found in ended
                else f"the halt ({found.halt.reason}) kept on disk in {found.path} was written "
                "to the store by another reset meanwhile: not written again"
            )
        )
    for line in drop_kept(kept) + kept_halt_lines(db, account):  # (one kept since: it halts)
        print(shown_text(line))
    if account.startswith("alpaca:"):
        from tui_trader.cli.risk_suspend import offer_to_clear_suspension

        last = sessions_of_account(account)
        offer_to_clear_suspension(account, last[-1].endpoint if last else None, args.yes)
    return 0


def _count(row: Any) -> str:
    """The day's order count as shown: "-" (and a warning naming the row) for a hand edit's
    text or ``inf``, which ``risk show`` printed as such."""
    count = shown_whole(row.orders_today, "risk_state", row.account_key, "orders_today")
    return "-" if count is None else str(count)
