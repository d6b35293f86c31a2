"""Every refusal of a ``.env`` names the line an editor shows, blank lines above it counted.

python-dotenv numbers a setting from the blank lines before it, not from its own text: a key
with an unclosed quote on line 4 after two blank lines was refused as "line 2", and a key set
twice on lines 3 and 5 as "lines 2 and 4" (review29a). ``hostile28c``'s skipped lines were
numbered right; the refusals beside them, in the same file's reading, were not. The user went
to the line named, found another setting there, and could not see what was wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.cli_helpers import run_cli

SECRET = "hunter2-review29a"
"""A secret's value, which no refusal may show."""


@pytest.mark.parametrize(
    ("lines", "said"),
    [
        (
            ["A=1", "", "", f'APCA_API_KEY_ID="{SECRET}'],
            ": line 4 cannot be read (an unclosed quote?)",
        ),
        (
            ["# keys", "", "APCA_API_KEY_ID=PKONE", "", "APCA_API_KEY_ID=PKTWO"],
            ": APCA_API_KEY_ID is set twice, differently (lines 3 and 5)",
        ),
        (
            ["APCA_API_KEY_ID=PKONE", "", "", f"\ufeffAPCA_API_SECRET_KEY={SECRET}"],
            ": line 4: APCA_API_SECRET_KEY is written with an invisible character",
        ),
    ],
    ids=["unclosed-quote", "set-twice", "bom-before-a-name"],
)
def test_a_refused_dotenv_names_the_line_the_editor_shows(
    tmp_path: Path, lines: list[str], said: str
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = run_cli(tmp_path, "live", "status")
    assert out.returncode == 2 and out.stdout == "", out.stdout + out.stderr
    assert out.stderr.startswith(f"tui-trader: error: {env_file}{said}"), out.stderr
    assert out.stderr.count("\n") == 1 and SECRET not in out.stderr
