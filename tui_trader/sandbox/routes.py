"""The sandbox's REST route table: method and path pattern to handler."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import tui_trader.sandbox.account_api as account_api
import tui_trader.sandbox.data_api as data_api
import tui_trader.sandbox.data_latest as data_latest
import tui_trader.sandbox.trading_api as trading_api
from tui_trader.sandbox.errors import ApiError
from tui_trader.sandbox.request import Reply, Request

if TYPE_CHECKING:
    from tui_trader.sandbox.app import Sandbox

Handler = Callable[["Sandbox", Request, re.Match[str]], Reply]

_SYMBOL = r"(?P<symbol>[^/]+)"
_TABLE: list[tuple[str, str, Handler]] = [
    ("GET", r"/v2/account", trading_api.get_account),
    ("GET", r"/v2/account/configurations", account_api.get_configurations),
    ("PATCH", r"/v2/account/configurations", account_api.patch_configurations),
    ("GET", r"/v2/account/activities(?:/(?P<type>[A-Za-z_]+))?", account_api.get_activities),
    ("GET", r"/v2/account/portfolio/history", account_api.get_portfolio_history),
    ("GET", r"/v2/orders", trading_api.get_orders),
    ("POST", r"/v2/orders", trading_api.post_order),
    ("DELETE", r"/v2/orders", trading_api.cancel_orders),
    ("GET", r"/v2/orders:by_client_order_id", trading_api.get_order_by_client_id),
    ("GET", r"/v2/orders/(?P<id>[^/]+)", trading_api.get_order),
    ("DELETE", r"/v2/orders/(?P<id>[^/]+)", trading_api.cancel_order),
    ("PATCH", r"/v2/orders/(?P<id>[^/]+)", trading_api.patch_order),
    ("GET", r"/v2/positions", trading_api.get_positions),
    ("DELETE", r"/v2/positions", trading_api.close_positions),
    ("GET", r"/v2/positions/(?P<symbol>[^/]+)", trading_api.get_position),
    ("DELETE", r"/v2/positions/(?P<symbol>[^/]+)", trading_api.close_position),
    ("GET", r"/v2/assets", trading_api.get_assets),
    ("GET", r"/v2/assets/(?P<symbol>[^/]+)", trading_api.get_asset),
    ("GET", r"/v2/clock", account_api.get_clock),
    ("GET", r"/v2/calendar", account_api.get_calendar),
    ("GET", r"/v2/stocks/bars", data_api.get_bars),
    ("GET", r"/v2/stocks/trades", data_api.get_trades),
    ("GET", r"/v2/stocks/quotes", data_api.get_quotes),
    ("GET", r"/v2/stocks/bars/latest", data_latest.get_latest_bars),
    ("GET", r"/v2/stocks/quotes/latest", data_latest.get_latest_quotes),
    ("GET", r"/v2/stocks/trades/latest", data_latest.get_latest_trades),
    ("GET", r"/v2/stocks/snapshots", data_latest.get_snapshots),
    ("GET", rf"/v2/stocks/{_SYMBOL}/bars", data_api.get_symbol_bars),
    ("GET", rf"/v2/stocks/{_SYMBOL}/trades", data_api.get_symbol_trades),
    ("GET", rf"/v2/stocks/{_SYMBOL}/quotes", data_api.get_symbol_quotes),
    ("GET", rf"/v2/stocks/{_SYMBOL}/bars/latest", data_latest.get_symbol_latest_bar),
    ("GET", rf"/v2/stocks/{_SYMBOL}/quotes/latest", data_latest.get_symbol_latest_quote),
    ("GET", rf"/v2/stocks/{_SYMBOL}/trades/latest", data_latest.get_symbol_latest_trade),
    ("GET", rf"/v2/stocks/{_SYMBOL}/snapshot", data_latest.get_symbol_snapshot),
]
ROUTES = [(method, re.compile(pattern), handler) for method, pattern, handler in _TABLE]


def is_market_data(path: str) -> bool:
    """True for Market Data API paths (their auth errors differ from the trading API's)."""
    return path.startswith("/v2/stocks")


def dispatch(sb: Sandbox, req: Request) -> Reply:
    """Run the handler for ``req``: 404 for an unknown path, 405 for a known path's wrong verb."""
    path_known = False
    for method, pattern, handler in ROUTES:
        match = pattern.fullmatch(req.path)
        if match is None:
            continue
        path_known = True
        if method == req.method:
            return handler(sb, req, match)
    if path_known:
        raise ApiError(405, 40510000, "method not allowed")
    raise ApiError(404, 40410000, "endpoint not found")
