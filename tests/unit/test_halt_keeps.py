"""Which orders a halt leaves working (``engine.halt_keeps``), the store's sessions decided."""

from __future__ import annotations

from tui_trader.core.order_ids import make_order_id
from tui_trader.core.orders import Order, OrderRequest, OrderStatus, OrderType, Side
from tui_trader.engine.halt_keeps import HaltKeeps


def _order(client_order_id: str, order_type: OrderType = OrderType.LIMIT) -> Order:
    """A working buy under this client id."""
    request = OrderRequest(
        symbol="SPY",
        side=Side.BUY,
        qty=1,
        client_order_id=client_order_id,
        order_type=order_type,
        limit_price=1.0,
    )
    return Order.from_request(request, OrderStatus.NEW, "")


def test_a_halt_cancels_its_stores_sessions_orders_and_keeps_other_databases() -> None:
    asked: list[list[str]] = []

    def known(keys: list[str]) -> set[str]:
        asked.append(keys)
        return {key for key in keys if key in ("mine", "deadhere")}

    keeps = HaltKeeps(known)
    assert not keeps(_order(make_order_id("mine", 4, "SPY", "b0")))
    assert not keeps(_order(make_order_id("deadhere", 9, "SPY", "b0")))
    assert keeps(_order(make_order_id("elsewhere", 2, "SPY", "b0")))
    assert keeps(_order(make_order_id("elsewhere", 3, "SPY", "b0")))
    assert keeps(_order("my-own-dip"))
    assert asked == [["mine"], ["deadhere"], ["elsewhere"]]  # once a session
    said = keeps.said()
    assert "2 order(s) of tui-trader sessions on another database left working" in said
    assert "1 order(s) placed outside tui-trader left working" in said
    assert "could not be read" not in said


def test_a_store_that_cannot_be_read_cancels_every_tui_trader_order_and_says_so() -> None:
    def broken(keys: list[str]) -> set[str]:
        raise OSError("disk I/O error")

    keeps = HaltKeeps(broken)
    assert not keeps(_order(make_order_id("elsewhere", 2, "SPY", "b0")))
    assert not keeps(_order(make_order_id("other", 2, "SPY", "b0")))
    assert keeps(_order("my-own-dip"))  # not the desk's form: still the user's
    said = keeps.said()
    assert "this database's sessions could not be read (disk I/O error)" in said
    assert "another database left working" not in said


def test_a_session_with_its_stores_tag_and_no_row_is_the_desks_and_cancelled() -> None:
    """A store restored from an older backup holds no row of the sessions started after the
    backup; their keys carry the store's tag, so their orders stop with the desk's. Another
    store's tag, or a key without a tag, is still another database's desk."""

    def known(keys: list[str]) -> set[str]:
        return {key for key in keys if key == "mine_9f3e1c"}

    keeps = HaltKeeps(known, tag="9f3e1c")
    assert not keeps(_order(make_order_id("mine_9f3e1c", 4, "SPY", "b0")))
    assert not keeps(_order(make_order_id("lostrow1_9f3e1c", 7, "SPY", "b0")))
    assert keeps(_order(make_order_id("elsewhr1_77aa00", 2, "SPY", "b0")))
    assert keeps(_order(make_order_id("o7therdb", 3, "SPY", "b0")))
    said = keeps.said()
    assert "1 of the cancelled order(s) were of sessions this database made" in said
    assert "2 order(s) of tui-trader sessions on another database left working" in said
