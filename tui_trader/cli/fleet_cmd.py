"""``tui-trader fleet``: every session on one audit store; ``fleet halt`` stops accounts.

``fleet`` lists what runs (and what ended or died in the last day) as plain columns, one session
a line, or as JSON (``--json``) for scripts. ``fleet halt`` halts the accounts of the chosen
sessions through the shared risk state (``store.fleet_halts``): every session on such an account
stops at its next cycle, wherever it runs. It asks first unless ``--yes``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from tui_trader.cli.common import (
    UsageError,
    add_db_option,
    fail,
    key_arg,
    open_existing_db,
)
from tui_trader.cli.kept_halt_lines import kept_halt_lines
from tui_trader.cli.questions import confirmed_by_typing
from tui_trader.reporting.fleet_text import COLUMNS, as_dict, cells, failed_halt_words
from tui_trader.store.fleet import FleetRow, accounts_to_halt, fleet_rows, known_accounts
from tui_trader.store.fleet_halts import halt_accounts, halted_now
from tui_trader.store.pg import lost_cause, reconnect, store_lost

if TYPE_CHECKING:
    from pathlib import Path

    from tui_trader.store.peewee_names import Database
    from tui_trader.store.pg_url import PgUrl

_LISTED = 10
"""The most known account keys a refusal of an unknown one names."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``fleet`` and ``fleet halt``."""
    fleet = subparsers.add_parser(
        "fleet",
        help="every session running on the database (and those ended lately); halt them",
        description="List every session on the audit database: host, pid, mode, account, "
        "symbols, equity, day PnL, state, heartbeat age. Dead sessions are marked.",
    )
    add_db_option(fleet)
    fleet.add_argument("--json", action="store_true", help="one JSON array, for scripts")
    fleet.add_argument("--running", action="store_true", help="only the sessions still running")
    fleet.set_defaults(handler=show_fleet)
    actions = fleet.add_subparsers(dest="fleet_action", metavar="ACTION")
    halt = actions.add_parser(
        "halt",
        help="halt the account of a session (every session on it stops), or every account",
    )
    add_db_option(halt, dest="halt_db")  # (``fleet --db X halt``: X, never the default)
    which = halt.add_mutually_exclusive_group(required=True)
    which.add_argument("--session", type=key_arg, metavar="KEY", help="halt this session's account")
    which.add_argument(
        "--account",
        type=key_arg,
        metavar="KEY",
        help="halt this account (one the database has seen; --new for one it has not)",
    )
    which.add_argument(
        "--all", action="store_true", help="halt every account with a running session"
    )
    halt.add_argument(
        "--new",
        action="store_true",
        help="with --account: halt an account no session has used yet (its first session "
        "starts halted)",
    )
    halt.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    halt.set_defaults(handler=halt_fleet)


def show_fleet(args: argparse.Namespace) -> int:
    """Print the fleet: a header and one line per session, or JSON."""
    db = open_existing_db(args.db)
    rows = fleet_rows(include_ended=not args.running)
    kept = kept_halt_lines(db)  # halts no row holds yet: said after the sessions
    if args.json:
        print(json.dumps([as_dict(r) for r in rows], indent=2, allow_nan=False))
        for line in kept:  # (stdout stays one JSON array)
            print(f"note: {line}", file=sys.stderr)
        return 0
    if not rows:
        print("no session running or ended in the last day")
    else:
        table = [COLUMNS] + [cells(r) for r in rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(table[0]) - 1)]
        for line in table:
            cols = zip(line, widths, strict=False)
            print("  ".join(c.ljust(w) for c, w in cols) + "  " + line[-1])
    for line in kept:
        print(line)
    return 0


def _targets(args: argparse.Namespace, rows: list[FleetRow]) -> dict[str, int]:
    """The accounts to halt, each with how many sessions run on it (an account whose only
    session looks dead is halted too, in doubt, with 0: a dead desk stops at no next cycle,
    and the halt's words said it would)."""
    running = {k: sum(r.alive for r in v) for k, v in accounts_to_halt(rows).items()}
    if args.all:
        if not running:
            raise UsageError("no session is running: nothing to halt")
        return running
    account = args.account
    if account is not None and not args.new:
        _check_known(account)
    if args.session:
        found = next((r for r in rows if args.session in (r.key, str(r.session_id))), None)
        if found is not None:
            account = found.account_key
        else:  # ended over a day ago, so not listed: its account is known all the same
            from tui_trader.store.queries import find_session

            older = find_session(args.session)
            if older is None:
                raise UsageError(
                    f"no session {args.session!r} on this database (see 'tui-trader fleet')"
                )
            account = older.account_key
    return {account: running.get(account, 0)}


