"""PostgreSQL restarted right after a buy filled, before its protective stop was placed.

The desk keeps exits (``--stop-loss``): the stop for a new position is placed at the end of the
cycle that sees the entry's fill. A store that goes away in between (``pg_ctl restart``: the
cycle's first write fails) ends the desk (``lost the audit store``, exit 1) with the position
at the broker and no stop. Its last words named only the stops it had cancelled itself, so
nothing told the trader which symbol was exposed (the reliability soak's one unmet check,
2026-12-07). Now the end names each position no exit at the broker covers, on screen, in the
end's line (stderr) and the alerts, and once the store is back within the desk's tries, in the
audit trail; the next start places the stop (reconciliation).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.broker_protection import open_stops, spy_held
from tests.pg_cluster import TRADER_PASSWORD, PgCluster, running_cluster
from tui_trader.engine.stops_at_finish import LEFT_DOWN
from tui_trader.learning.setup import LearningSettings
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.session.runner import SessionRunner
from tui_trader.store.pg_url import parse_db_url

RALLY = {"SPY": 0.8}
"""The shock per bar that makes the momentum strategy buy SPY."""


@pytest.fixture
def own_cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[PgCluster]:
    """A cluster this test may stop and start (the worker's shared one serves other tests)."""
    monkeypatch.setenv("PGPASSWORD", TRADER_PASSWORD)
    with running_cluster() as cluster:
        yield cluster


def test_a_store_lost_between_a_fill_and_its_stop_names_the_exposed_position(
    own_cluster: PgCluster, sandbox: SandboxHandle
) -> None:
    """The buy fills at the sandbox; the server restarts before the desk's next cycle. The
    desk ends (``failed``) naming SPY and its shares without an exit; once the store is back,
    the audit trail says so too; the next start places SPY's stop."""
    database = own_cluster.new_database()
    url = parse_db_url(own_cluster.url(database))
    rule = StopRule(pct=3.0)
    desk = alpaca_session(
        sandbox, url, symbols=("SPY",), learning=LearningSettings("momentum"), stop_loss=rule
    )
    try:
        for _ in range(12):
            sandbox.admin.step(shock=RALLY)
            report = desk.run_iteration()
            if any(o.symbol == "SPY" and o.side.value == "buy" for o in report.orders):
                break
        sandbox.admin.step(shock=RALLY)  # the buy fills at this bar
        settle(sandbox, desk)
        held = spy_held(sandbox)
        assert held > 0 and open_stops(sandbox) == [], "bought, its stop not placed yet"
        cycle = desk.run_iteration

        def restarted_first() -> object:
            """The server restarts as the next cycle begins."""
            own_cluster.stop()
            own_cluster.start()
            return cycle()

        desk.run_iteration = restarted_first  # type: ignore[method-assign]
        result = SessionRunner(desk, iterations=desk.iteration + 1).run()
    finally:
        desk.broker.close()
    assert result.error is not None
    assert result.status == "failed" and "lost the audit store" in result.error
    named = f"SPY: {held:g} of the {held:g} shares held have no exit at the broker"
    assert named in result.error, result.error
    assert any(line.startswith(named) for line in result.stops_left), result.stops_left
    said = own_cluster.rows(
        database,
        f"SELECT symbol, action_taken FROM live_risk_events WHERE event_type = '{LEFT_DOWN}'",
    )
    assert [s for s, a in said if a.startswith(named)] == ["SPY"], said
    again = alpaca_session(sandbox, url, symbols=("SPY",), stop_loss=rule)
    again.broker.close()
    [stop] = open_stops(sandbox)
    assert float(stop.qty) == held, "the next start placed the stop"
