"""Calling Alpaca safely: a deadline on every request and a bounded retry where it is safe.

alpaca-py sets no request timeout (a silent server blocks forever) and retries only 429/504,
with three-second sleeps, including order submissions. requests' ``timeout`` bounds each socket
operation only (a trickled answer outlasts it), so the whole request has a deadline too
(``brokers.request_deadline``). So the desk turns its retries off and
applies its own policy: reads retry connection errors, timeouts, 429, 5xx and answers
alpaca-py cannot read (a 2xx body that does not fit its model) with a short exponential
backoff; an order is never resent blindly (the broker asks by client id first).
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from tui_trader.brokers import BrokerError
from tui_trader.brokers.alpaca_budget import RequestBudget, metered
from tui_trader.brokers.request_deadline import watch, with_deadline
from tui_trader.core import waiting

T = TypeVar("T")

DUPLICATE_CLIENT_ORDER_ID = 40010001
INSUFFICIENT_BUYING_POWER = 40310000
ANSWERED = 200
"""The status a ``Failure`` names for a successful answer whose body did not fit the model."""


@dataclass(frozen=True, slots=True)
class CallPolicy:
    """Deadline and retry settings for Alpaca requests."""

    timeout: float = 10.0
    """Seconds each HTTP request may take, connect to last byte, before it is cut
    (``request_deadline``)."""
    retries: int = 3
    """Extra attempts for reads after a transient failure."""
    backoff: float = 0.5
    """First wait between attempts; doubles each time, capped at ``max_backoff``."""
    max_backoff: float = 4.0


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed request, classified."""

    status: int | None
    """HTTP status, or None when no answer came (connection refused, timeout, dropped)."""
    code: int | None
    message: str
    transient: bool
    """Worth retrying: no answer, 429, 5xx, or an answer that could not be read."""


def prepare(
    client: Any,
    policy: CallPolicy,
    budget: RequestBudget | None = None,
    stop: threading.Event | None = None,
) -> Any:
    """Give an alpaca-py REST client our deadline (on each socket operation and on the whole
    request: ``request_deadline``), switch off its own retries and, with a ``budget``, meter
    every request through it (see ``alpaca_budget``; a wait for a token is not the request's)."""
    client._retry = 0
    client._retry_wait = 0
    remember_environment(client._session)
    watch(client._session)
    request = with_deadline(
        functools.partial(client._session.request, timeout=policy.timeout), policy.timeout
    )
    if budget is not None:
        request = metered(request, budget, stop or threading.Event())
    client._session.request = request
    return client


def remember_environment(session: Any) -> None:
    """Work out once per host what requests reads from the environment for every request.

    With ``trust_env`` (kept: a desk behind a proxy needs ``HTTPS_PROXY``, ``NO_PROXY`` and
    ``REQUESTS_CA_BUNDLE``), each request walks the whole environment for proxies and their
    exceptions: about 0.3 ms a request here, four requests between a bar and its order's
    acknowledgement (issue 17). The answer depends only on the URL's scheme and host and on
    the environment, which a running session does not change: it is kept per scheme, host and
    request settings, and anything unusual (a request naming its own proxies) is worked out
    afresh as before."""
    original = session.merge_environment_settings
    known: dict[tuple[Any, ...], dict[str, Any]] = {}

    def merge(url: str, proxies: Any, stream: Any, verify: Any, cert: Any) -> dict[str, Any]:
        if proxies or not isinstance(verify, bool | None) or not isinstance(cert, str | None):
            return original(url, proxies, stream, verify, cert)
        key = (*urlsplit(url)[:2], stream, verify, cert)
        settings = known.get(key)
        if settings is None:
            settings = known[key] = original(url, {}, stream, verify, cert)
        return {**settings, "proxies": dict(settings["proxies"])}

    session.merge_environment_settings = merge


def classify(exc: BaseException) -> Failure | None:
    """Describe an exception from an alpaca-py call; None if it is not a request failure.

    The words are redacted (``security.redact``): they come from the server or the proxy in
    between, which may quote the request's headers back (``forbidden: ... APCA-API-SECRET-KEY
    ...``), and they are printed, stored as an order's ``error`` and a risk event's detail, and
    sent in alerts."""
    from alpaca.common.exceptions import APIError
    from pydantic import ValidationError
    from requests import RequestException

    from tui_trader.brokers.alpaca_numbers import UnreadableAnswer
    from tui_trader.security.redact import redact

    if isinstance(exc, APIError):
        status = exc.status_code
        code, message = _parse_body(str(exc))
        transient = status is None or status == 429 or status >= 500
        return Failure(status, code, redact(message), transient)
    if isinstance(exc, RequestException | OSError):
        return Failure(None, None, redact(f"{type(exc).__name__}: {_first_line(exc)}"), True)
    if isinstance(exc, ValidationError):
        # alpaca-py raises it building its model from a 2xx answer: the request was served
        # (an order arrived) but the answer cannot be read, so its outcome is in doubt.
        return Failure(ANSWERED, None, redact(f"unreadable answer: {_first_line(exc)}"), True)
    if isinstance(exc, UnreadableAnswer):  # read, but a number in it no account can hold
        return Failure(ANSWERED, None, redact(f"unreadable answer: {exc}"), True)
    return None


def with_retries(
    call: Callable[[], T], policy: CallPolicy, what: str, stop: threading.Event | None = None
) -> T:
    """Run a read with the policy's retries; raise ``BrokerError`` naming ``what`` at the end."""
    waiter = stop or threading.Event()
    delay = policy.backoff
    last: Failure | None = None
    for attempt in range(policy.retries + 1):
        try:
            return call()
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
            if not failure.transient:
                raise BrokerError(f"{what} failed: {describe(failure)}") from exc
            last = failure
        if attempt < policy.retries and waiting.wait(waiter, delay):  # beating meanwhile
            break
        delay = min(delay * 2, policy.max_backoff)
    raise BrokerError(f"{what} failed after {policy.retries + 1} attempts: {describe(last)}")


def describe(failure: Failure | None) -> str:
    """A failure in plain words."""
    if failure is None:
        return "interrupted"
    if failure.status is None:
        return f"no answer ({failure.message})"
    return f"HTTP {failure.status}: {failure.message}"


def _parse_body(body: str) -> tuple[int | None, str]:
    """Alpaca's ``{"code": ..., "message": ...}``, tolerating HTML pages and bodies without code."""
    try:
        data = json.loads(body)
    except ValueError:
        return None, _first_line(body) or "empty answer"
    if not isinstance(data, dict):
        return None, _first_line(body)
    code = data.get("code")
    text = str(code) if isinstance(code, int | str) else ""
    # isdigit takes '²' and int() refuses it, as it refuses 4,301 digits: a ValueError in place
    # of the failure being classified
    number = int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None
    return number, str(data.get("message", body))


def _first_line(value: object) -> str:
    """The first line of an error, trimmed."""
    text = str(value).strip()
    return text.splitlines()[0][:200] if text else ""
