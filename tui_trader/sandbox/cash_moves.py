"""Cash deposited into or withdrawn from the sandbox account, as Alpaca reports it.

Alpaca lists money moved in or out without a trade among the account activities (non-trade
activities: CSD a deposit, CSW a withdrawal, JNLC a cash journal; ``TRANS`` asks for both CSD
and CSW). The sandbox books one through ``POST /admin/cash`` (``{"amount": 10000}``, negative
to withdraw; ``"type": "JNLC"`` for a journal): its cash and equity move at once, a point is
added to the equity curve (so the next New York day's ``last_equity`` holds it when made
before 16:00, as Alpaca's does: ``Ledger.mark``) and the activity is listed from then on.
Its time is the later of the clock and the market's (stepped bars may run ahead of the
clock; the curve is stamped by the bars).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tui_trader.core.timeframes import NEW_YORK
from tui_trader.sandbox.shapes import ACCOUNT_ID, iso, num

if TYPE_CHECKING:
    from tui_trader.sandbox.app import Sandbox

CASH_KINDS = ("CSD", "CSW", "JNLC")
TRANS = "TRANS"
"""Alpaca's name for both cash deposits and withdrawals when asking for activities."""
MAX_MOVE = 1e9


@dataclass(frozen=True, slots=True)
class CashMove:
    """One deposit, withdrawal or cash journal on the account."""

    id: str
    kind: str
    amount: float
    time: datetime


def wanted(kind: str, kinds: set[str]) -> bool:
    """Whether an activity of ``kind`` answers a request for ``kinds`` (empty: all)."""
    return not kinds or kind in kinds or (kind in ("CSD", "CSW") and TRANS in kinds)


def move_json(move: CashMove) -> dict[str, Any]:
    """A cash move as Alpaca's non-trade activity."""
    return {
        "id": move.id,
        "account_id": ACCOUNT_ID,
        "activity_type": move.kind,
        "date": move.time.astimezone(NEW_YORK).date().isoformat(),
        "created_at": iso(move.time),
        "net_amount": num(move.amount),
        "currency": "USD",
        "status": "executed",
    }


def move_cash(sb: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /admin/cash``: book ``amount`` (negative: a withdrawal) as ``type`` (CSD or CSW by
    its sign unless given); the activity as Alpaca lists it. ``ValueError`` for an amount that
    is not a finite nonzero number within a billion, a type not a cash one, a sign against its
    type, or a withdrawal of more cash than the account holds."""
    amount = float(body.get("amount", 0))
    if not (math.isfinite(amount) and 0 < abs(amount) <= MAX_MOVE):
        raise ValueError(f"amount must be a nonzero number of dollars within {MAX_MOVE:,.0f}")
    kind = str(body.get("type") or ("CSD" if amount > 0 else "CSW")).upper()
    if kind not in CASH_KINDS:
        raise ValueError(f"type must be one of {', '.join(CASH_KINDS)}")
    if (kind == "CSD" and amount < 0) or (kind == "CSW" and amount > 0):
        raise ValueError("a deposit (CSD) is positive, a withdrawal (CSW) negative")
    engine = sb.engine
    with engine.lock:
        ledger = engine.ledger
        if amount < 0 and -amount > ledger.cash:
            raise ValueError(
                f"cannot withdraw {-amount:,.2f}: the account holds {ledger.cash:,.2f}"
            )
        now = max(engine.now(), sb.feed.market_time)  # stepped bars may run ahead of the clock
        stamp = now.astimezone(NEW_YORK).strftime("%Y%m%d%H%M%S%f")[:17]
        move = CashMove(f"{stamp}::{uuid.uuid4()}", kind, amount, now)
        ledger.cash += amount
        ledger.cash_moves.append(move)
        ledger.mark(now, sb.feed.prices())
    return move_json(move)
