"""The desk's pure pieces: the ticket's reading, gauges that fit, chart axes, the market clock,
and what the desk state remembers (working orders, the day's change)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui_trader.core.domain import IterationReport, RiskEvent, TradingState
from tui_trader.core.orders import Order, OrderStatus, OrderType, Side
from tui_trader.tui.screens.dashboard_charts import nice_ticks, time_labels
from tui_trader.tui.state import DeskState, SessionInfo, market_clock
from tui_trader.tui.ticket_form import describe, parse_ticket
from tui_trader.tui.widgets.cells import event_line
from tui_trader.tui.widgets.gauge import gauge_text
from tui_trader.tui.widgets.packed import packed

SYMBOLS = ("SPY", "QQQ")
TICKET = {"symbol": "SPY", "side": "buy", "amount": "10", "unit": "shares", "type": "market"}


def test_a_ticket_in_dollars_is_a_notional_order() -> None:
    """2,500 dollars of QQQ, limit 401.5, good till cancelled."""
    result = parse_ticket(
        dict(
            TICKET,
            symbol="QQQ",
            amount="2,500",
            unit="dollars",
            type="limit",
            limit="401.5",
            tif="gtc",
        ),
        SYMBOLS,
    )
    order = result.order
    assert order is not None
    assert (order.qty, order.notional, order.limit_price) == (None, 2500.0, 401.5)
    assert (order.order_type, order.time_in_force) == ("limit", "gtc")


def test_a_stop_limit_ticket_carries_both_prices() -> None:
    """Sell 10 SPY, stop 95, limit 94, good till cancelled: both prices reach the order."""
    result = parse_ticket(
        dict(TICKET, side="sell", type="stop_limit", stop="95", limit="94", tif="gtc"), SYMBOLS
    )
    order = result.order
    assert order is not None
    assert (order.order_type, order.stop_price, order.limit_price) == ("stop_limit", 95.0, 94.0)
    assert (order.qty, order.time_in_force) == (10.0, "gtc")


def test_the_ticket_is_described_in_words_a_trader_reads() -> None:
    """The confirmation and the "Order requested" line name the order; a plain stop read
    "BUY 5 SPY stop stop 900, day"."""
    cases = {
        "BUY 5 SPY stop 900, day": dict(amount="5", type="stop", stop="900"),
        "SELL 10 SPY stop_limit stop 95 limit 94, gtc": dict(
            side="sell", type="stop_limit", stop="95", limit="94", tif="gtc"
        ),
        "BUY 5 SPY limit 300, gtc": dict(amount="5", type="limit", limit="300", tif="gtc"),
        "BUY 10 SPY market, day": {},
    }
    for words, change in cases.items():
        order = parse_ticket(dict(TICKET, **change), SYMBOLS).order
        assert order is not None
        assert describe(order) == words


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"symbol": "TSLA"}, "symbol"),
        ({"amount": "ten"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"type": "limit", "limit": ""}, "limit"),
        ({"type": "stop", "stop": ""}, "stop"),
        ({"type": "stop_limit", "stop": "95", "limit": "x"}, "limit"),
        ({"type": "stop", "stop": "95", "unit": "dollars"}, "amount"),
    ],
)
def test_a_bad_ticket_names_its_field(change, field) -> None:
    """Each mistake points at the field to fix; nothing is ordered."""
    result = parse_ticket(dict(TICKET, **change), SYMBOLS)
    assert result.order is None and result.field == field and result.error


@pytest.mark.parametrize("width", [22, 25, 33, 60])
def test_a_gauge_fits_its_width(width) -> None:
    """Three gauges share 80 columns: each fits its cells, figures shortened where needed."""
    text = gauge_text("Daily loss", 0.81, 2.0, width=width)
    assert len(text) <= max(width, len("Daily loss") + 3 + 2 + len("0.81%/2%"))
    assert "0.81%" in text.plain and text.plain.startswith("Daily loss ")


def test_value_ticks_are_round_and_cover_the_range() -> None:
    """99,349..100,219 gets 99,500 and 100,000, not 99929.2."""
    assert nice_ticks(99_349.0, 100_219.3) == [99_500.0, 100_000.0]
    assert nice_ticks(0.0, 1.0) == [0.0, 0.5, 1.0]


def test_time_labels_are_market_dates_or_clock_times() -> None:
    """Daily bars get dates; bars within one day get New York clock times."""
    days = [datetime(2024, 3, 26, 13, 30, tzinfo=UTC) + timedelta(days=i) for i in range(31)]
    assert time_labels(days, daily=True)[1] == ["03-26", "04-10", "04-25"]
    minutes = [datetime(2026, 11, 24, 14, 30, tzinfo=UTC) + timedelta(minutes=i) for i in range(61)]
    assert time_labels(minutes, daily=False)[1] == ["09:30", "10:00", "10:30"]


def test_the_market_clock_counts_down_to_the_next_open_or_close() -> None:
    """OPEN with the time to the close; AFTER and over the weekend, the time to the open."""
    assert market_clock(datetime(2026, 11, 24, 14, 30, tzinfo=UTC), False).endswith(
        "closes in 6h30m"
    )
    assert market_clock(datetime(2026, 11, 24, 22, 30, tzinfo=UTC), False).startswith("AFTER")
    assert market_clock(datetime(2026, 11, 28, 2, 30, tzinfo=UTC), False).endswith("opens in 2d12h")


def test_weights_never_split_a_name_from_its_value() -> None:
    """``volatility:`` used to end a wrapped line with its value cut off below."""
    lines = packed(
        "Weights", ["meanrev: 0.27", "momentum: 0.23", "trend: 0.23", "volatility: 0.27"], 38
    )
    assert all(len(line) <= 38 for line in lines)
    assert any("volatility: 0.27" in line.plain for line in lines)


def _report(iteration: int, when: datetime, price: float, orders=()) -> IterationReport:
    """A report with one price and some orders."""
    return IterationReport(
        iteration,
        when,
        0,
        0,
        0,
        0,
        0,
        0,
        TradingState.ACTIVE,
        0,
        0,
        prices={"SPY": price},
        orders=orders,
    )


def test_the_desk_keeps_working_orders_and_the_days_change() -> None:
    """An open order is listed until a final status arrives; the day's change is measured from
    the previous trading day's last price, not from the first bar kept."""
    desk = DeskState()
    desk.start(SessionInfo("k", "local", "x", ("SPY",), 1e5, 5, 2, 100, daily_bars=False))
    now = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
    working = Order("c1", "SPY", Side.BUY, 5, OrderType.LIMIT, OrderStatus.NEW, limit_price=90)
    desk.apply(_report(1, datetime(2026, 11, 23, 20, 59, tzinfo=UTC), 100.0, (working,)), now)
    desk.apply(_report(2, datetime(2026, 11, 24, 14, 30, tzinfo=UTC), 102.0), now)
    desk.apply(_report(3, datetime(2026, 11, 24, 15, 0, tzinfo=UTC), 103.0), now)
    assert list(desk.working) == ["c1"]
    assert desk.day_change("SPY") == pytest.approx(3.0)
    done = Order("c1", "SPY", Side.BUY, 5, OrderType.LIMIT, OrderStatus.CANCELED, limit_price=90)
    desk.apply(_report(4, datetime(2026, 11, 24, 15, 1, tzinfo=UTC), 103.0, (done,)), now)
    assert desk.working == {}


