"""Order round-trip time through alpaca-py's ``submit_order`` to the local sandbox, over loopback.

Starts a sandbox (market paused, rate limit off), sends ``--orders`` one-share market orders
alternating buy and sell, each with its own ``client_order_id``, and prints the median and the
99th percentile of the wall time ``submit_order`` took. Run from the repository root:

    python benchmarks/sandbox_roundtrip.py [--orders 1000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    """Measure and print the figures."""
    from alpaca.trading.client import TradingClient
    from alpaca.trading.enums import OrderSide, TimeInForce
    from alpaca.trading.requests import MarketOrderRequest

    from tui_trader.sandbox.testing import make_fast, running_sandbox

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    args = parser.parse_args()
    with running_sandbox(faults="rate_limit=0") as sb:
        client = make_fast(
            TradingClient(sb.key_id, sb.secret, paper=True, url_override=sb.base_url)
        )
        client.get_account()  # open the keep-alive connection before timing
        times = []
        for i in range(args.orders):
            order = MarketOrderRequest(
                symbol="SPY",
                qty=1,
                side=OrderSide.BUY if i % 2 == 0 else OrderSide.SELL,
                time_in_force=TimeInForce.DAY,
                client_order_id=f"bench-{i}",
            )
            started = time.perf_counter()
            client.submit_order(order)
            times.append(time.perf_counter() - started)
        filled = sb.admin.state()["orders"]["total"]
    times.sort()
    p99 = times[min(int(len(times) * 0.99), len(times) - 1)]
    print(
        f"submit_order round trip over loopback, {len(times)} orders ({filled} accepted): "
        f"median {statistics.median(times) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, "
        f"max {times[-1] * 1000:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
