"""The protective stop's rule, its average true range, and the gate's protective check."""

from __future__ import annotations

import argparse
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tui_trader.cli.numbers import stop_loss_arg, take_profit_arg
from tui_trader.core.domain import Bar, TradingState
from tui_trader.core.orders import OrderClass, OrderRequest, OrderType, Side
from tui_trader.risk.gate import RiskLimits, RiskManager
from tui_trader.risk.state import RiskState
from tui_trader.risk.stops import StopRule, TrueRange, is_protective, stop_price


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("5", StopRule(pct=5.0)),
        (" 2.5 ", StopRule(pct=2.5)),
        ("ATR:2", StopRule(atr=2.0)),
        ("5%", StopRule(pct=5.0)),
        ("0.01", StopRule(pct=0.01)),
        ("atr:20", StopRule(atr=20.0)),
    ],
)
def test_stop_rules_parse(text: str, rule: StopRule) -> None:
    """A percent (``5`` or ``5%``: a trader writes either) or ``atr:N``, case and spaces aside."""
    assert stop_loss_arg(text) == rule


@pytest.mark.parametrize(
    "text", ["", "x", "0", "-3", "100", "100%", "nan", "inf", "atr:", "atr:0", "atr:x", "atr:21"]
)
def test_bad_stop_rules_say_what_is_wrong(text: str) -> None:
    """Each bad value is one plain line that quotes it."""
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(repr(text))):
        stop_loss_arg(text)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("1_0", "no '_'"),
        ("atr:1_0", "no '_'"),
        ("５", "use ASCII digits"),
        ("atr:２", "use ASCII digits"),
        ("atr:nan", "not a finite number"),
        ("1e-300", "from 0.01 to below 100"),
        ("0.001", "from 0.01 to below 100"),
        ("atr:0.0000001", "from 0.01 to 20 average true ranges"),
        ("1e400", "not a finite number"),
    ],
)
def test_stop_rules_follow_the_number_rules_of_every_option(text: str, words: str) -> None:
    """``1_0``, Unicode digits, a stop a billionth of a percent away: the stop rules read their
    own numbers with ``float()`` and took all of these (``1_0`` as a 10% stop)."""
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(words)):
        stop_loss_arg(text)


@pytest.mark.parametrize("text", ["0", "-1", "abc", "nan", "5000", "1_0", "８", "1e-9", "5%%"])
def test_bad_take_profits_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(repr(text))):
        take_profit_arg(text)


def test_a_take_profit_may_be_written_with_its_percent_sign() -> None:
    assert take_profit_arg("8%") == take_profit_arg(" 8 % ") == 8.0


def test_a_stop_sits_below_a_long_and_above_a_short_in_alpacas_ticks() -> None:
    """Cents from $1; four decimals below it."""
    assert stop_price(101.2, 101.2 * 0.05, long=True) == 96.14
    assert stop_price(101.2, 5.06, long=False) == 106.26
    assert stop_price(0.5, 0.0123456, long=True) == 0.4877


def test_the_average_true_range_counts_gaps() -> None:
    """A gap from a close of 100 to a bar of 104-106 is a true range of 6, not 2."""
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    rng = TrueRange()
    rng.add(Bar("X", t0, 100, 101, 99, 100, 1))
    rng.add(Bar("X", t0 + timedelta(days=1), 105, 106, 104, 105, 1))
    assert rng.value == pytest.approx((2 + 6) / 2)


def test_only_the_desks_stop_ids_are_protective() -> None:
    """A stop, a take-profit limit or an OCO pair (a limit) with a ``-ps`` id is protective; a
    manual stop or a market order is not."""
    assert is_protective("tt-abc-3-SPY-ps1", OrderType.STOP)
    assert is_protective("tt-abc-3-SPY-ps2", OrderType.LIMIT)
    assert not is_protective("tt-abc-3-SPY-r", OrderType.LIMIT)
    assert not is_protective("tt-abc-3-SPY-m1", OrderType.STOP)
    assert not is_protective("tt-abc-3-SPY-ps1", OrderType.MARKET)


def _gate(**state) -> RiskManager:
    return RiskManager(RiskLimits(max_orders_per_day=1), RiskState("acct", **state))


def test_a_protective_stop_passes_a_halt_and_the_order_limit_uncounted() -> None:
    """Halted, and the day's one order used: the stop for the held 100 still passes, and the
    count does not move."""
    gate = _gate(state=TradingState.HALTED, halt_reason="manual_kill", orders_today=1)
    stop = OrderRequest("SPY", Side.SELL, 100, "tt-k-1-SPY-ps1", OrderType.STOP, stop_price=95)
    assert gate.check_protective(stop, 100).order == stop
    assert gate.state.orders_today == 1
    assert gate.check_order(stop, 100.0, 100_000.0, 100, 100).order is None  # the ordinary gate


@pytest.mark.parametrize(("side", "qty"), [(Side.SELL, 101), (Side.BUY, 10)])
def test_a_protective_order_that_would_open_exposure_is_refused(side: Side, qty: float) -> None:
    """More than the position, or the wrong way: refused, with the reason."""
    check = _gate().check_protective(OrderRequest("SPY", side, qty, "tt-k-1-SPY-ps1"), 100)
    assert check.order is None
    assert "does not close the 100 share position" in check.events[0].action_taken


def test_an_oco_exit_passes_a_halt_uncounted_and_is_not_new_exposure() -> None:
    """Halted at the day's order limit: the pair for the held 100 passes and is not counted; a
    pair for more than is held would open a short, and is refused."""
    gate = _gate(state=TradingState.HALTED, halt_reason="manual_kill", orders_today=1)
    pair = OrderRequest(
        "SPY",
        Side.SELL,
        100,
        "tt-k-1-SPY-ps1",
        OrderType.LIMIT,
        limit_price=108,
        stop_price=95,
        order_class=OrderClass.OCO,
    )
    assert gate.check_protective(pair, 100).order == pair
    assert gate.state.orders_today == 1
    assert gate.check_protective(replace(pair, qty=150), 100).order is None
