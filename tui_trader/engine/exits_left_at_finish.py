"""A stopping desk that keeps its own exits names each position it leaves without one.

A desk with ``--stop-loss``/``--take-profit`` cancels a symbol's exit before its own sell and
sizes the exit again beside the orders that may close the position, every cycle
(``ProtectiveStops._protect``): no exit for the shares a working sell, or a sell in doubt, may
sell (both could sell them). A desk stopped then (ctrl+s, Ctrl+C, a signal, the end of data, a
failure) left the position with no exit, or a smaller one, once that sell ended unfilled, and
nothing was said. Now ``finish`` compares each position this desk keeps the exit of
(``AccountClaims.may_protect``) with the exits working at the broker for it (this desk's, or
another session's), and names every share left without one, and why: beside a sell that may
still fill (an exit there could sell the same shares twice), beside its own add still working
(Alpaca refuses an exit there as a wash trade), or a refusal. It places nothing itself: the
finish brought every exit in step just before (``StopsAtFinish._exits_at_finish``).

A desk ended by its store's failure (a PostgreSQL restart between an entry's fill and the
cycle that places its stop) reads the broker alone (``store=False``): every protective exit
working there counts as covering its shares, whoever placed it. Before, that end named only
the exits the desk had cancelled itself, and a just-filled position without its stop went
unnamed.

A mixin of ``TradingSession`` under ``StopsAtFinish``, which says the lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError
from tui_trader.core.orders import Order
from tui_trader.engine.exit_words import may_still
from tui_trader.risk.stops import is_protective

if TYPE_CHECKING:
    from tui_trader.brokers import Broker
    from tui_trader.engine.claims import AccountClaims
    from tui_trader.engine.outside_changes import OutsideChanges
    from tui_trader.engine.settlement import Unsettled

EPS = 1e-9


class ExitsLeftAtFinish:
    """Name, at the session's end, the shares of a desk with exits that no exit covers."""

    broker: Broker
    claims: AccountClaims | None
    unsettled: Unsettled
    outside: OutsideChanges
    whose: Callable[[Iterable[Order]], dict[str, str]]

    protects: bool

    def init_exits_left(self) -> None:
        """No exit refused yet (called by ``init_stops``)."""
        self.exit_refused: dict[str, str] = {}
        """Symbol -> why its exit was last refused or not placed (``_unprotected``)."""

    def exits_left(
        self, named: Iterable[str], stopping: str, store: bool = True, silent: str = ""
    ) -> list[str]:
        """One line per position this desk keeps the exit of whose shares are not all covered
        by exits working at the broker, skipping the symbols in ``named`` (said already);
        each ends with ``stopping``. Reads the broker once; if it does not answer, one line
        says the positions could not be checked. ``store=False``: the store failed, so it is
        not read (whose each exit is, who keeps each symbol's exit): any protective exit at
        the broker covers its shares, and every position of the account is checked.
        ``silent``: why the broker did not answer just before (not asked again: that read
        would wait out the same silence)."""
        if not self.protects:
            return []
        try:
            if silent:
                raise BrokerError(silent)
            positions = self.broker.positions()
            working = self.broker.open_orders()
        except BrokerError as exc:
            return [
                f"the positions could not be checked for their exits (the broker did not "
                f"answer: {exc}); {stopping}"
            ]
        if store:
            whose = self.whose(working)
        else:
            whose = {
                o.client_order_id: ""
                for o in working
                if is_protective(o.client_order_id, o.order_type)
            }
        doubt = self.unsettled.in_doubt() if self.unsettled else []
        listed = {o.client_order_id for o in working}
        lines = []
        skip = set(named)
        for symbol, position in sorted(positions.items()):
            held = position.qty
            if symbol in skip or abs(held) <= EPS:
                continue
            if store and self.claims is not None and not self.claims.may_protect(symbol):
                continue  # another live session keeps its exit (and says what it leaves)
            want = abs(held)
            own = self.outside.own(symbol)  # changed outside: the desk's own shares only
            if own is not None:
                want = min(want, abs(own) if own * held > 0 else 0.0)
            closes = [o for o in working if o.symbol == symbol and o.side.sign * held < 0]
            covered = sum(o.remaining_qty for o in closes if o.client_order_id in whose)
            short = want - covered
            if short <= EPS:
                continue
            why = [
                f"{o.side} {o.remaining_qty:g} {symbol} still working at the broker"
                for o in closes
                if o.client_order_id not in whose
            ]
            for order in doubt:
                if order.symbol != symbol or order.client_order_id in listed:
                    continue
                if is_protective(order.client_order_id, order.order_type):
                    why.append(
                        f"its exit {order.client_order_id} was sent but the broker's answer "
                        "was lost"
                    )
                elif order.side.sign * held < 0:
                    why.append(f"{order.side} {order.remaining_qty:g} {symbol} still in doubt")
            if why:
                closing = "sell" if held > 0 else "buy"  # the side that closes it
                why.append(f"no exit goes beside an order that {may_still(closing)} the shares")
            why += [  # an exit beside a working add is refused as a wash trade (Alpaca)
                f"{o.side} {o.remaining_qty:g} {symbol} still working at the broker: an exit "
                "beside it would be refused as a wash trade, so it goes out once that order "
                "fills, by the next desk that keeps exits"
                for o in working
                if o.symbol == symbol and o.side.sign * held > 0
            ]
            if not why:
                refused = self.exit_refused.get(symbol)
                none = (
                    "no exit was placed for them"
                    if store
                    else "its exit was not placed before the store failed"
                )
                why.append(f"its last exit was not placed: {refused}" if refused else none)
            lines.append(
                f"{symbol}: {short:g} of the {abs(held):g} shares held have no exit at the "
                f"broker: {'; '.join(why)}; {stopping}"
            )
        return lines
