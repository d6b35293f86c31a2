"""Fault switches of the sandbox: what can go wrong, how to say it, and seeded dice to decide it.

A fault SPEC is a comma-separated list of ``name=value`` pairs, for example
``latency=0.2,error_rate=0.1,burst_429=3``. Rates are shares between 0 and 1 of the requests (or
orders, or stream messages) they apply to; every decision is drawn from one ``random.Random``
seeded at start, so the same seed and the same sequence of requests give the same faults.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

LOST_ACK_MODES = ("504", "drop")


class FaultSpecError(ValueError):
    """A fault SPEC (or admin JSON) that names an unknown switch or gives it a bad value."""


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """Every fault switch, all off by default.

    REST switches apply to ``/v2/...`` requests (never to ``/admin``); order switches to orders
    that the engine accepted; ``ws_drop`` to messages the stream servers are about to send;
    ``ws_duplicate``, ``ws_reorder`` and ``ws_mute`` to trade updates; ``stale_rest`` to
    single-order reads; ``cancel_refuse_rate`` to the open orders a cancel meets;
    ``replace_fill_rate`` and ``replace_reject_rate`` to the orders a replace meets.
    """

    latency: float = 0.0
    """Seconds added before every REST answer."""
    error_rate: float = 0.0
    """Share of REST requests answered with ``error_status`` instead of being served."""
    error_status: int = 500
    """The 5xx status ``error_rate`` answers with (500, 502, 503 or 504)."""
    burst_429: int = 0
    """The next N REST requests are answered 429, then the burst is spent."""
    rate_limit: int = 200
    """Requests a minute per key before 429 (Alpaca's 200); 0 turns the limit off."""
    rate_hold: int = 0
    """1 holds the key's minute: the requests counted so far do not age out, and every answer
    says the count changes a whole window from now (a neighbour on the key that keeps spending
    it); 0 lets the minute run on from there. A test holds a spent minute until it has seen a
    start wait for the next one, however slowly the start came."""
    hang_rate: float = 0.0
    """Share of REST requests read and never answered (until the client gives up)."""
    trickle: float = 0.0
    """Seconds between the bytes of every REST answer's body (its status and headers go at
    once): a server or proxy that trickles its answer, each byte within a socket timeout, so
    only a deadline on the whole request ends it. 0 is off."""
    order_fail_rate: float = 0.0
    """Share of order submissions answered with ``error_status`` before they reach the engine:
    the order never arrives (unlike ``lost_ack_rate``, where it does)."""
    lost_ack_rate: float = 0.0
    """Share of accepted orders whose answer is lost: the order exists, the client sees a fault."""
    lost_ack_mode: str = "504"
    """How an acknowledgement is lost: ``504`` (gateway timeout) or ``drop`` (connection closed)."""
    reject_rate: float = 0.0
    """Share of accepted orders rejected right after acceptance (event ``rejected``)."""
    review_rate: float = 0.0
    """Share of accepted orders held ``pending_review`` until the next bar (Alpaca reviewing
    an order before it routes it), then routed as an accepted one is; meanwhile the order is
    listed open, holds its cash or shares, does not trade, and a cancel takes it."""
    partial_rate: float = 0.0
    """Share of orders that fill in two parts: about half now, the rest ``partial_bars`` bars
    later."""
    partial_bars: int = 1
    """Bars the rest of a split order (``partial_rate``) waits, partly filled and working,
    before it fills (a thin market filling a large order over minutes)."""
    position_lag: float = 0.0
    """Share of position reads (``GET /v2/positions``, ``GET /v2/positions/{symbol}``) that
    leave out the fills of orders still working: the position catches up when the order ends
    (Alpaca's positions lagging the fills of a partly filled order)."""
    activities_fail_rate: float = 0.0
    """Share of account activity reads (``GET /v2/account/activities``, by type too) answered
    with ``error_status``: the deposits and withdrawals cannot be read."""
    stream_only_rate: float = 0.0
    """Share of orders whose fills reach only the stream; REST shows the stale status a bar."""
    ws_drop: float = 0.0
    """Share of outgoing stream messages replaced by dropping the connection (message lost)."""
    ws_duplicate: float = 0.0
    """Share of trade updates sent twice (as Alpaca may around a reconnect)."""
    ws_reorder: float = 0.0
    """Share of trade updates held back and sent after the next one (or with the next bar)."""
    ws_mute: float = 0.0
    """Share of trade updates never sent, the connection left up and listening (a stream gone
    silent: no drop for the client to notice, REST alone knows)."""
    stale_rest: float = 0.0
    """Share of single-order REST reads that answer the state the previous read answered,
    once, when the order has changed since (Alpaca's REST lagging its stream)."""
    cancel_refuse_rate: float = 0.0
    """Share of open orders a cancel cannot cancel: each stays working; ``DELETE /v2/orders``
    answers status 500 for it in its 207, ``DELETE /v2/orders/{id}`` 422 (Alpaca's "not
    cancelable", as for an order being replaced)."""
    slow_cancel_rate: float = 0.0
    """Share of the cancels asked for (``DELETE /v2/orders/{id}``, ``DELETE /v2/orders``) that
    stay ``pending_cancel`` until the next bar, then end ``canceled`` (Alpaca cancels
    asynchronously: its 204 is not yet the order's end); meanwhile the order is listed open,
    does not trade, and a second cancel is refused 422."""
    slow_cancel_fill_rate: float = 0.0
    """Share of the cancels ``slow_cancel_rate`` holds ``pending_cancel`` that the order wins
    at the next bar: what is left of it fills in full (a limit at its limit, else at the
    market) and it ends ``filled``, not ``canceled`` (Alpaca: a ``pending_cancel`` order may
    still fill before the cancel reaches the exchange)."""
    slow_cancel_refuse_rate: float = 0.0
    """Share of the cancels ``slow_cancel_rate`` holds ``pending_cancel`` that Alpaca refuses
    after its 204: at the next bar the order is working again (``new``, or
    ``partially_filled``), announced ``order_cancel_rejected``, and trades on."""
    replace_fill_rate: float = 0.0
    """Share of replaces (``PATCH /v2/orders/{id}`` of a simple order) whose old order fills
    before the new one reaches the exchange: the PATCH answers the new order ``pending_new``,
    the old one turns ``pending_replace``; ``race_bars`` bars later (the next bar by default)
    the old one fills in full at the market and the new one is ``rejected`` (Alpaca's
    documented race)."""
    replace_reject_rate: float = 0.0
    """Share of replaces (of a simple order) whose new order the exchange rejects while the
    old one keeps working: the PATCH answers the new order ``pending_new``, the old one turns
    ``pending_replace``; ``race_bars`` bars later the new one is ``rejected`` and the old one is
    ``new`` again (event ``order_replace_rejected``), its stop still able to fire."""
    race_bars: int = 1
    """Bars a replace that loses the race (``replace_fill_rate``, ``replace_reject_rate``)
    stays ``pending_replace`` before the exchange decides (the exchange slow to answer)."""

    def describe(self) -> str:
        """The settings that differ from the defaults, in SPEC grammar (``none`` when all off)."""
        default = FaultSettings()
        parts = [
            f"{f.name}={getattr(self, f.name)}"
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        ]
        return ",".join(parts) or "none"

    def as_json(self) -> dict[str, Any]:
        """Plain JSON for ``GET /admin/state`` and ``POST /admin/faults`` answers."""
        return asdict(self)


_RATES = {"error_rate", "hang_rate", "lost_ack_rate", "reject_rate", "partial_rate"}
_RATES |= {"order_fail_rate", "activities_fail_rate", "review_rate"}
_RATES |= {"stream_only_rate", "ws_drop", "ws_duplicate", "ws_reorder", "stale_rest"}
_RATES |= {"cancel_refuse_rate", "replace_fill_rate", "replace_reject_rate", "position_lag"}
_RATES |= {"slow_cancel_rate", "slow_cancel_fill_rate", "slow_cancel_refuse_rate", "ws_mute"}
_COUNTS = {"burst_429", "rate_limit", "rate_hold"}
_BARS = {"partial_bars", "race_bars"}
"""Counts of bars: at least one (the next bar), at most ``MAX_BARS``."""
MAX_BARS = 10_000


def _coerce(name: str, raw: Any) -> Any:
    """One switch's value checked and converted from SPEC text or JSON."""
    try:
        if name == "lost_ack_mode":
            value = str(raw)
            if value not in LOST_ACK_MODES:
                raise FaultSpecError(f"lost_ack_mode must be one of {', '.join(LOST_ACK_MODES)}")
            return value
        if name == "error_status":
            value = int(raw)
            if value not in (500, 502, 503, 504):
                raise FaultSpecError("error_status must be 500, 502, 503 or 504")
            return value
        if name in _COUNTS:
            value = int(raw)
            if value < 0:
                raise FaultSpecError(f"{name} must not be negative")
            return value
        if name in _BARS:
            value = int(raw)
            if not 1 <= value <= MAX_BARS:
                raise FaultSpecError(f"{name} is a number of bars from 1 to {MAX_BARS:,}")
            return value
        value = float(raw)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, FaultSpecError):
            raise
        raise FaultSpecError(f"bad value {raw!r} for fault {name!r}") from None
    if not value == value or value < 0:
        raise FaultSpecError(f"fault {name!r} must be a number of zero or more")
    if name in _RATES and value > 1:
        raise FaultSpecError(f"fault {name!r} is a share between 0 and 1, got {raw!r}")
    if name in ("latency", "trickle") and value > 60:
        raise FaultSpecError(f"{name} is at most 60 seconds")
    return value


