"""What the whole-request deadline costs one Alpaca request, over loopback to the sandbox.

Two alpaca-py clients on one in-process sandbox: one ``prepare``d as the desk does (each request
under ``brokers.request_deadline``), one prepared as before it (the socket timeout alone).
``--calls`` ``get_account`` each, interleaved, and the median and 99th percentile of each; then
the deadline's wrapper alone around a call that does nothing. Run from the repository root:

    python benchmarks/request_deadline_cost.py [--calls 3000]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _prepared_before(client: Any, timeout: float) -> Any:
    """A client prepared as before the whole-request deadline: the socket timeout only."""
    from tui_trader.brokers.alpaca_calls import remember_environment

    client._retry = 0
    client._retry_wait = 0
    remember_environment(client._session)
    client._session.request = functools.partial(client._session.request, timeout=timeout)
    return client


def main() -> int:
    """Measure and print the figures."""
    from alpaca.trading.client import TradingClient

    from tui_trader.brokers.alpaca_calls import CallPolicy, prepare
    from tui_trader.brokers.request_deadline import with_deadline
    from tui_trader.sandbox.testing import running_sandbox

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    policy = CallPolicy()
    with running_sandbox(faults="rate_limit=0") as sb:

        def client() -> Any:
            return TradingClient(sb.key_id, sb.secret, paper=True, url_override=sb.base_url)

        clients = {
            "before": _prepared_before(client(), policy.timeout),
            "after": prepare(client(), policy),
        }
        times: dict[str, list[float]] = {name: [] for name in clients}
        for c in clients.values():
            c.get_account()  # open the keep-alive connection before timing
        for i in range(args.calls):
            for name in sorted(clients, reverse=i % 2 == 1):
                started = time.perf_counter()
                clients[name].get_account()
                times[name].append(time.perf_counter() - started)
    for name, taken in times.items():
        taken.sort()
        p99 = taken[min(int(len(taken) * 0.99), len(taken) - 1)]
        print(
            f"{name}: get_account over loopback, {len(taken)} calls: median "
            f"{statistics.median(taken) * 1000:.3f} ms, p99 {p99 * 1000:.3f} ms"
        )
    nothing = with_deadline(lambda: None, policy.timeout)
    started = time.perf_counter()
    for _ in range(100_000):
        nothing()
    each = (time.perf_counter() - started) / 100_000 * 1e6
    print(f"the deadline's wrapper alone (no HTTP): {each:.2f} us a call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
