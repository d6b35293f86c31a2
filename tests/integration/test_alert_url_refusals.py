"""An alert URL apprise cannot read is refused in one line, its secrets masked, never a crash.

The masked form of an unreadable URL came from ``urlsplit``, which raises on a bracket left
open (``json://user:pass@[::1``): ``alert test`` and ``paper --alert`` crashed (exit 1, crash
log) instead of saying the URL is not one apprise understands.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_bad_input import assert_one_line_exit_2, run_main

SECRET = "hunter2-alert-secret"


@pytest.mark.parametrize(
    "argv",
    [
        ["alert", "test", "--alert", f"json://user:{SECRET}@[::1"],
        ["paper", "--alert", f"json://user:{SECRET}@[::1", "--iterations", "1"],
        ["alert", "test", "--alert", f"\x1b[2J://{SECRET}"],
    ],
    ids=["alert-test-open-bracket", "paper-open-bracket", "escape-scheme"],
)
def test_an_unreadable_alert_url_is_refused_masked(
    place: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err, _ = run_main(argv, capsys)
    assert_one_line_exit_2(code, out, err, "not an alert URL apprise understands", place)
    assert SECRET not in err