@pytest.mark.parametrize("amount", ["nan", "1e400", "inf"])
def test_an_amount_that_is_not_a_finite_number_is_called_that(amount) -> None:
    """ "1e400" shares is not "must be greater than zero": the ticket says what is wrong."""
    result = parse_ticket(dict(TICKET, amount=amount), SYMBOLS)
    assert result.order is None and result.field == "amount"
    assert result.error == f"not a finite number: {amount!r}"


@pytest.mark.parametrize(
    ("event", "shown"),
    [
        (
            RiskEvent("position_size_limit", 410.44, 10.0, "reduced from 1000 to 24"),
            "position_size_limit 410.44% (limit 10.00%) → reduced from 1000 to 24",
        ),
        (
            RiskEvent("daily_loss_limit", 2.31, 2.0, "halted trading until the next trading day"),
            "daily_loss_limit 2.31% (limit 2.00%) → halted trading until the next trading day",
        ),
        (
            RiskEvent("drawdown_kill_switch", 5.5, 5.0, "halted trading until reset"),
            "drawdown_kill_switch 5.50% (limit 5.00%) → halted trading until reset",
        ),
        (
            RiskEvent("order_rate_limit", 100.0, 100.0, "refused buy 3 SPY: 100 orders sent"),
            "order_rate_limit 100 orders (limit 100) → refused buy 3 SPY: 100 orders sent",
        ),
        (
            RiskEvent("position_size_limit", 7.0, 3.0, "refused protective sell 10"),
            "position_size_limit would leave 7 shares (held 3) → refused protective sell 10",
        ),
        (RiskEvent("manual_kill", 0.0, 0.0, "halted"), "manual_kill → halted"),
    ],
)
def test_a_risk_event_on_the_dashboard_names_its_unit(event, shown) -> None:
    """A trader read "position_size_limit 410.44 (limit 10.00)" and could not tell percent of
    equity from dollars or shares; each measure now carries its unit."""
    assert event_line(event).plain == shown


def test_a_duplicate_in_a_long_symbol_list_is_named() -> None:
    """Fifty tickers with MSFT twice: the setup field says which one, not the whole list."""
    from tui_trader.tui.setup_form import DEFAULTS, validate

    symbols = ",".join(f"S{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(49))
    errors = validate(dict(DEFAULTS, db="x.db", symbols=f"MSFT,{symbols},msft")).errors
    assert errors["symbols"] == "duplicate symbol MSFT in the list"
