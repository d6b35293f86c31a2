"""Merging one session's risk-state changes into the account's shared row.

An account has one risk state however many processes trade it. Each session keeps a copy in
memory (``mine``) and remembers the row as it last read or wrote it (``base``); to save, it
re-reads the row inside a write transaction (``row``) and merges: what the session changed since
``base`` is applied to ``row``, everything else is taken from ``row``. Never last-writer-wins:

- a halt is sticky: a session's new halt is written unless the row is already halted (the first
  halt stands; only a daily-loss halt gives way to one that lasts until reset, its words kept,
  ``risk.gate.standing_halt``); ACTIVE is written over HALTED only when this session itself
  lifted exactly the halt the row still holds (an explicit reset, or a new trading day for a
  daily-loss halt), or when the row's daily-loss halt belongs to an earlier day than the
  merged one (a daily-loss halt this session made on that later day, in its first cycle,
  stands). "Exactly" is the halt's identity (``halt_id``, raised by every halt written here),
  not its words: a halt written again with word-for-word the same reason and detail
  after the session read the first (a reset and a new halt elsewhere meanwhile) stands;
- a halt or reset written by another process is adopted (the session did not touch the halt);
- the peak is the higher of the two, unless a reset restarted it (then the reset's value); the
  two are compared in the merged opening's terms (cash counted moves the opening and the peak
  together: a withdrawal one session counted lowers both and is no reset, and another
  session's higher peak is kept, less the withdrawal); a
  reset that found the account halted anew (the halt stands, above) restarts nothing: its
  lower peak would re-arm the drawdown allowance once that halt ends (a daily-loss halt does
  by itself) of a reset the user was told did not happen;
- the day's opening moved by the day's cash flows (``risk.cash_flows``) is this session's:
  every session reads the same day's total, so the last to move it is right, never the sum;
- the day's order count is one counter: the row's count plus the orders this session counted
  since ``base`` (slots reserved in the database directly leave nothing to add).

Pure: no database here (``tui_trader.store.risk_store`` runs it inside the transaction).
"""

from __future__ import annotations

from datetime import date

from tui_trader.core.domain import RiskEvent, TradingState
from tui_trader.risk.cash_flows import CENT
from tui_trader.risk.state import SESSION_HALTS, RiskState, standing_halt

HALT_ADOPTED = "halt_adopted"
"""Another process halted the account; this session stops sending new exposure too."""
RESET_ADOPTED = "reset_adopted"
"""Another process (``risk reset``) lifted the account's halt; this session trades again."""


def _halt(state: RiskState) -> tuple[TradingState, str | None, str]:
    """The halt fields of a state, compared as one value."""
    return (state.state, state.halt_reason, state.halt_detail)


def merge_risk_state(row: RiskState | None, base: RiskState | None, mine: RiskState) -> RiskState:
    """The account's row after applying this session's changes since ``base`` to ``row``."""
    if row is None:
        return mine
    base = base or RiskState(account_key=mine.account_key)
    # -- the trading day and its counters ---------------------------------------------------
    if mine.day is not None and (row.day is None or mine.day > row.day):
        # this session began a new day the row has not seen: its counters start the day
        day, day_open, orders = mine.day, mine.day_open_equity, mine.orders_today
    else:
        day, day_open = row.day, row.day_open_equity
        if day_open is None or (
            mine.day == row.day == base.day and mine.day_open_equity != base.day_open_equity
        ):  # or this session moved the opening by the day's cash flows (``risk.cash_flows``)
            day_open = mine.day_open_equity
        counted = mine.orders_today - base.orders_today if mine.day == base.day else 0
        orders = row.orders_today + max(counted, 0) if mine.day == row.day else row.orders_today
    # -- the halt --------------------------------------------------------------------------
    # The row's daily-loss halt ends with the row's day: over when the merged day is later.
    # Only the row's: a halt this session made on that later day (the first bar of a day, as
    # every bar of a daily replay is) is the new day's own and stands.
    row_over = (
        row.halted
        and row.halt_reason in SESSION_HALTS
        and row.day is not None
        and day is not None
        and day > row.day
    )
    state, reason, detail = (TradingState.ACTIVE, None, "") if row_over else _halt(row)
    lifted = base.halted and not mine.halted
    if mine.halted and _halt(mine) != _halt(base):
        if state is not TradingState.HALTED:  # this session's new halt; an existing halt stands
            state, reason, detail = _halt(mine)
        elif mine.halt_reason is not None:  # unless it ends with its day and mine lasts
            reason, detail = standing_halt(reason, detail, mine.halt_reason, mine.halt_detail)
    elif lifted and _halt(row) == _halt(base) and row.halt_id == base.halt_id:
        state, reason, detail = _halt(mine)  # this session lifted the very halt the row holds
    # -- the peak --------------------------------------------------------------------------
    # Each peak is compared in the merged opening's terms (``_moved``): cash counted moves the
    # opening and the peak together, so a withdrawal counted is no reset (``risk.cash_flows``).
    restarted_here = restarted(base, mine) and not (
        state is TradingState.HALTED and not mine.halted  # the reset's lift was refused
    )
    if restarted_here:
        peak = _moved(mine, day, day_open)
    elif restarted(base, row):
        peak = _moved(row, day, day_open)  # a reset elsewhere: this session's old peak is stale
    else:
        peaks = [_moved(s, day, day_open) for s in (row, mine)]
        peak = max((p for p in peaks if p is not None), default=None)
    last_equity = mine.last_equity if mine.last_equity is not None else row.last_equity
    halt_id = row.halt_id
    if state is TradingState.HALTED and (state, reason, detail) != _halt(row):
        halt_id += 1  # a halt written now: a new identity, whatever its words
    return RiskState(
        mine.account_key,
        state,
        peak,
        day,
        day_open,
        last_equity,
        orders,
        reason,
        detail,
        halt_id,
    )


def restarted(before: RiskState, after: RiskState) -> bool:
    """True when ``after``'s peak is below ``before``'s, beyond the cash moved between them
    (counted as ``after``'s day's opening moved): only a reset lowers a peak more."""
    moved = _moved(before, after.day, after.day_open_equity)
    return moved is not None and after.peak_equity is not None and after.peak_equity < moved - CENT


def _moved(state: RiskState, day: date | None, day_open: float | None) -> float | None:
    """``state``'s peak in the terms of ``day``'s opening ``day_open``: moved by the cash
    counted there and not in ``state`` (the two openings' difference, on one day only)."""
    peak, opening = state.peak_equity, state.day_open_equity
    if peak is None or opening is None or day_open is None or day is None or state.day != day:
        return peak
    return peak + (day_open - opening)


def adoption_events(before: RiskState, after: RiskState) -> list[RiskEvent]:
    """What a session must say when the merged row changed its halt: another process halted
    the account, or lifted the halt (a reset)."""
    if after.halted and not before.halted:
        return [
            RiskEvent(
                HALT_ADOPTED,
                0.0,
                0.0,
                "no new orders: the account was halted by another session or process "
                f"({after.halt_reason})",
                detail=after.halt_detail,
            )
        ]
    if before.halted and not after.halted:
        return [
            RiskEvent(
                RESET_ADOPTED,
                0.0,
                0.0,
                "trading resumed: the account's halt was lifted by another process (risk reset)",
                detail=f"was halted for: {before.halt_reason}",
            )
        ]
    return []
