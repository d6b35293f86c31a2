"""The paper-to-live gate in front of the desk's "Alpaca live": ``live trading``'s, not a copy.

The decision is ``ops.readiness.decide`` on the database the session will write to, with the
bar the settings file sets (``min-days``, ...; the defaults otherwise), exactly as ``live
trading`` reads them; the skip is the desk's ``--skip-readiness``. This module only reads the
record and puts the answer in words for the live warning and the refusal.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from tui_trader.core.shown import shown_text
from tui_trader.ops.readiness import (
    SKIP_HOW,
    Decision,
    Verdict,
    bar_from,
    decide,
    paper_records,
    verdict,
)
from tui_trader.security.redact import describe

if TYPE_CHECKING:
    from tui_trader.store.pg_url import PgUrl
    from tui_trader.tui.setup_form import SessionPlan


def live_decision(db: Path | PgUrl | None, values: dict[str, str], skip: bool) -> Decision:
    """The gate's answer for live trading on ``db`` (``None``: the form's database field is
    not valid yet), against the bar ``values`` set (the form's: the settings file's ``min_days``
    and so on, as text). A record that cannot be read is not ready: the gate fails closed."""
    if db is None:
        return decide(Verdict(False, ["the Database field is not valid"]), skip)
    try:
        bar = bar_from(values)
        records = paper_records(db)
    except Exception as exc:  # any failure to read the record (a locked file, a server gone)
        return decide(Verdict(False, [f"cannot read the paper record ({describe(exc)})"]), skip)
    return decide(verdict(records, bar), skip)


def readiness_line(decision: Decision) -> str:
    """The live warning's line (Rich markup; the verdict's words escaped): ready, refused with
    the failed rules and how to skip, or skipped and recorded."""
    from rich.markup import escape

    said = escape(shown_text(decision.verdict.line()))  # stored account keys, as written
    if decision.verdict.ready:
        return f"Paper record: {said}."
    if decision.go:
        return (
            f"Paper record [b]{said}[/b]. {SKIP_HOW}: going on anyway, written as a risk "
            "event of the live session."
        )
    return (
        f"[b]REFUSED, live trading cannot start[/b]: the paper record is {said}. Build it with "
        f"'tui-trader live paper', or start the desk with {SKIP_HOW} to go on anyway."
    )


def gated_plan(
    plan: SessionPlan, values: dict[str, str], skip: bool
) -> tuple[SessionPlan, str | None]:
    """The gate again at Start, on the database the live session will write to (the field may
    have changed since the warning was confirmed): the plan carrying the skip's verdict to
    record, and ``None``; or the refusal's line (the session must not start)."""
    decision = live_decision(plan.settings.db, values, skip)
    if not decision.go:
        return plan, readiness_line(decision)
    return replace(plan, readiness_skipped=decision.skipped), None
