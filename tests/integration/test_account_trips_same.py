"""The account's round trips read fast (``reporting.account_trips``) are the ones the plain
computation makes: every fill read as a row, sorted by when it executed, the account's newest
snapshot before each fill executed asked of the database, carried to the fill by a scan of the
fills since it, one average-cost ledger.

The fast reading looks the snapshots up in memory and reads the orders' words only for the
trips it returns (``history`` on 204,000 fills took 15 s and more: 76,000 snapshot queries, one
for each fill that opened a position from flat). Randomized stores: two desks of one account
whose fills cross (an order of one, its fill recorded by the other), fills at one time, out of
id order, without an order, recorded later than they executed, shorts, flips, snapshots holding
shares no recorded fill bought (at prices that make, with the ledger's, an average or not).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tui_trader.core.ledger import TradeLedger
from tui_trader.core.order_views import QTY_EPS
from tui_trader.core.orders import Fill, Side
from tui_trader.reporting import account_trips as account_trips_module
from tui_trader.reporting.account_trips import account_trips, trip_rows
from tui_trader.store.db import from_db_time, open_database, to_db_time
from tui_trader.store.models import AccountSnapshot, LiveFill, LiveOrder, SessionRow

T0 = datetime(2026, 3, 2, 14, 30)
SYMBOLS = ("SPY", "QQQ", "IWM")
_Taken = tuple[str, datetime, float, float, float]
"""A fill the plain ledger took: symbol, time, signed quantity, its shares and average after."""


def _store(seed: int) -> None:
    """A random account of two desks and a desk of no account, written as desks write."""
    rng = random.Random(seed)
    desks = [
        SessionRow.create(
            key=f"d{i}",
            mode="alpaca-paper" if key else "local",
            broker="alpaca" if key else "paper",
            data_source="alpaca",
            symbols="SPY",
            parameters="{}",
            account_key=key,
            started_at=T0,
            status="stopped",
        )
        for i, key in enumerate(("alpaca:paper:A", "alpaca:paper:A", ""))
    ]
    held = {(d.id, s): 0.0 for d in desks for s in SYMBOLS}
    for n in range(240):
        desk = rng.choice(desks)
        symbol = rng.choice(SYMBOLS)
        when = T0 + timedelta(minutes=rng.randrange(0, 120))  # ties, and out of id order
        if rng.random() < 0.2:  # shares no recorded fill bought, in a snapshot
            key = (desk.id, symbol)
            qty = rng.choice((3.0, 7.0))
            AccountSnapshot.create(
                session=desk,
                timestamp=when,
                cash=1.0,
                equity=1.0,
                buying_power=1.0,
                drawdown_pct=0.0,
                daily_pnl=0.0,
                positions=json.dumps([[symbol, held[key] + qty, 90.0 + n, 100.0]]),
            )
            continue
        key = (desk.id, symbol)
        if held[key] and rng.random() < 0.5:
            side = "sell" if held[key] > 0 else "buy"
            qty = abs(held[key]) if rng.random() < 0.5 else rng.choice((1.0, 2.5, 9.0))
        else:
            side, qty = rng.choice(("buy", "sell")), rng.choice((1.0, 2.0, 4.0, 0.5))
        held[key] += qty if side == "buy" else -qty
        owner = rng.choice(desks[:2]) if desk.account_key and rng.random() < 0.2 else desk
        order = None
        if rng.random() > 0.1:
            order = LiveOrder.create(
                session=owner,
                client_order_id=f"c{n}",
                symbol=symbol,
                side=side,
                quantity=qty,
                order_type="market",
                status="filled",
                timestamp=when,
                updated_at=when,
                rationale=rng.choice(("trend w=1.0: target 5", "manual sell", "momentum: x")),
            )
        LiveFill.create(
            session=desk,
            order=order,
            fill_key=f"f{n}",
            symbol=symbol,
            side=side,
            quantity=qty,
            price=round(100 + rng.gauss(0, 3), 2),
            commission=round(rng.random(), 2),
            slippage=0.01,
            timestamp=when + timedelta(minutes=rng.choice((0, 0, 2, 30))),  # (heard late)
            market_time=when if rng.random() < 0.7 else None,
        )


def _plain(sessions: list[SessionRow] | None) -> list[tuple[Any, ...]]:
    """The round trips as the plain computation makes them (see the module)."""
    chosen = list(SessionRow.select()) if sessions is None else sessions
    wanted = {s.id for s in chosen}
    out = []
    for key in sorted({s.account_key or "" for s in chosen}):
        on_account = list(SessionRow.select().where(SessionRow.account_key == key))
        groups = [on_account] if key else [[s] for s in on_account if s.id in wanted]
        for group in groups:
            fills = list(LiveFill.select().where(LiveFill.session.in_([s.id for s in group])))
            fills.sort(key=lambda f: (f.market_time or f.timestamp, f.id))
            ledger, opened_by = TradeLedger(), {}
            taken: list[_Taken] = []
            for f in fills:
                order = LiveOrder.get_or_none(LiveOrder.id == f.order_id)
                side = Side.BUY if f.side == "buy" else Side.SELL
                when = from_db_time(f.market_time or f.timestamp)
                fill = Fill(
                    order.client_order_id if order else "",
                    f.symbol,
                    side,
                    f.quantity,
                    f.price,
                    when,  # type: ignore[arg-type]
                    f.commission,
                    f.slippage,
                )
                if key and _plain_top_up(ledger, key, fill, taken):
                    opened_by[(f.symbol, when)] = ""
                opened_by.setdefault((f.symbol, when), order.rationale if order else "")
                session = order.session_id if order and order.session_id else f.session_id
                for t in ledger.on_fill(fill):
                    if session in wanted:
                        out.append((session, t, f.id, opened_by.get((t.symbol, t.entry_time))))
                signed = fill.qty * fill.side.sign
                held, paid = ledger.held(f.symbol), ledger.average(f.symbol)
                taken.append((f.symbol, fill.timestamp, signed, held, paid))
    out.sort(key=lambda t: (t[1].exit_time, t[2]))
    return out


def _plain_top_up(ledger: TradeLedger, key: str, fill: Fill, taken: list[_Taken]) -> bool:
    """The account's shares beyond the ledger's (``account_trips``' rule): the newest snapshot
    written no later than the fill executed, asked of the database, plus the fills ``taken``
    since it (symbol, time, signed quantity, the ledger's shares and average after it); those
    beyond the ledger's priced so that with the ledger's they make the snapshot's average."""
    signed, mine = fill.qty * fill.side.sign, ledger.held(fill.symbol)
    if mine * signed > 0 or abs(signed) <= abs(mine) + QTY_EPS:
        return False
    snap = (
        AccountSnapshot.select()
        .join(SessionRow)
        .where(
            (SessionRow.account_key == key)
            & (AccountSnapshot.timestamp <= to_db_time(fill.timestamp))
        )
        .order_by(AccountSnapshot.id.desc())
        .first()
    )
    was, price = 0.0, 0.0
    for symbol, qty, avg, *_ in json.loads(snap.positions) if snap else []:
        if symbol == fill.symbol:
            was, price = qty, avg
    if not was:
        return False
    written = from_db_time(snap.timestamp)
    since = sum(q for s, t, q, _, _ in taken if s == fill.symbol and t > written)
    before = [(h, p) for s, t, _, h, p in taken if s == fill.symbol and t <= written]
    then, then_paid = before[-1] if before else (0.0, 0.0)
    if was * then > 0 and (was - then) * was > QTY_EPS and then_paid > 0:
        rest = (abs(was) * price - abs(then) * then_paid) / abs(was - then)
        price = rest if rest > 0 else price
    was += since
    if was * signed >= 0 or mine * was < 0:
        return False
    beyond = min(abs(signed), abs(was)) - abs(mine)
    if beyond <= QTY_EPS:
        return False
    ledger.top_up(fill.symbol, beyond if was > 0 else -beyond, price, fill.timestamp)
    return abs(mine) <= QTY_EPS


@pytest.mark.parametrize(("seed", "one_pass"), [(1, 5_000), (2, 5_000), (3, 1), (4, 1)])
def test_the_fast_round_trips_are_the_plain_ones(
    store: Path, seed: int, one_pass: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(``one_pass``: the orders' words read 500 at a time, or in one pass over their range.)"""
    monkeypatch.setattr(account_trips_module, "ONE_PASS", one_pass)
    db = open_database(store)
    try:
        _store(seed)
        desks = list(SessionRow.select().order_by(SessionRow.id))
        for scope in (None, desks[:1], desks[1:2], desks[2:], desks[:2]):
            plain = _plain(scope)
            fast = [
                (t.session_id, t.trade, t.closing_fill, t.opened_by) for t in account_trips(scope)
            ]
            assert fast == plain, scope
            rows = trip_rows(5, scope)  # ``history --limit 5``: the newest five, newest first
            assert [(r.session_id, r.pnl, r.client_order_id) for r in rows] == [
                (s, t.pnl, t.client_order_id) for s, t, _, _ in plain[::-1][:5]
            ]
        assert any(t[3] == "" for t in _plain(None)), "no lot from a snapshot: the rule untested"
    finally:
        db.close()
