"""``python -m benchmarks.call_counts``: every function one replay calls, how often, by code object.

Call counts do not move with the machine's load, so two versions of the code can be compared
from one run each (``diff`` two outputs): a change of a few percent in speed that no count
explains is the machine's noise or lies inside an unchanged function's body.

Counted per code object, not through ``pstats``: ``pstats`` keys a function by file, first line
and name, and every ``__init__``, ``__eq__`` or ``__repr__`` that ``dataclasses`` generates is
``('<string>', 2, '__init__')``, so all of them collapse into one row holding one of them (a
replay's 41,579 builds of the rebalance's frozen ``Move`` were shown as 1 call). Here such a
function is named after its class (``tui_trader.engine.order_legs.Move.__init__``).
"""

from __future__ import annotations

import argparse
import cProfile
import sys
import tempfile
from pathlib import Path
from types import CodeType, FunctionType

from benchmarks import engines
from benchmarks.harness import load_universe, save_universe
from benchmarks.replay_bench import REPLAY


def generated_names() -> dict[CodeType, str]:
    """The loaded package's classes' generated functions (compiled from ``'<string>'``: a
    dataclass's ``__init__``, a named tuple's ``__new__``), by code object: their class's
    qualified names."""
    names: dict[CodeType, str] = {}
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("tui_trader") or module is None:
            continue
        for value in list(vars(module).values()):
            if not isinstance(value, type) or value.__module__ != module_name:
                continue
            for attr in vars(value).values():
                attr = getattr(attr, "__func__", attr)  # staticmethod (a named tuple's __new__)
                if isinstance(attr, FunctionType) and attr.__code__.co_filename == "<string>":
                    names[attr.__code__] = f"{module_name}.{attr.__qualname__}"
    return names


def label(code: CodeType | str, names: dict[CodeType, str]) -> str:
    """A profile entry's name: built-ins as cProfile words them, our code by module path."""
    if isinstance(code, str):
        return code
    known = names.get(code)
    if known is not None:
        return known
    path = code.co_filename
    short = path.split("/tui_trader/", 1)[-1] if "/tui_trader/" in path else path
    return f"{short}:{code.co_qualname}"


def main(argv: list[str] | None = None) -> int:
    """Profile one replay and print its calls, most called first."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.call_counts")
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--bars", type=int, default=1500)
    parser.add_argument("--crossover", action="store_true", help="the crossover, not the pipeline")
    parser.add_argument("--top", type=int, default=80, help="rows printed (default 80)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        data = save_universe(Path(tmp) / "universe.npz", args.symbols, args.bars)
        universe = load_universe(data)
    engines._import_session_modules()
    profile = cProfile.Profile()
    profile.enable()
    outcome = engines.ours(universe, full=not args.crossover, **REPLAY)
    profile.disable()
    names = generated_names()
    counts: dict[str, list[float]] = {}
    for entry in profile.getstats():
        row = counts.setdefault(label(entry.code, names), [0, 0.0])
        row[0] += entry.callcount
        row[1] += entry.inlinetime
    total = sum(int(calls) for calls, _ in counts.values())
    print(
        f"{args.symbols} × {args.bars:,}: {outcome.trades} trades, {outcome.orders} orders, "
        f"{total:,} calls"
    )
    print("calls\tinline s (profiled)\tfunction")
    for name, (calls, inline) in sorted(counts.items(), key=lambda kv: -kv[1][0])[: args.top]:
        print(f"{int(calls)}\t{inline:.3f}\t{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
