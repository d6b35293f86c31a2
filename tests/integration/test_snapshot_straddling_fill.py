"""A fill the broker's position read already holds but whose news came after the snapshot.

A snapshot holds the broker's positions as the cycle read them. Alpaca's stream can bring the
news of a fill after that read: the fill is then recorded after the snapshot, although the
positions it holds already count it. A run that stops (or dies) there left the next start
expecting the snapshot plus that fill, the shares twice: 'positions differ from the last
snapshot: SPY 200 recorded vs 100 at the broker', a false alarm. Now a broker-backed
session's snapshot names the symbols it cannot vouch for (an order of the account in them not
final, or a fill of theirs recorded since just before the positions were read), and start-up
reconciliation takes each such symbol from the newest snapshot that could vouch for it, plus
the fills after that one. The broker is the local paper broker playing Alpaca: its news of
every order comes one drain late, as a lagging stream's would.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_session, simulate_death
from tests.integration.reconcile_helpers import ACCOUNT, HeldBroker
from tests.integration.test_protective_stops import Script, Target
from tui_trader.brokers.paper import PaperBroker
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.orders import OrderUpdate
from tui_trader.engine.reconcile import RECONCILIATION, reconcile
from tui_trader.store.models import AccountSnapshot, LiveFill
from tui_trader.store.pg_url import PgUrl


class LateNews(PaperBroker):
    """A paper broker whose news of every order comes one drain late."""

    def __init__(self) -> None:
        super().__init__(100_000.0, ("SPY",), PaperCosts(0.0, 0.0, 0.0))
        self.late: list[OrderUpdate] = []

    def drain_updates(self) -> list[OrderUpdate]:
        """The news held back at the last drain; this drain's waits for the next."""
        out, self.late = self.late, super().drain_updates()
        return out


def _session(db: Path | PgUrl, broker: LateNews, strategy: Target, market: Script):
    return make_session(
        db,
        market=market,
        strategies=[strategy],
        broker=broker,
        commit_before_send=True,
        account_key=ACCOUNT,
        allocation_pct=10.0,
        costs=PaperCosts(0.0, 0.0, 0.0),
    )


def test_a_fill_recorded_after_the_snapshot_that_holds_it_is_counted_once(
    store: Path | PgUrl,
) -> None:
    """Before: the restart said 'positions differ from the last snapshot: SPY 200 recorded vs
    100 at the broker'. A trade by hand since is still a difference, of the right size."""
    db_path = store
    broker, strategy, market = LateNews(), Target(), Script()
    strategy.target = 0.0
    first = _session(db_path, broker, strategy, market)
    market.push(100, 101, 99, 100)
    first.run_iteration()  # flat: a snapshot that vouches for SPY (nothing of it working)
    strategy.target = 1.0
    market.push(100, 101, 99, 100)
    first.run_iteration()  # the buy of 100 goes out
    market.push(100, 101, 99, 100)
    first.run_iteration()  # it fills at the open; the news is late: the snapshot holds 100
    last = AccountSnapshot.select().order_by(AccountSnapshot.id.desc()).get()
    assert '["SPY", 100' in last.positions and LiveFill.select().count() == 0
    with first.audit.cycle():  # the news comes and is recorded; the run dies before a cycle
        first._apply_updates(broker.drain_updates())
    assert LiveFill.select().count() == 1
    simulate_death(first)

    second = _session(db_path, broker, strategy, market)
    said = [e.detail for e in second.startup_events if e.event_type == RECONCILIATION]
    assert not [d for d in said if "positions differ" in d], said
    assert reconcile(HeldBroker(125), second.audit, ACCOUNT).positions == {  # type: ignore[arg-type]
        "SPY": (100.0, 125.0)
    }
    judged = [row.unsettled for row in AccountSnapshot.select().order_by(AccountSnapshot.id)]
    assert judged[:3] == [",", ",SPY,", ",SPY,"]  # flat; the buy working; its news late
