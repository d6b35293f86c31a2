"""Fixtures of the reliability suite (its figures' summary is in ``summary.py``, hooked in by
``tests/conftest.py`` so that it runs whatever paths pytest is given)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def trial_dir(tmp_path: Path) -> Path:
    """A working folder for one trial's children (their output files and databases)."""
    folder = tmp_path / "trial"
    folder.mkdir()
    return folder