def _dead_looking(rows: list[FleetRow], targets: dict[str, int]) -> dict[str, int]:
    """How many sessions that look dead (``DIED``) each account to halt has."""
    return {key: sum(not r.alive for r in accounts_to_halt(rows).get(key, [])) for key in targets}


def _check_known(account: str) -> None:
    """Refuse an account key the database has never seen (a typo would halt nobody, silently,
    while the account meant trades on), naming the ones it knows."""
    known = known_accounts()
    if account in known:
        return
    names = sorted(known)
    listed = ", ".join(names[:_LISTED]) + (
        f" and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
    )
    seen = f"the accounts it knows: {listed}" if names else "it knows no account yet"
    raise UsageError(
        f"no session or risk state on this database for account {account!r} ({seen}); "
        "check the key, or add --new to halt an account before its first session"
    )


def halt_fleet(args: argparse.Namespace) -> int:
    """Confirm, then halt the chosen accounts and say what each one did."""
    if args.new and args.account is None:
        raise UsageError("--new goes with --account KEY (an account no session has used yet)")
    args.db = _halt_db(args)  # what a refusal of the store names (``cli._refuse_unwritable``)
    db = open_existing_db(args.db)
    rows = fleet_rows()
    targets = _targets(args, rows)
    dead = _dead_looking(rows, targets)
    sessions = sum(targets.values())
    what = (
        f"{len(targets)} account(s) ({', '.join(sorted(targets))}); {sessions} running "
        "session(s) stop at their next cycle"
    )
    if sum(dead.values()):
        what += f"; {sum(dead.values())} more look dead (halted all the same, in doubt)"
    if not args.yes and not confirmed_by_typing(
        "halt",
        f"Halting {what}.",
        "Type 'halt' to halt them: ",
        "refusing to halt without confirmation: run in a terminal or --yes",
    ):
        print("not halted")
        return 2
    try:
        outcomes = halt_accounts(db, targets, "tui-trader fleet halt")
    except Exception as exc:
        return _halt_lost(db, targets, exc)
    for outcome in outcomes:
        if outcome.halted_now:
            count = f"{targets[outcome.account_key]} session(s)"
            if dead.get(outcome.account_key):
                looks = "looks" if dead[outcome.account_key] == 1 else "look"
                count += f" running, {dead[outcome.account_key]} {looks} dead"
            print(f"{outcome.account_key}: HALTED ({count})")
        else:
            print(f"{outcome.account_key}: was already halted ({outcome.reason})")
    for line in kept_halt_lines(db):
        print(line)
    print("lift a halt with 'tui-trader risk reset --account KEY' (asks first)")
    return 0


def _halt_db(args: argparse.Namespace) -> Path | PgUrl | None:
    """The store ``fleet halt`` acts on: ``--db`` given before ``halt`` or after it. Before,
    the one after always won, unset or not: ``fleet --db desk.db halt --all`` halted the
    accounts of the default store, said HALTED, and the desks on desk.db traded on. Two
    different ones: which store the user meant is in doubt, so nothing is halted (exit 2)."""
    if args.db is not None and args.halt_db is not None and args.db != args.halt_db:
        raise UsageError(
            f"two different --db given ({args.db} before 'halt', {args.halt_db} after it): "
            "nothing halted; give one"
        )
    return args.halt_db if args.halt_db is not None else args.db


def _halt_lost(db: Database, targets: dict[str, int], exc: Exception) -> int:
    """The store went away while the halts were written (``store.pg.store_lost``): its
    commit may have landed and only its answer been lost, so the accounts' rows are read back
    on a new connection and the line says what they hold (``failed_halt_words``), exit 0 only
    if every account is halted. Before, a crash line that did not say whether the account
    still traded. Any other failure is raised (the command's usual one line)."""
    if not store_lost(db, exc):
        raise exc
    cause = lost_cause(exc)
    halted = halted_now(db, targets) if reconnect(db) else None
    title, words = failed_halt_words(f"lost the audit store {db.url} ({cause})", halted)
    if title != "HALTED":
        fail(words, 1)
    print(words)
    print("lift a halt with 'tui-trader risk reset --account KEY' (asks first)")
    return 0
