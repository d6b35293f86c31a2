"""The printed table of ``python -m benchmarks`` (Markdown, so it pastes into the README)."""

from __future__ import annotations

from typing import Any


def render(results: dict[str, Any]) -> str:
    """All sections as Markdown tables."""
    m = results["machine"]
    out = [
        f"tui_trader benchmarks, {results['date']}, {m['cores']} cores, {m['memory_gb']} GB, "
        f"Python {m['python']}; median (min–max) of {results['runs']} run(s)"
        + (" — QUICK: tiny sizes, figures meaningless" if results["quick"] else ""),
        "",
    ]
    if "replay" in results:
        out += _replay(results["replay"])
    for name in ("latency", "audit", "pg", "tui", "footprint", "startup"):
        if name in results:
            out += _generic(name, results[name])
    return "\n".join(out)


def _replay(rows: list[dict[str, Any]]) -> list[str]:
    """Section 1."""
    lines = [
        "### 1. Replay throughput (crossover 10/30, long-only, all-in, next-open fills, no costs)",
        "",
        "| data | engine | bars run | bars/s | bars/s, whole process | ours ÷ this "
        "| peak RSS MB (data loaded) "
        "| trades | final equity | agrees with plain loop |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['data']} | {r['engine']} | {r['bars_run']:,} | {r['bars_per_s'].fmt()} "
            f"| {r['whole_bars_per_s'].fmt()} "
            f"| {r['ours_over_this'].fmt('.2f')} | {r['peak_rss_mb'].median:,.0f} "
            f"({r['data_rss_mb']:,.0f}) | {r['trades']:,} | {r['final_equity']:,.2f} "
            f"| {r['agrees']} |"
        )
    return [*lines, ""]


def _generic(name: str, rows: list[dict[str, Any]]) -> list[str]:
    """Sections 2-6: each row says what was measured, the figure, and the target."""
    titles = {
        "latency": "### 2. Decision latency",
        "audit": "### 3. Audit throughput (WAL, synchronous=NORMAL)",
        "pg": "### 3b. PostgreSQL audit store (loopback, fsync on)",
        "tui": "### 4. TUI cost",
        "footprint": "### 5. Footprint",
        "startup": "### 6. Start-up: help, and loading a long replay file",
    }
    lines = [titles[name], "", "| measure | figure | target | met |", "|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['measure']} | {r['figure']} | {r['target']} | {r['met']} |")
    return [*lines, ""]
