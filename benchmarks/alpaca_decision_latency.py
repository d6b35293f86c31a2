"""Bar close to order acknowledged, through the desk's engine, alpaca-py and the sandbox.

For each bar: the sandbox completes a bar (``/admin/step``), then the clock starts; the session
fetches the new bar over HTTP, runs its strategy and risk checks, writes the order row (committed
before sending, as on the live path) and submits through alpaca-py; the clock stops when the
sandbox's acknowledgement is back. A strategy that flips between flat and long makes every bar
an order. Prints p50/p99/max over the orders; run with
``python -m benchmarks.alpaca_decision_latency``.
"""

from __future__ import annotations

import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tui_trader.core.domain import Bar, Signal


class Flip:
    """Long on even bars, flat on odd ones: one order per bar per symbol."""

    name = "flip"

    def __init__(self) -> None:
        self.n = 0

    def on_bar(self, bar: Bar) -> Signal:
        """Alternate."""
        self.n += 1
        return Signal(1.0 if self.n % 2 else 0.0, "flip")


def measure(orders: int) -> list[float]:
    """Milliseconds from bar close to acknowledgement for ``orders`` orders."""
    from tests.integration.alpaca_helpers import alpaca_session
    from tui_trader.risk.limits import RiskLimits
    from tui_trader.sandbox.testing import running_sandbox
    from tui_trader.strategies import FixedWeights

    latencies: list[float] = []
    with running_sandbox(symbols=("SPY",), faults="rate_limit=0") as sb:
        db = Path(tempfile.mkdtemp()) / "bench.db"
        limits = RiskLimits(
            max_orders_per_day=1_000_000,
            max_position_pct=100,
            max_drawdown_pct=90,
            max_daily_loss_pct=90,
        )
        # The sandbox runs without a rate limit, and so does the session's client-side request
        # budget here: a bar a few milliseconds after the last is ~40 times Alpaca's 200
        # requests a minute, and the budget's waits would be measured instead of the path.
        session = alpaca_session(
            sb,
            db,
            symbols=("SPY",),
            limits=limits,
            allocation_pct=50,
            requests_per_minute=1_000_000,
        )
        session.strategies[:] = [Flip()]
        session.allocator = FixedWeights({"flip": 1.0})
        gc.freeze()  # what ``SessionRunner.run`` does before a process's first cycle
        broker = session.broker
        original = broker.submit
        acks: list[float] = []

        def timed_submit(request):
            order = original(request)
            acks.append(time.perf_counter())
            return order

        broker.submit = timed_submit
        try:
            while len(latencies) < orders:
                sb.admin.step()
                start = time.perf_counter()
                acks.clear()
                session.run_iteration()
                latencies.extend(a - start for a in acks)
        finally:
            broker.close()
    return [x * 1000 for x in latencies[:orders]]


def main() -> None:
    """Run the measurement and print the figures."""
    ms = sorted(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
    p99 = ms[int(0.99 * (len(ms) - 1))]
    print(f"bar close -> order acknowledged by the sandbox via alpaca-py, {len(ms)} orders:")
    print(f"  p50 {statistics.median(ms):.2f} ms   p99 {p99:.2f} ms   max {ms[-1]:.2f} ms")


if __name__ == "__main__":
    main()
