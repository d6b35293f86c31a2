"""Schema versions: every added column raises the version, so a release of an older schema
refuses a store a newer one wrote instead of writing rows without the new columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_trader.store import ownership, pg_schema
from tui_trader.store.db import StoreError, open_database
from tui_trader.store.migrations import ALL_MODELS
from tui_trader.store.pg_url import PgUrl, parse_db_url

SCHEMA_COLUMNS: dict[int, dict[str, str]] = {
    2: {
        "sessions": "id key mode broker endpoint data_source symbols parameters account_key "
        "started_at ended_at status iterations pid host heartbeat_at heartbeat_window "
        "heartbeat_uptime proc_start boot_id",
        "live_orders": "id session_id client_order_id broker_order_id symbol side quantity "
        "order_type limit_price status timestamp market_time updated_at filled_qty filled_price "
        "error rationale iteration",
        "live_fills": "id session_id order_id fill_key symbol side quantity price commission "
        "slippage timestamp market_time",
        "live_trades": "id session_id symbol side quantity entry_price exit_price timestamp "
        "market_time entry_time commission slippage pnl pnl_pct client_order_id",
        "live_account_snapshots": "id session_id iteration timestamp market_time cash equity "
        "buying_power drawdown_pct daily_pnl state positions fills_through unsettled",
        "live_risk_events": "id session_id account_key timestamp market_time event_type value "
        "limit action_taken symbol detail",
        "risk_state": "account_key state peak_equity day day_open_equity last_equity "
        "orders_today halt_reason halt_detail updated_at version halt_id",
        "halt_requests": "id session_id timestamp requested_by reason flatten handled_at",
        "alert_deliveries": "id timestamp account_key event target attempts error",
        "learning_weights": "id session_id iteration timestamp market_time strategies regime "
        "strategy weight",
        "learning_regimes": "id session_id iteration timestamp market_time symbol regime "
        "confidence trend_t vol_ratio",
        "learning_shadow": "id session_id iteration timestamp market_time strategy regime bars "
        "net_return last_return",
    },
}
SCHEMA_COLUMNS[3] = SCHEMA_COLUMNS[2]  # schema 3 adds a table row (the store's identity)
SCHEMA_COLUMNS[4] = {  # schema 4 adds the symbol claims of a shared account
    **SCHEMA_COLUMNS[3],
    "symbol_claims": "account_key symbol holder protects version updated_at",
}
SCHEMA_COLUMNS[5] = {  # schema 5 adds who took a kill request (``store.kill_requests``)
    **SCHEMA_COLUMNS[4],
    "halt_requests": "id session_id timestamp requested_by reason flatten handled_at taken_by",
}
SCHEMA_COLUMNS[6] = SCHEMA_COLUMNS[5]  # schema 6: learning rows written as changes, no column
"""Every table's columns at each schema version (the models'; PostgreSQL adds more)."""

PREVIOUS_SCHEMA = 5
"""The version every release before the learning rows written as changes
(``store.learning_window``) wrote: such a desk restores a cycle's changed weights only, so it
must not trade a store that has them."""


def test_a_column_added_raises_the_schema_version() -> None:
    """A release refuses only a store of a higher version: a column added without raising it
    reached stores that older releases still opened and wrote without it."""
    columns = {
        model._meta.table_name: " ".join(f.column_name for f in model._meta.sorted_fields)
        for model in ALL_MODELS
    }
    assert columns == SCHEMA_COLUMNS[ownership.SCHEMA_VERSION]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_store_written_today_is_refused_by_a_release_of_the_previous_schema(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release of schema 1 opened a store with schema 2's columns, started a session and
    died on its first halt write (``risk_state.halt_id`` is not null), exit 1, leaving the
    session marked running. A release of the previous schema must refuse today's store in one
    line, before writing anything."""
    where: Path | PgUrl = (
        tmp_path / "audit.db"
        if engine == "sqlite"
        else parse_db_url(request.getfixturevalue("pg_url"))
    )
    open_database(where).close()
    # what such a release checks: its own version against the store's
    monkeypatch.setattr(ownership, "SCHEMA_VERSION", PREVIOUS_SCHEMA)
    monkeypatch.setattr(pg_schema, "SCHEMA_VERSION", PREVIOUS_SCHEMA)
    with pytest.raises(StoreError) as refused:
        open_database(where)
    message = str(refused.value)
    assert "written by a newer tui-trader" in message
    assert "\n" not in message
