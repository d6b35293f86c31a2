"""The package's bytecode written once before the suite starts, as ``pip install`` leaves it.

Some shells and CI images set ``PYTHONDONTWRITEBYTECODE`` (this machine's does). Python then
still reads cached bytecode but never writes it, so with a clone's tree uncached every child
``python -m tui_trader`` the suite starts (hundreds of them) compiled our modules from source
again: ~0.15 s of CPU for a ``paper`` run, ~0.03 s for a read command, each time.
``compileall`` writes the cache whatever the variable says (it is what ``benchmarks`` does
before timing for the same reason); a module already cached and unchanged is only checked.
The cache sits in the tree's ``__pycache__`` folders, which git ignores.
"""

from __future__ import annotations

import compileall
from pathlib import Path

import pytest

import tui_trader


def compile_package() -> None:
    """Write the bytecode of every module of ``tui_trader`` that is not cached yet (quietly:
    a read-only install, already compiled by pip, is left as it is)."""
    compileall.compile_dir(Path(tui_trader.__file__).parent, quiet=2)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """In the main pytest process only (an xdist worker starts after it), before any test."""
    if not hasattr(config, "workerinput"):
        compile_package()
