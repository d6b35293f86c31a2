"""Single-value options are given once: a repeat is refused, not silently the last one.

argparse's ``store`` actions let the last of ``--max-drawdown 5 --max-drawdown 50`` win, so a
limit typed early in a long command line (or in a shell alias) was quietly widened by a later
one, and ``--db a.db --db b.db`` wrote to b.db. Every parser of the command line registers these
actions in place of argparse's ``store``, ``store_const``, ``store_true`` and ``store_false``:
the second time an option's destination is set in one parse is one line and exit 2 naming the
option (and not its values: one may be a secret). Options meant to repeat (``action="append"``
such as ``--alert`` and ``--window``, ``nargs="+"`` lists such as ``learn evaluate --data``)
are untouched.
"""

from __future__ import annotations

import argparse
from typing import Any

_SEEN = "_tui_trader_options_given"
"""The namespace attribute holding the destinations set so far in one parse (removed after)."""


class _Once:
    """Mixin: refuse an option whose destination this parse has already set."""

    dest: str

    def __call__(  # type: ignore[no-untyped-def]
        self, parser, namespace, values, option_string=None
    ) -> None:
        """Set the value as the base action does, unless the option was given before."""
        if option_string is not None:  # positionals are counted by argparse itself
            seen: set[str] = namespace.__dict__.setdefault(_SEEN, set())
            if self.dest in seen:
                raise argparse.ArgumentError(
                    self,  # type: ignore[arg-type]
                    "given more than once: give it once (the last one would have been taken "
                    "silently)",
                )
            seen.add(self.dest)
        super().__call__(parser, namespace, values, option_string)  # type: ignore[misc]


class OnceStore(_Once, argparse._StoreAction):
    """``store``, once."""


class OnceStoreConst(_Once, argparse._StoreConstAction):
    """``store_const``, once."""


class OnceStoreTrue(_Once, argparse._StoreTrueAction):
    """``store_true``, once."""


class OnceStoreFalse(_Once, argparse._StoreFalseAction):
    """``store_false``, once."""


def register_once_actions(parser: argparse.ArgumentParser) -> None:
    """Make ``parser``'s single-value actions refuse a repeat (call before adding options)."""
    parser.register("action", None, OnceStore)
    parser.register("action", "store", OnceStore)
    parser.register("action", "store_const", OnceStoreConst)
    parser.register("action", "store_true", OnceStoreTrue)
    parser.register("action", "store_false", OnceStoreFalse)


def forget_given(namespace: Any) -> None:
    """Drop the parse's bookkeeping from ``namespace`` (it is no option)."""
    vars(namespace).pop(_SEEN, None)
