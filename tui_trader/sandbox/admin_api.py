"""The sandbox's own ``/admin`` endpoints: look at its state, step its market, flip faults.

They are not Alpaca's. They need the sandbox's keys (the same ``APCA-API-KEY-ID`` and
``APCA-API-SECRET-KEY`` headers as the API: the server checks them), and no fault ever touches
them, so a test can always reach them. Errors are ``{"message": ...}`` with status 400 (bad
input), 401 (no or wrong keys) or 404 (unknown endpoint).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui_trader.sandbox.cash_moves import move_cash
from tui_trader.sandbox.faults import FaultSettings, FaultSpecError, apply_changes, parse_faults
from tui_trader.sandbox.request import Reply, Request

if TYPE_CHECKING:
    from tui_trader.sandbox.app import Sandbox

MAX_STEP = 10_000
MAX_SHOCK = 1_000.0
"""The largest shock, in percent (a price times 11): a finite level every later bar can carry."""


def handle_admin(sb: Sandbox, req: Request) -> Reply:
    """Serve one ``/admin`` request."""
    try:
        body = req.json() if req.body else {}
    except Exception:
        return 400, {"message": "body is not JSON"}
    if req.method == "POST" and not isinstance(body, dict):
        return 400, {"message": "body must be a JSON object"}
    route = (req.method, req.path)
    try:
        if route == ("GET", "/admin/state"):
            return 200, sb.state()
        if route == ("POST", "/admin/step"):
            return 200, _step(sb, body)
        if route == ("POST", "/admin/faults"):
            return 200, {"faults": _faults(sb, body).as_json()}
        if route == ("POST", "/admin/drop_streams"):
            return 200, {"dropped": sb.streams.drop_all()}
        if route == ("POST", "/admin/options_order"):
            return 200, _options_order(sb, body)
        if route == ("POST", "/admin/cash"):
            return 200, move_cash(sb, body)
        if route == ("POST", "/admin/coin_order"):
            return 200, _coin_order(sb, body)
        if route == ("POST", "/admin/outside_position"):
            return 200, _outside_position(sb, body)
        if route == ("POST", "/admin/speed"):
            sb.set_speed(float(body.get("speed", -1)))
            return 200, sb.state()
    except (FaultSpecError, ValueError, TypeError, OverflowError) as exc:  # 'bars': 1e309
        return 400, {"message": str(exc)}
    return 404, {"message": f"no admin endpoint {req.method} {req.path}"}


def _step(sb: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    """``{"bars": N, "shock": {"SPY": -2.0}}``: advance N bars, the shock (percent) first."""
    bars = int(body.get("bars", 1))
    if not 1 <= bars <= MAX_STEP:
        raise ValueError(f"bars must be between 1 and {MAX_STEP}")
    shock = body.get("shock") or {}
    if not isinstance(shock, dict) or any(s not in sb.feed.symbols for s in shock):
        raise ValueError("shock must map simulated symbols to percentages")
    levels = {s: float(v) for s, v in shock.items()}
    # NaN, -100 or less, or a huge one left the symbol's price NaN, zero, negative or infinite
    # for the rest of the sandbox's life (every later bar is scaled by the same level)
    if any(not -100.0 < v <= MAX_SHOCK for v in levels.values()):
        raise ValueError(f"a shock is a percentage above -100 and at most {MAX_SHOCK:,.0f}")
    sb.step(bars, levels)
    return sb.state()


def _options_order(sb: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    """``{"legs": [["SPY261218C00500000", "buy"], ...], "qty": 1, "limit_price": 1.5}``: a
    multi-leg options order placed from outside the desk (``sandbox.options_orders``)."""
    legs = body.get("legs")
    if not isinstance(legs, list) or not all(isinstance(x, list) and len(x) == 2 for x in legs):
        raise ValueError("legs must be a list of [contract, side] pairs")
    pairs = [(str(contract), str(side)) for contract, side in legs]
    return sb.options.place(pairs, float(body.get("qty", 1)), float(body.get("limit_price", 1)))


def _coin_order(sb: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    """``{"symbol": "BTC/USD", "side": "buy", "qty": 0.05, "limit_price": 50000}``: a
    cryptocurrency limit order placed from outside the desk (``sandbox.options_orders``)."""
    return sb.options.place_coin(
        str(body.get("symbol", "")),
        str(body.get("side", "")),
        float(body.get("qty", 0)),
        float(body.get("limit_price", 0)),
    )


def _outside_position(sb: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    """``{"symbol": "BTC/USD", "asset_class": "crypto", "qty": 0.25, "price": 60000}``: a
    holding bought by hand outside the equities (``sandbox.outside_positions``), paid from
    the account's cash; the account's positions outside the equities as listed."""
    held = sb.outside.place(
        str(body.get("symbol", "")),
        str(body.get("asset_class", "")),
        float(body.get("qty", 0)),
        float(body.get("price", 0)),
    )
    with sb.engine.lock:
        sb.engine.ledger.cash -= held.value
    return {"positions": sb.outside.listed()}


def _faults(sb: Sandbox, body: dict[str, Any]) -> FaultSettings:
    """``{"reset": true}``, ``{"spec": "latency=0.2"}`` and/or ``{"name": value, ...}``."""
    changes = dict(body)
    base = FaultSettings() if changes.pop("reset", False) else sb.dice.settings
    spec = changes.pop("spec", None)
    if spec is not None:
        base = parse_faults(str(spec), base)
    settings = apply_changes(base, changes)
    sb.dice.update(settings)
    return settings
