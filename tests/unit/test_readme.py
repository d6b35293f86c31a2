"""README's two commands are the project's contract: CI must run the second one verbatim."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Start here")
    blocks = re.findall(r"```bash\n(.*?)\n```", text[start:], flags=re.S)
    return [b.strip() for b in blocks[:2]]


def test_readme_opens_with_an_install_and_run_command_and_a_test_command() -> None:
    """The first command installs and starts the desk; the second installs and runs pytest."""
    run, test = _readme_commands()
    assert "pip install" in run and run.endswith("tui-trader")
    assert "pip install" in test and "pytest" in test


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    """.ci/run's last command line is exactly README's test command."""
    ci_lines = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ci_lines[-1].strip() == _readme_commands()[1]
