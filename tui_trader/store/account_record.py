"""What the audit database's record of an account makes of its positions.

Every fill of every session on the account, signed and summed by symbol, plus the differences a
user had a session adopt as the desk's own (``positions_adopted`` risk events): the shares this
desk's own trading accounts for. A session compares it with the broker's positions at start
(``engine.outside_changes``): shares bought or sold while no session ran, or held before the
desk ever traded the account, are not the desk's to rebalance away.
"""

from __future__ import annotations

from peewee import fn

from tui_trader.engine.outside_changes import POSITIONS_ADOPTED
from tui_trader.store.models import LiveFill, RiskEventRow, SessionRow


def recorded_positions(account_key: str, session_id: int | None) -> dict[str, float] | None:
    """Net shares by symbol that this account's recorded fills (and adoptions) make; ``None``
    when the database has no session on the account but ``session_id`` (a first session, or a
    new or different database file: nothing here says what is the desk's)."""
    earlier = SessionRow.select().where(
        (SessionRow.account_key == account_key) & (SessionRow.id != (session_id or -1))
    )
    net: dict[str, float] = {}
    fills = (
        LiveFill.select(LiveFill.symbol, LiveFill.side, fn.SUM(LiveFill.quantity))
        .join(SessionRow)
        .where(SessionRow.account_key == account_key)
        .group_by(LiveFill.symbol, LiveFill.side)
        .tuples()
    )
    for symbol, side, qty in fills:
        net[symbol] = net.get(symbol, 0.0) + (qty or 0.0) * (1 if side == "buy" else -1)
    adopted = (
        RiskEventRow.select(RiskEventRow.symbol, fn.SUM(RiskEventRow.value))
        .where(
            (RiskEventRow.account_key == account_key)
            & (RiskEventRow.event_type == POSITIONS_ADOPTED)
        )
        .group_by(RiskEventRow.symbol)
        .tuples()
    )
    for symbol, qty in adopted:
        if symbol:
            net[symbol] = net.get(symbol, 0.0) + (qty or 0.0)
    if not net and not earlier.exists():
        return None
    return net
