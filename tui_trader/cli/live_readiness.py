"""``tui-trader live readiness`` and the gate in front of ``live trading``.

Prints the paper record of every Alpaca paper account and local session in the database (and of
paper sessions on another host, such as the sandbox, which do not count) and the verdict
(``ready`` or ``not ready:`` with the reasons); exit 0 when ready, 1 when not. ``live trading``
shows the same verdict before the typed phrase and refuses when not ready, unless
``--skip-readiness`` is given; that choice is then written as a risk event of the live session.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from rich.console import Console

from tui_trader.cli.common import UsageError, add_db_option, fail, resolve_db
from tui_trader.cli.numbers import finite_number, non_negative_int, percent
from tui_trader.core.shown import shown_text

if TYPE_CHECKING:
    from tui_trader.ops.readiness import Verdict


def register_live(actions: argparse._SubParsersAction) -> None:
    """Add ``live readiness``."""
    parser = actions.add_parser("readiness", help="the paper record and the paper-to-live verdict")
    add_db_option(parser)
    add_readiness_options(parser)
    parser.set_defaults(handler=run_readiness)


def add_readiness_options(parser: argparse.ArgumentParser) -> None:
    """The thresholds of the verdict (the Phase 4 bar by default)."""
    group = parser.add_argument_group("paper-to-live bar (README: Operations)")
    group.add_argument(
        "--min-iterations", type=non_negative_int, default=10, help="cycles on Alpaca paper (10)"
    )
    group.add_argument(
        "--min-pnl", type=finite_number, default=0.0, help="PnL must be above this, dollars (0)"
    )
    group.add_argument("--min-days", type=non_negative_int, default=0, help="days traded (0)")
    group.add_argument(
        "--max-drawdown-seen", type=percent, default=None, metavar="PCT", help="(no limit)"
    )
    group.add_argument(
        "--max-halts", type=non_negative_int, default=None, metavar="N", help="(no limit)"
    )


def _bar(args: argparse.Namespace):
    """The ``ReadinessBar`` the options ask for."""
    from tui_trader.ops.readiness import bar_from

    return bar_from(vars(args))


def show_readiness(console: Console, db, bar, command: str = "live readiness") -> Verdict:
    """Print the records and the verdict; returns the verdict. A PostgreSQL store that cannot
    be reached is one line and exit 2 (as for every command); one lost while ``command`` reads
    it, one line and exit 1 (``cli.lost_store``)."""
    from pathlib import Path

    from tui_trader.cli.lost_store import lost_line
    from tui_trader.ops.readiness import (
        ELSEWHERE,
        RecordLost,
        paper_records,
        verdict,
        with_realized,
    )
    from tui_trader.store.db import StoreError, open_database
    from tui_trader.store.ownership import check_database
    from tui_trader.store.peewee_names import PeeweeException

    if isinstance(db, Path) and db.is_file():  # the record is read raw: a damaged file crashed
        problem = check_database(db, quick_check=True)
        if problem:
            raise UsageError(problem)
    try:
        records = paper_records(db)
        if records:  # the account's round trips, as ``report`` reads them
            store = open_database(db, create=False)
            try:
                records = with_realized(records)
            except PeeweeException:  # (no verdict reads it: said unknown)
                pass
            finally:
                store.close()
    except RecordLost as exc:
        fail(lost_line(exc.url, exc.cause, command), 1)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    console.print(f"paper record in {db}", markup=False)
    if not records:
        console.print("  (no paper or local sessions)")
    for r in records:
        console.print(  # stored account keys as written: no markup, control characters escaped
            f"  {r.kind:12} {shown_text(r.account):24} sessions {r.sessions}  "
            f"iterations {r.iterations}  "
            f"days traded {r.days_traded}  realized PnL {_realized(r.realized_pnl)}  "
            f"PnL {r.pnl:+,.2f}  max drawdown {r.max_drawdown_pct:.2f}%  halts {r.halts}  "
            f"broker errors {r.broker_errors}"
            + (f" (unresolved: {r.unresolved})" if r.unresolved else "")
            + (f" (on {', '.join(r.places)}: does not count)" if r.kind == ELSEWHERE else ""),
            markup=False,
        )
    result = verdict(records, bar)
    console.print(shown_text(result.line()), markup=False)
    return result


def _realized(value: float | None) -> str:
    """The record's realized PnL, or that the store did not give it."""
    return "unknown (the store did not answer)" if value is None else f"{value:+,.2f}"


def run_readiness(args: argparse.Namespace) -> int:
    """Exit 0 when ready, 1 when not."""
    console = Console(highlight=False, soft_wrap=True)
    result = show_readiness(console, resolve_db(args.db), _bar(args))
    return 0 if result.ready else 1


def readiness_gate(args: argparse.Namespace, db, console: Console) -> None:
    """Before the typed phrase: show the verdict; refuse when not ready without the skip (the
    decision is ``ops.readiness.decide``, the desk's too)."""
    from tui_trader.ops.readiness import decide

    shown = show_readiness(console, db, _bar(args), "live trading")
    decision = decide(shown, args.skip_readiness)
    if not decision.go:
        print(f"tui-trader: error: {decision.refusal()}", file=sys.stderr)
        raise SystemExit(1)
    if decision.skipped:
        console.print("[bold red]--skip-readiness:[/] going on without a ready paper record")
        args.readiness_skipped = decision.skipped  # type: ignore[attr-defined]


def record_skip(args: argparse.Namespace, session) -> None:
    """Write ``--skip-readiness`` as a risk event of the live session's account."""
    from tui_trader.ops.readiness import record_skip as write

    write(session, getattr(args, "readiness_skipped", None))
