"""What the risk manager remembers about one account, and how its halts stand.

``RiskState`` is the manager's whole memory (``risk.gate``), persisted per account after every
change, so a restart changes nothing. Here too the two rules about that memory that the store's
merge (``risk.merge``) applies as well: a new trading day (``begin_day``: no orders yet, its
opening equity, a daily-loss halt ended) and a halt on top of a halt (``standing_halt``: the
first reason stands, unless only a day-long halt stood).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date

from tui_trader.core.domain import RiskEvent, TradingState

DAILY_LOSS = "daily_loss_limit"
DAY_RESET = "daily_loss_reset"
_HALTED = TradingState.HALTED
"""Named once: an enum's member costs a metaclass look-up each time it is named (3.11), and
``halted`` is read for every order."""
SESSION_HALTS = frozenset({DAILY_LOSS})
"""Halts that end by themselves when the trading day changes; all others need a reset."""


def standing_halt(
    held: str | None, held_detail: str, reason: str, detail: str
) -> tuple[str | None, str]:
    """The halt's reason and detail when ``reason`` halts an account already halted for
    ``held``: the first halt stands. Only a halt that ends by itself with its trading day
    gives way to one that lasts until reset (else the new day would lift the later halt with
    it: fail closed); the first one's words are kept in the detail."""
    if held not in SESSION_HALTS or reason in SESSION_HALTS:
        return held, held_detail
    before = f" (halted before that for {held}: {held_detail})"
    return reason, detail if detail.endswith(before) else detail + before


@dataclass(frozen=True, slots=True)
class RiskState:
    """Everything the manager remembers about one account; persisted after every change."""

    account_key: str
    state: TradingState = TradingState.ACTIVE
    peak_equity: float | None = None
    day: date | None = None
    day_open_equity: float | None = None
    last_equity: float | None = None
    orders_today: int = 0
    halt_reason: str | None = None
    halt_detail: str = ""
    halt_id: int = 0
    """Which halt (the account row's counter, raised by every halt the store writes): a
    resume lifts the halt it read, never a later one written with the same words."""

    @property
    def halted(self) -> bool:
        """True while new exposure is refused."""
        return self.state is _HALTED

    def with_orders(self, orders_today: int) -> RiskState:
        """This state with the day's order count ``orders_today`` (built slot by slot: it runs
        once per order, and ``dataclasses.replace`` costs several times as much)."""
        return _built(
            self.account_key,
            self.state,
            self.peak_equity,
            self.day,
            self.day_open_equity,
            self.last_equity,
            orders_today,
            self.halt_reason,
            self.halt_detail,
            self.halt_id,
        )

    def with_equity(self, peak_equity: float, last_equity: float) -> RiskState:
        """This state with a new peak and last equity: every cycle whose equity moved (every
        bar a position is held), so built slot by slot."""
        return _built(
            self.account_key,
            self.state,
            peak_equity,
            self.day,
            self.day_open_equity,
            last_equity,
            self.orders_today,
            self.halt_reason,
            self.halt_detail,
            self.halt_id,
        )


_new = object.__new__
(
    _SET_KEY,
    _SET_STATE,
    _SET_PEAK,
    _SET_DAY,
    _SET_DAY_OPEN,
    _SET_LAST,
    _SET_ORDERS,
    _SET_REASON,
    _SET_DETAIL,
    _SET_HALT_ID,
) = (RiskState.__dict__[f.name].__set__ for f in fields(RiskState))


def _built(
    account_key: str,
    state: TradingState,
    peak_equity: float | None,
    day: date | None,
    day_open_equity: float | None,
    last_equity: float | None,
    orders_today: int,
    halt_reason: str | None,
    halt_detail: str,
    halt_id: int,
) -> RiskState:
    """``RiskState(...)`` with every field given, slot by slot: the frozen dataclass's
    ``__init__`` sets its ten fields through ``object.__setattr__`` at about twice the cost. A
    ``RiskState`` with another number of fields fails at import (the unpacking above)."""
    s = _new(RiskState)
    _SET_KEY(s, account_key)
    _SET_STATE(s, state)
    _SET_PEAK(s, peak_equity)
    _SET_DAY(s, day)
    _SET_DAY_OPEN(s, day_open_equity)
    _SET_LAST(s, last_equity)
    _SET_ORDERS(s, orders_today)
    _SET_REASON(s, halt_reason)
    _SET_DETAIL(s, halt_detail)
    _SET_HALT_ID(s, halt_id)
    return s


def begin_day(
    s: RiskState, day: date, equity: float, day_open_equity: float | None
) -> tuple[RiskState, list[RiskEvent]]:
    """``s`` on a new trading day: no orders yet, the day's opening equity the broker's
    previous close (``day_open_equity``) when given, else the last equity seen, else
    ``equity``; a daily-loss halt ends with its day (the event says so)."""
    opening = day_open_equity if day_open_equity is not None else s.last_equity
    s = replace(s, day=day, orders_today=0, day_open_equity=opening or equity)
    if not (s.halted and s.halt_reason in SESSION_HALTS):
        return s, []
    s = replace(s, state=TradingState.ACTIVE, halt_reason=None, halt_detail="")
    return s, [RiskEvent(DAY_RESET, 0.0, 0.0, f"trading resumed: new trading day {day}")]
