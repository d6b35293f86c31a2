"""The order ticket's numbers follow the command line's rules: ASCII digits, at most 1e12, no
``_``; a comma only between thousands.

Before, ``float()`` alone read the ticket: ``５`` or ``٥`` shares were taken as 5, an amount
of 1e300 shares went on to the risk gate, and a limit or stop price of 1e308 was taken (the
cash a buy limit reserves is then no finite number). Every comma was dropped: ``1,5`` (one and
a half, written the European way) was read as 15 shares, and ``1_000`` was taken.
"""

from __future__ import annotations

import pytest

from tui_trader.tui.ticket_form import describe, parse_ticket

SYMBOLS = ("SPY", "QQQ")
TICKET = {"symbol": "SPY", "side": "buy", "amount": "10", "unit": "shares", "type": "market"}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"amount": "５"}, "amount", "ASCII digits"),
        ({"amount": "٥"}, "amount", "ASCII digits"),
        ({"amount": "1e300"}, "amount", "too large: at most 1e+12"),
        ({"amount": "2e12", "unit": "dollars"}, "amount", "too large"),
        ({"type": "limit", "limit": "1e308"}, "limit", "at most 1e12"),
        ({"type": "limit", "limit": "５"}, "limit", "positive price"),
        ({"type": "stop", "stop": "1e308", "side": "sell"}, "stop", "at most 1e12"),
        ({"amount": "1,5"}, "amount", "commas only between thousands"),
        ({"amount": "1,,0"}, "amount", "'1,,0' could be read two ways"),
        ({"amount": "1_000"}, "amount", "ASCII digits"),
        ({"type": "limit", "limit": "1,5"}, "limit", "commas only between thousands"),
        ({"type": "limit", "limit": "1_000"}, "limit", "positive price"),
        ({"type": "stop", "stop": "39,50", "side": "sell"}, "stop", "commas only between"),
    ],
    ids=[
        "fullwidth",
        "arabic-indic",
        "1e300-shares",
        "2e12-dollars",
        "limit-1e308",
        "limit-fullwidth",
        "stop-1e308",
        "decimal-comma",
        "double-comma",
        "underscore",
        "limit-decimal-comma",
        "limit-underscore",
        "stop-decimal-comma",
    ],
)
def test_a_ticket_number_outside_the_rules_is_refused(change, field, words) -> None:
    result = parse_ticket(dict(TICKET, **change), SYMBOLS)
    assert result.order is None and result.field == field
    assert words in result.error


def test_a_number_with_thousands_commas_is_still_read() -> None:
    result = parse_ticket(dict(TICKET, type="limit", amount="1,000", limit="1,234.5"), SYMBOLS)
    assert result.order is not None
    assert (result.order.qty, result.order.limit_price) == (1000.0, 1234.5)
    result = parse_ticket(dict(TICKET, amount="12,345,678.5"), SYMBOLS)
    assert result.order is not None and result.order.qty == 12_345_678.5


@pytest.mark.parametrize("typed", ["ß", "ﬀ", "ı"])
def test_a_symbol_that_only_upper_cases_to_one_is_refused(typed: str) -> None:
    """``'ß'.upper()`` is ``SS``, ``'ﬀ'`` ``FF``, ``'ı'`` ``I``: on a desk trading that ticker the
    ticket took a character nobody would call it for the symbol."""
    result = parse_ticket(dict(TICKET, symbol=typed), (*SYMBOLS, "SS", "FF", "I"))
    assert result.order is None and result.field == "symbol"
    assert parse_ticket(dict(TICKET, symbol="ss"), (*SYMBOLS, "SS")).order is not None


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"amount": "1234567"}, "BUY 1,234,567 SPY market, day"),
        ({"amount": "1,000,001"}, "BUY 1,000,001 SPY market, day"),
        ({"amount": "2.0000001"}, "BUY 2.0000001 SPY market, day"),
        ({"type": "limit", "limit": "150.1249"}, "BUY 10 SPY limit 150.1249, day"),
        (
            {"type": "stop_limit", "stop": "1,234,567.5", "limit": "1234567"},
            "BUY 10 SPY stop_limit stop 1,234,567.5 limit 1,234,567, day",
        ),
    ],
    ids=["seven-digits", "grouped", "fraction", "limit-price", "stop-limit"],
)
def test_the_confirmation_names_the_numbers_the_order_sends(change, words) -> None:
    """The words a LIVE or PAPER desk asks "Send this order?" with are the last look before the
    money moves. They rounded to six digits: 1,234,567 shares read "BUY 1.23457e+06 SPY", a
    mistyped 1,000,001 read "1e+06" like the million meant, a limit of 150.1249 read 150.125."""
    order = parse_ticket(dict(TICKET, **change), SYMBOLS).order
    assert order is not None
    assert describe(order) == words


@pytest.mark.parametrize("typed", ["", "   "])
def test_an_empty_amount_says_nothing_was_typed(typed: str) -> None:
    """The amount field's placeholder (``10``, shown undimmed by some terminals) read as a
    value, and Review on the empty field said "a number in ASCII digits, e.g. 10": the trader,
    seeing 10 typed, could not tell what was wrong. It now says nothing was typed."""
    result = parse_ticket(dict(TICKET, amount=typed), SYMBOLS)
    assert result.order is None and result.field == "amount"
    assert result.error.startswith("nothing typed")
