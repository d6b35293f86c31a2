"""The learning system: regime detection and strategy weights that adapt to their results."""
