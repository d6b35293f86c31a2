"""nautilus_trader's BacktestEngine running the benchmark's crossover rule (see ``engines``).

One simulated venue with a cash account in USD and no fees, one ``Equity`` instrument and one
1-minute bar feed per symbol, a ``Strategy`` using nautilus's own ``SimpleMovingAverage``
indicators. Market orders sent on a bar fill at that bar's close, which the benchmark's data
makes equal to the next bar's open (every bar opens at the previous close), so the fills are the
other engines' fills; on the last bar it sends nothing, since elsewhere those orders would
never fill. With several symbols the strategy decides once all of a minute's bars have
arrived, as the other engines do. Set-up (instruments, the bars as nautilus objects, the
engine) is timed with the run: a user waits for it too.
"""

from __future__ import annotations

import math
import time
from decimal import Decimal
from typing import Any

from benchmarks.data import Series
from benchmarks.engines import FAST, SLOW, START_CASH, WARMUP, Outcome, rules

BIG_VOLUME = 1e12
"""Every bar's volume as nautilus sees it: its simulated venue fills at most a bar's volume, and
the other engines do not limit fills by volume."""


def nautilus_run(universe: list[Series]) -> Outcome:
    """The rule on nautilus_trader's BacktestEngine; bars, trades and final equity."""
    import logging

    import pandas as pd
    from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.data import BarType
    from nautilus_trader.model.enums import AccountType, OmsType
    from nautilus_trader.model.identifiers import InstrumentId, Symbol, TraderId, Venue
    from nautilus_trader.model.instruments import Equity
    from nautilus_trader.model.objects import Money, Price, Quantity
    from nautilus_trader.persistence.wranglers import BarDataWrangler

    logging.disable(logging.CRITICAL)
    start = time.perf_counter()
    venue = Venue("SIM")
    engine = BacktestEngine(
        BacktestEngineConfig(
            trader_id=TraderId("BENCH-001"), logging=LoggingConfig(log_level="ERROR")
        )
    )
    engine.add_venue(
        venue=venue,
        oms_type=OmsType.NETTING,
        account_type=AccountType.CASH,
        base_currency=USD,
        starting_balances=[Money(START_CASH, USD)],
    )
    bar_types = []
    for s in universe:
        instrument = Equity(
            instrument_id=InstrumentId(Symbol(s.symbol), venue),
            raw_symbol=Symbol(s.symbol),
            currency=USD,
            price_precision=2,
            price_increment=Price.from_str("0.01"),
            lot_size=Quantity.from_int(1),
            maker_fee=Decimal(0),
            taker_fee=Decimal(0),
            ts_event=0,
            ts_init=0,
        )
        engine.add_instrument(instrument)
        bar_type = BarType.from_str(f"{instrument.id}-1-MINUTE-LAST-EXTERNAL")
        frame = pd.DataFrame(
            {"open": s.open, "high": s.high, "low": s.low, "close": s.close, "volume": BIG_VOLUME},
            index=pd.to_datetime(s.ts_us, unit="us", utc=True),
        )
        engine.add_data(BarDataWrangler(bar_type, instrument).process(frame))
        bar_types.append(bar_type)
    strategy = _strategy_class()(bar_types, len(universe[0]))
    engine.add_strategy(strategy)
    engine.run()
    seconds = time.perf_counter() - start
    equity = strategy.equity()
    trades, orders = strategy.trades, strategy.orders
    engine.dispose()
    return Outcome(len(universe[0]) * len(universe), seconds, trades, equity, orders)


def _strategy_class() -> Any:
    """The Strategy subclass (defined here so that nautilus is imported only when run)."""
    from nautilus_trader.indicators import SimpleMovingAverage
    from nautilus_trader.model.enums import OrderSide
    from nautilus_trader.model.objects import Quantity
    from nautilus_trader.trading.strategy import Strategy

    class Crossover(Strategy):
        """The rule over every bar feed; decides once per minute, when all its bars are in."""

        def __init__(self, bar_types: list[Any], total_bars: int) -> None:
            super().__init__()
            self.total_bars = total_bars
            self.bar_types = bar_types
            self.ids = [b.instrument_id for b in bar_types]
            self.index = {iid: k for k, iid in enumerate(self.ids)}
            n = len(bar_types)
            self.alloc, self.min_trade = rules(n)
            self.fast = [SimpleMovingAverage(FAST) for _ in range(n)]
            self.slow = [SimpleMovingAverage(SLOW) for _ in range(n)]
            self.last = [0.0] * n
            self.pending = [0] * n
            self.held = [0] * n
            self.seen = 0
            self.bars = 0
            self.trades = 0
            self.orders = 0

        def on_start(self) -> None:
            """Feed the averages and subscribe to every symbol's bars."""
            for k, bar_type in enumerate(self.bar_types):
                self.register_indicator_for_bars(bar_type, self.fast[k])
                self.register_indicator_for_bars(bar_type, self.slow[k])
                self.subscribe_bars(bar_type)

        def on_bar(self, bar: Any) -> None:
            """Record the close; once the minute is complete, size and send its orders."""
            self.last[self.index[bar.bar_type.instrument_id]] = float(bar.close)
            self.seen += 1
            if self.seen < len(self.ids):
                return
            self.seen = 0
            self.bars += 1
            if self.bars <= WARMUP or self.bars == self.total_bars:
                return  # on the last bar: the other engines' orders would have no bar to fill
            equity = self.equity()
            sells, buys = [], []
            for k, iid in enumerate(self.ids):
                price = self.last[k]
                up = self.slow[k].initialized and self.fast[k].value > self.slow[k].value
                desired = float(math.trunc((1.0 if up else 0.0) * equity * self.alloc / price))
                delta = desired - (self.held[k] + self.pending[k])
                if abs(delta) < 1e-9:
                    continue
                if abs(delta) * price < self.min_trade * equity and desired != 0:
                    continue
                (buys if delta > 0 else sells).append((k, iid, int(delta)))
            for k, iid, delta in sells + buys:  # sells first: a cash account checks balance
                side = OrderSide.BUY if delta > 0 else OrderSide.SELL
                order = self.order_factory.market(iid, side, Quantity.from_int(abs(delta)))
                self.pending[k] += delta
                self.orders += 1
                self.submit_order(order)

        def on_order_filled(self, event: Any) -> None:
            """The order is no longer on its way."""
            k = self.index[event.instrument_id]
            qty = int(event.last_qty)
            signed = qty if event.order_side == OrderSide.BUY else -qty
            self.pending[k] -= signed
            before = self.held[k]
            self.held[k] += signed
            if before and not self.held[k]:
                self.trades += 1  # a round trip closed

        def equity(self) -> float:
            """Cash (the venue's account) plus holdings (from the fills) at the last closes."""
            account = self.portfolio.account(self.ids[0].venue)
            cash = float(account.balance_total().as_double())
            return cash + sum(h * p for h, p in zip(self.held, self.last, strict=True))

    return Crossover
