"""The comparison itself: it counts the duplicates, lost orders and mismatches it claims to.

A sandbox gets a handful of orders straight through alpaca-py; an audit database is written by
hand to agree with some and not with others. If the checker missed any of these, every trial
of the suite could pass without proving anything.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.reliability.audit_check import compare, extra_orders, intent
from tests.reliability.harness import trading_client
from tui_trader.sandbox.testing import running_sandbox

SCHEMA = """
CREATE TABLE live_orders (id INTEGER PRIMARY KEY, client_order_id TEXT UNIQUE,
  broker_order_id TEXT, symbol TEXT, side TEXT, quantity REAL, status TEXT, filled_qty REAL,
  timestamp TEXT);
CREATE TABLE live_fills (id INTEGER PRIMARY KEY, order_id INTEGER, quantity REAL);
"""


def _send(client, cid: str, symbol: str, qty: int) -> None:
    """A market buy with our client order id."""
    from alpaca.trading.enums import OrderSide, TimeInForce
    from alpaca.trading.requests import MarketOrderRequest

    client.submit_order(
        MarketOrderRequest(
            symbol=symbol,
            qty=qty,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.DAY,
            client_order_id=cid,
        )
    )


def test_the_comparison_counts_lost_orders_mismatches_and_doubled_intents(tmp_path: Path):
    """One order missing from the audit, one recorded as rejected though filled, one filled in
    the audit but unknown to the broker, one intent sent twice: 1 lost, 2 mismatches, 1
    duplicate; the two legs of a split rebalance are one intent, not a duplicate."""
    db = tmp_path / "audit.db"
    with running_sandbox(faults="rate_limit=0") as sb:
        client = trading_client(sb)
        sent = {
            "tt-k1-1-SPY-r": ("SPY", 3),
            "tt-k1-1-QQQ-r": ("QQQ", 2),
            "tt-k1-2-IWM-c": ("IWM", 1),
            "tt-k1-2-IWM-o": ("IWM", 1),
            "tt-k1-3-SPY-r": ("SPY", 1),
            "tt-k1-3-SPY-flat": ("SPY", 1),
            "tt-k1-4-QQQ-r": ("QQQ", 1),
        }
        for cid, (symbol, qty) in sent.items():
            _send(client, cid, symbol, qty)
        con = sqlite3.connect(db)
        con.executescript(SCHEMA)
        recorded = {cid: v for cid, v in sent.items() if cid != "tt-k1-4-QQQ-r"}  # lost
        for n, (cid, (symbol, qty)) in enumerate(recorded.items(), start=1):
            wrong = cid == "tt-k1-1-QQQ-r"  # the broker filled it; the audit says rejected
            con.execute(
                "INSERT INTO live_orders VALUES (?, ?, NULL, ?, 'buy', ?, ?, ?, "
                "'2026-12-04 10:00:00')",
                (n, cid, symbol, qty, "rejected" if wrong else "filled", 0 if wrong else qty),
            )
            if not wrong:
                con.execute("INSERT INTO live_fills (order_id, quantity) VALUES (?, ?)", (n, qty))
        con.execute(
            "INSERT INTO live_orders VALUES (99, 'tt-k1-5-IWM-r', NULL, 'IWM', 'buy', 4, "
            "'filled', 4, '2026-12-04 10:00:00')"
        )
        con.commit()
        con.close()
        figures = compare(sb, db)
    assert (figures.lost, figures.mismatches, figures.duplicates) == (1, 2, 1), figures.problems
    assert figures.integrity_failures == 0 and figures.broker_orders == len(sent)
    assert extra_orders(["tt-a-1-X-c", "tt-a-1-X-o"]) == 0
    assert extra_orders(["tt-a-1-X-r", "tt-a-1-X-o"]) == 1


def test_a_stop_and_a_hand_order_in_a_rebalance_s_cycle_are_intents_of_their_own() -> None:
    """A protective stop placed, and a ticket placed by hand, in the cycle and symbol of a
    rebalance: three decisions, not one sent three times (counted as duplicates, every trial
    with protective stops failed); a flatten in the rebalance's cycle still shares its intent."""
    cids = ["tt-a-1-SPY-r", "tt-a-1-SPY-ps1", "tt-a-1-SPY-m1"]
    assert len({intent(cid) for cid in cids}) == 3
    assert intent("tt-a-1-SPY-r") == intent("tt-a-1-SPY-flat")
