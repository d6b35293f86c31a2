"""The sandbox's deposits and withdrawals (``POST /admin/cash``) as Alpaca lists them, and the
desk's read of the day's total through alpaca-py (``brokers.alpaca_cash``), page by page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tui_trader.brokers.alpaca_cash import PAGE_SIZE, cash_flows
from tui_trader.core.timeframes import NEW_YORK
from tui_trader.sandbox.testing import SandboxHandle


def _today() -> Any:
    return datetime.now(UTC).astimezone(NEW_YORK).date()


def test_cash_moves_are_listed_as_non_trade_activities(
    sandbox: SandboxHandle, trading: Any
) -> None:
    """A deposit, a withdrawal and a journal: cash and equity move at once, each is listed
    under its type (``TRANS`` asks for deposits and withdrawals), and the day's total the desk
    reads is their sum."""
    before = float(trading.get_account().cash)
    sandbox.admin.move_cash(10_000)
    sandbox.admin.move_cash(-2_500.5)
    sandbox.admin.move_cash(-100, "JNLC")
    assert float(trading.get_account().cash) == pytest.approx(before + 7_399.5)
    listed = trading.get("/account/activities", {"activity_types": "TRANS"})
    assert sorted(a["activity_type"] for a in listed) == ["CSD", "CSW"]
    [csw] = trading.get("/account/activities/CSW")
    assert csw["net_amount"] == "-2500.5" and csw["status"] == "executed"
    assert csw["date"] == _today().isoformat()
    assert cash_flows(trading, _today()) == pytest.approx(7_399.5)


def test_the_days_total_is_read_over_several_pages(sandbox: SandboxHandle, trading: Any) -> None:
    """More cash moves than one page holds: every one counted once."""
    for _ in range(PAGE_SIZE + 5):
        sandbox.admin.move_cash(1)
    assert cash_flows(trading, _today()) == PAGE_SIZE + 5


@pytest.mark.parametrize(
    "body",
    [
        {"amount": 0},
        {"amount": "nan"},
        {"amount": 1e10},
        {"amount": -1e8},
        {"amount": 5, "type": "CSW"},
        {"amount": -5, "type": "CSD"},
        {"amount": 5, "type": "FILL"},
    ],
)
def test_a_cash_move_no_account_could_make_is_refused(
    sandbox: SandboxHandle, trading: Any, body: dict[str, Any]
) -> None:
    """Zero, NaN, too large, more than the cash held, or a sign against its type: a 400, the
    account as it was."""
    before = float(trading.get_account().cash)
    with pytest.raises(RuntimeError, match="admin /admin/cash"):
        sandbox.admin._call("POST", "/admin/cash", body)
    assert float(trading.get_account().cash) == before
    assert trading.get("/account/activities", {"activity_types": "CSD,CSW,JNLC"}) == []
