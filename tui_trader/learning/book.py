"""The account ``learn evaluate`` trades: the engine's order sizing and the paper broker's fills.

``learn evaluate`` and the engine (``paper --data replay:FILE``) must give one answer, so this
book follows the engine's rules rather than a simpler model of its own:

- a decision is made at a bar's close and sized from the equity and the close of that bar
  (``OrderRouting._rebalance``): ``target x allocation x equity / close`` shares, fractional;
- a rebalance smaller than ``min_trade_pct`` of a full-conviction position is skipped unless it
  exits the position (``SessionConfig.min_trade_pct``, default 10);
- a buy is refused when its cost at this close plus the slippage is more than the cash left
  after the buys already sent (``PaperBroker._rejection``: sells free cash only once filled);
- the order fills at the next bar's open moved against us by the slippage, rounded to four
  decimals, in submission order (sorted symbols), and a buy that costs more than the cash left
  is cancelled (``PaperBroker._try_fill``);
- equity is cash plus the shares at each bar's close.

Amounts are in units of the starting equity (1.0); prices are the bars' own.
"""

from __future__ import annotations

from tui_trader.core.domain import Bar

MIN_TRADE_PCT = 10.0
"""The engine's default ``SessionConfig.min_trade_pct`` (a test keeps them equal)."""


class PaperBook:
    """Cash, shares and orders waiting for the next bar; turnover and costs paid so far."""

    def __init__(self, slippage_bps: float, min_trade_pct: float = MIN_TRADE_PCT) -> None:
        self.slip = slippage_bps / 10_000.0
        self.min_trade = min_trade_pct / 100.0
        self.cash = 1.0
        self.shares: dict[str, float] = {}
        self.pending: dict[str, float] = {}
        """Signed share quantities to fill at the next bar's open, by symbol."""
        self._reserved: dict[str, tuple[float, float]] = {}
        """The waiting buys: shares and the price the broker reserved cash at."""
        self.turnover = 0.0
        """Value traded, in multiples of the equity at the time of each trade."""
        self.paid = 0.0
        """Slippage paid, in units of the starting equity."""
        self.equity = 1.0

    def fill(self, step: dict[str, Bar]) -> None:
        """Fill the waiting orders at this bar's open, in the order they were sent."""
        if not self.pending:
            return
        equity = self.equity
        for symbol, qty in self.pending.items():
            bar = step.get(symbol)
            if bar is None:
                continue
            price = round(bar.open * (1.0 + self.slip * (1.0 if qty > 0 else -1.0)), 4)
            if qty > 0 and qty * price > self.cash + 1e-12:
                continue  # the broker cancels a buy it cannot pay for
            self.cash -= qty * price
            self.shares[symbol] = self.shares.get(symbol, 0.0) + qty
            self.turnover += abs(qty) * price / equity if equity > 0 else 0.0
            self.paid += abs(qty) * abs(price - bar.open)
        self.pending = {}
        self._reserved = {}

    def mark(self, step: dict[str, Bar]) -> float:
        """Equity at this bar's closes (cash plus shares held)."""
        value = self.cash
        for symbol, qty in self.shares.items():
            bar = step.get(symbol)
            if bar is not None and qty:
                value += qty * bar.close
        self.equity = value
        return value

    def order(self, symbol: str, target: float, allocation: float, close: float) -> None:
        """Rebalance ``symbol`` toward ``target`` of a full position, as the engine sizes it."""
        equity = self.equity
        if equity <= 0 or close <= 0:
            return
        full = equity * allocation
        desired = target * full / close
        delta = desired - self.shares.get(symbol, 0.0)
        if abs(delta) * close < 1e-12:
            return
        if abs(delta) * close < self.min_trade * full and desired != 0:
            return
        if delta > 0:  # the broker refuses a buy the cash left cannot pay for at this close
            reserved = sum(q * p for q, p in self._reserved.values())
            if delta * close * (1.0 + self.slip) > self.cash - reserved + 1e-12:
                return
            self._reserved[symbol] = (delta, close * (1.0 + self.slip))
        self.pending[symbol] = delta