def apply_changes(base: FaultSettings, changes: dict[str, Any]) -> FaultSettings:
    """``base`` with the named switches changed; unknown names raise ``FaultSpecError``."""
    known = {f.name for f in fields(FaultSettings)}
    updates = {}
    for name, raw in changes.items():
        if name not in known:
            raise FaultSpecError(f"unknown fault {name!r} (known: {', '.join(sorted(known))})")
        updates[name] = _coerce(name, raw)
    return replace(base, **updates)


def parse_faults(spec: str, base: FaultSettings | None = None) -> FaultSettings:
    """Parse ``name=value,name=value`` (or ``none``/empty) into settings on top of ``base``."""
    base = base or FaultSettings()
    text = spec.strip()
    if text in ("", "none"):
        return base
    changes: dict[str, str] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise FaultSpecError(f"bad fault {part.strip()!r}: expected name=value")
        name, value = name.strip(), value.strip()
        if name in changes and changes[name] != value:  # which did the user mean?
            raise FaultSpecError(f"fault {name!r} given twice ({changes[name]} and {value})")
        changes[name] = value
    return apply_changes(base, changes)


class FaultDice:
    """The live fault settings plus one seeded random stream that decides every fault."""

    def __init__(self, settings: FaultSettings, seed: int) -> None:
        """Start with ``settings``; ``seed`` makes every decision repeatable."""
        self._lock = threading.Lock()
        self._rng = random.Random(f"faults:{seed}")
        self._settings = settings
        self._burst_left = settings.burst_429

    @property
    def settings(self) -> FaultSettings:
        """The switches in force now."""
        with self._lock:
            return replace(self._settings, burst_429=self._burst_left)

    def update(self, settings: FaultSettings) -> None:
        """Replace every switch (a fresh ``burst_429`` restarts the burst)."""
        with self._lock:
            self._settings = settings
            self._burst_left = settings.burst_429

    def roll(self, name: str) -> bool:
        """True with the probability of the rate switch ``name`` (never for a rate of zero)."""
        with self._lock:
            rate = getattr(self._settings, name)
            if rate <= 0:
                return False
            return rate >= 1 or self._rng.random() < rate

    def take_429(self) -> bool:
        """True (and one fewer left) while a 429 burst lasts."""
        with self._lock:
            if self._burst_left <= 0:
                return False
            self._burst_left -= 1
            return True
