"""Checks of the suite that fail on main today, each named with the branch that fixes it."""

from __future__ import annotations

import pytest


def known_failure(branch: str, what: str) -> pytest.MarkDecorator:
    """A check that fails on main today, for a defect whose fix is on ``branch``.

    Strict: the whole check still runs, and the test turns red the day it passes, so that the
    marker is removed when the fix lands (never left to hide a regression).
    """
    return pytest.mark.xfail(
        strict=True, reason=f"fails on main: {what} (fix on branch {branch}; then remove this)"
    )
