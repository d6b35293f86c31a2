"""A desk's sale of shares another desk of the account bought: a round trip in its ledger, not
a phantom short.

A mixin of ``TradingSession`` under ``SessionRecords`` (which books each fill). Each desk books
round trips from its own fills (``core.ledger``), its ledger seeded at its start from the
broker's positions. Shares another desk bought after that were not in it: selling them (by hand,
a halt's flatten, a stop the desk keeps over them, a symbol taken over) opened a short in the
ledger, booked no round trip, and the desk's next buy "closed" that short with a made-up profit
(``tui-trader report``, the history, the desk's realized PnL; no risk decision reads them). Now
such a fill first tops the ledger's lot up to what the account held (``_lot_beside``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.brokers import Broker, BrokerError
from tui_trader.core.domain import Position
from tui_trader.core.ledger import TradeLedger
from tui_trader.core.order_views import QTY_EPS
from tui_trader.core.orders import Fill

if TYPE_CHECKING:
    from tui_trader.store.audit import AuditLog


Lot = tuple[float, float]
"""Shares (signed) the ledger takes before a fill, and their entry price."""


class LedgerBeside:
    """The ledger's top-up before a fill it does not cover; the session supplies its state."""

    broker: Broker
    audit: AuditLog
    ledger: TradeLedger
    _last_positions: dict[str, Position]
    _entries: dict[str, float]
    """By symbol: the broker's average entry price as last read holding it (``_lot_beside``)."""

    def _lot_beside(self, fill: Fill) -> Lot | None:
        """Before the ledger books ``fill``: where it closes more of what the account held than
        the ledger holds (another desk of the account bought those shares after this desk's
        start seeded its ledger), the shares the ledger takes first (signed) and their entry
        price, the broker's average; ``None`` where the ledger covers the fill or the broker
        says the account held nothing to close (a short opened on purpose). Before, the sale
        opened a phantom short in the ledger: no round trip booked for it, and the desk's next
        buy "closed" the short with a made-up profit (``tui-trader report``, the history, the
        desk's realized PnL; no risk decision reads them). Read from the broker, only then:
        what it holds now, less the fill, is what it held before; never past it (the rest of
        a fill beyond it opens the other side). Unanswered, or asked inside a transaction
        (the broker is never asked there: PostgreSQL ends a connection idle in one for 20 s,
        ``store.pg.IDLE_IN_TRANSACTION``): booked as before."""
        signed = fill.qty * fill.side.sign
        mine = self.ledger.held(fill.symbol)
        if mine * signed > 0 or abs(signed) <= abs(mine) + QTY_EPS:
            return None  # it adds to the ledger's lot, or the lot covers it
        if self.audit.db.in_transaction():
            return None
        try:
            position = self.broker.positions().get(fill.symbol)
        except BrokerError:
            return None
        entries = getattr(self, "_entries", {})
        if position is None and fill.symbol not in entries:
            return None  # flat now, and never seen held: nothing to say it was
        was = (position.qty if position is not None else 0.0) - signed
        if was * signed >= 0 or mine * was < 0:
            return None  # the account held nothing this fill closes
        beyond = min(abs(signed), abs(was)) - abs(mine)
        if beyond <= QTY_EPS:
            return None
        price = position.avg_entry_price if position is not None else 0.0
        if price <= 0 or position is None or position.qty * was <= 0:  # closed: as last read
            if fill.symbol not in entries:
                return (beyond if was > 0 else -beyond), fill.price  # (unknown: no profit)
            price = entries[fill.symbol]
        return (beyond if was > 0 else -beyond), _beside_mine(
            price, was, mine, self.ledger.average(fill.symbol)
        )

    @property
    def last_positions(self) -> dict[str, Position]:
        """The broker's positions as the desk last read them."""
        return self._last_positions

    @last_positions.setter
    def last_positions(self, positions: dict[str, Position]) -> None:
        """Each read also keeps the average entry price of every symbol held in it
        (``_entries``): the entry of shares a fill then closed out (``_lot_beside``)."""
        self._last_positions = positions
        entries = dict(getattr(self, "_entries", {}))
        entries.update(
            {s: p.avg_entry_price for s, p in positions.items() if p.avg_entry_price > 0}
        )
        self._entries = entries


def _beside_mine(average: float, was: float, mine: float, mine_paid: float) -> float:
    """The entry price of the account's shares beyond the ledger's: the broker's ``average``
    is of all ``was`` held, the ledger's ``mine`` at ``mine_paid`` among them; the rest priced
    so that with the ledger's they make it (7 bought at 90 by another desk beside this desk's
    3 at 100: the broker's 93, the 7 at 90). Before, the 7 took the 93, the ledger's 3
    counted twice: the round trip of 10 sold entered at 95.10."""
    rest = abs(was) - abs(mine)
    if mine * was <= 0 or mine_paid <= 0 or rest <= QTY_EPS:
        return average
    price = (abs(was) * average - abs(mine) * mine_paid) / rest
    return price if price > 0 else average
