"""The adaptive learning system: regime detection, shadow records and weights that learn.

Imports only the standard library, polars and the project's own core modules; the store
implements the ``LearningJournal`` port that saves and restores what was learned.
"""
