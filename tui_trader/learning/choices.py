"""The learner's options and their defaults, in a module light enough for a front end's help.

``paper --help``, ``learn evaluate`` and the setup screen offer these before anything is built;
importing them loads the strategies' names, not the learner (issue 17: a subcommand's help loads
only what it shows). ``learning.setup`` checks a choice and builds what it names.
"""

from __future__ import annotations

from tui_trader.strategies.family import STRATEGY_NAMES

DEFAULT_LEARNING_RATE = 0.03
"""Step size of the multiplicative update per volatility-scaled reward (tuned on seeds 101-120)."""
DEFAULT_FLOOR = 0.05
"""No strategy's weight falls below this share."""
MAX_LEARNING_RATE = 1.0
"""The largest step the adaptive weights take (over 30 times the default)."""
WEIGHT_MODES: tuple[str, ...] = ("adaptive", "equal", *STRATEGY_NAMES)
"""Every value ``--weights`` accepts."""
