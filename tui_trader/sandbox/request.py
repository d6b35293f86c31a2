"""One parsed REST request as the sandbox's route handlers see it, and what they answer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tui_trader.core.timeframes import NEW_YORK
from tui_trader.sandbox.errors import ApiError

Reply = tuple[int, Any]
"""An HTTP status and a JSON-able body (None for no body), or a ``RawJson`` text."""


class RawJson(str):
    """A body already encoded as JSON text: big market data pages are assembled from cached
    per-bar fragments instead of being encoded again on every request."""


@dataclass(frozen=True, slots=True)
class Request:
    """Method, path, query parameters (last value wins) and the raw body of a request."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        """The body as JSON; 400 with Alpaca's code when it is not JSON."""
        try:
            return json.loads(self.body or b"null")
        except (ValueError, RecursionError):  # '[[[[...' nested deeper than json can read
            raise ApiError(400, 40010000, "request body format is invalid") from None

    def float_param(self, name: str) -> float | None:
        """A numeric query parameter, None when absent, 422 when not a number."""
        raw = self.query.get(name)
        if raw in (None, ""):
            return None
        try:
            return float(raw)
        except ValueError:
            raise ApiError(422, 40010001, f"invalid {name}") from None

    def int_param(self, name: str, default: int, low: int, high: int) -> int:
        """A whole-number query parameter within ``[low, high]``; 422 outside it."""
        raw = self.query.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(422, 40010001, f"invalid {name}") from None
        if not low <= value <= high:
            raise ApiError(422, 40010001, f"{name} must be between {low} and {high}")
        return value


def query_time(text: str | None, name: str) -> datetime | None:
    """An RFC 3339 query parameter (naive means New York time), or 422 when it does not parse."""
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, 40010001, f"invalid {name}") from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=NEW_YORK)
