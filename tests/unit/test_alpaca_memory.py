"""The Alpaca broker's memory of finished orders is bounded; what may still change is kept.

A desk left running all week followed every order it ever sent: the count only grew. The
orders here are adopted (as start-up reconciliation hands them over); the look-ups of the
working ones are answered by a stand-in for alpaca-py's call: still as they were.
"""

from __future__ import annotations

from tests.unit.alpaca_raw import offline_broker, raw_order
from tui_trader.brokers.alpaca import AlpacaBroker
from tui_trader.brokers.alpaca_memory import FORGET_BATCH, REMEMBERED_ORDERS
from tui_trader.brokers.alpaca_orders import to_domain_order

FINISHED = 3_000


def _broker() -> AlpacaBroker:
    """A broker without the stream, on an address nothing listens at (nothing is sent)."""
    return offline_broker()


def test_a_week_of_finished_orders_leaves_a_bounded_memory_and_every_live_one() -> None:
    """After thousands of finished orders the broker follows at most the bound plus a batch;
    the oldest go first, and a working order, an unconfirmed cancel and the newest finished
    ones stay, however old the first two are."""
    broker = _broker()
    try:
        alpaca = {
            "tt-old-working": raw_order("tt-old-working", "limit", "new", limit_price="90"),
            "tt-old-cancel": raw_order("tt-old-cancel", "limit", "new", limit_price="91"),
        }
        broker.client.get_order_by_client_id = alpaca.__getitem__
        for raw in alpaca.values():
            broker.adopt(to_domain_order(raw))
        broker._unconfirmed.add("tt-old-cancel")  # a cancel Alpaca only accepted (204)
        for i in range(FINISHED):
            done = raw_order(f"tt-done-{i}", "market", "filled", "100", filled_avg_price="100")
            broker.adopt(to_domain_order(done))
            if i % 50 == 0:
                broker.drain_updates()  # once a cycle
        broker.drain_updates()
        held = broker._tracked
        assert len(held) <= REMEMBERED_ORDERS + FORGET_BATCH
        assert "tt-old-working" in held and "tt-old-cancel" in held
        assert "tt-done-0" not in held
        assert all(f"tt-done-{i}" in held for i in range(FINISHED - REMEMBERED_ORDERS, FINISHED))
        assert broker.working_symbols() == {"SPY"}
    finally:
        broker.close()


def test_a_forgotten_oco_parent_takes_its_legs_back_reference_with_it() -> None:
    """The stop leg's pointer to its parent goes with the parent (the map grew per OCO exit)."""
    broker = _broker()
    try:
        stop = raw_order("leg-0", "stop", "canceled", id="7a1d2b1e-0000-4000-8000-000000000002")
        pair = raw_order(
            "tt-oco-0", "limit", "filled", "100", filled_avg_price="108", order_class="oco",
            limit_price="108", legs=[stop],
        )  # fmt: skip
        broker.adopt(to_domain_order(pair))
        assert broker._leg_parent
        for i in range(REMEMBERED_ORDERS + FORGET_BATCH):
            done = raw_order(f"tt-done-{i}", "market", "filled", "100", filled_avg_price="100")
            broker.adopt(to_domain_order(done))
        broker.drain_updates()
        assert "tt-oco-0" not in broker._tracked
        assert broker._leg_parent == {}
    finally:
        broker.close()
