"""Alpaca's error body read for its code: a code that only looks like a number is none.

``{"code": "²"}`` (or a code of thousands of digits) from Alpaca or a proxy in front of it:
``str.isdigit`` said digits and ``int()`` refused them, so the ``ValueError`` replaced the
failure being classified (the request's own error lost). The code is then unknown, and the
message and status are kept.
"""

from __future__ import annotations

import json

import pytest
from alpaca.common.exceptions import APIError

from tui_trader.brokers.alpaca_calls import classify


class _Http:
    """What ``APIError`` reads its status from."""

    def __init__(self, status: int) -> None:
        self.response = type("R", (), {"status_code": status})()


@pytest.mark.parametrize("code", ["²", "9" * 5000], ids=["superscript two", "5000 digits"])
def test_a_code_that_is_no_number_is_an_unknown_code(code: str) -> None:
    body = json.dumps({"code": code, "message": "insufficient buying power"})
    failure = classify(APIError(body, _Http(403)))
    assert failure is not None
    assert failure.code is None and failure.status == 403
    assert "insufficient buying power" in failure.message


def test_a_code_that_is_a_number_is_kept() -> None:
    body = '{"code": "40310000", "message": "insufficient buying power"}'
    failure = classify(APIError(body, _Http(403)))
    assert failure is not None and failure.code == 40310000
