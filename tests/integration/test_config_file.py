"""The settings file: defaults for the trading commands, ``config show``, refusals in one line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui_trader.cli import main


def _write(folder: Path, text: str, name: str = "tui-trader.toml") -> Path:
    """A settings file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def _fails(args: list[str], capsys) -> str:
    """Run, expect exit 2, return stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_a_session_takes_its_options_from_the_file(tmp_path: Path, monkeypatch, capsys) -> None:
    """symbols and iterations from ./tui-trader.toml drive a paper run."""
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, 'symbols = ["QQQ"]\niterations = 3\nweights = "trend"\n')
    assert main(["paper", "--db", str(tmp_path / "a.db")]) == 0
    out = capsys.readouterr().out
    assert "Symbols: QQQ" in out and "Session completed: 3 iterations" in out


def test_a_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path, monkeypatch, capsys) -> None:
    """Windows Notepad's "UTF-8 with BOM": the file was refused as "not valid TOML: Invalid
    statement (at line 1, column 1)" though every line of it is valid."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tui-trader.toml").write_text('\ufeffsymbols = ["QQQ"]\r\niterations = 3\r\n')
    assert main(["paper", "--db", str(tmp_path / "a.db")]) == 0
    out = capsys.readouterr().out
    assert "Symbols: QQQ" in out and "Session completed: 3 iterations" in out


def test_config_show_says_where_each_setting_came_from(tmp_path: Path, monkeypatch, capsys) -> None:
    """Command line over file over default, each with its source."""
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, "# risk\nmax-drawdown = 3.5\ninterval = '1h'\nbackup_keep = 4\n")
    assert main(["config", "show", "--interval", "15m"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert rows["max_drawdown"][1:] == ["3.5", f"{path}:2"]
    assert rows["interval"][1:] == ["15m", "command", "line"]
    assert rows["backup_keep"][1:] == ["4", f"{path}:4"]
    assert rows["max_daily_loss"][1:] == ["2.0", "default"]


def test_config_show_masks_every_alert_url(tmp_path: Path, monkeypatch, capsys) -> None:
    """Each --alert is shown masked, whatever the first one looks like (one without '://'
    before it left the next one's password on the screen)."""
    monkeypatch.chdir(tmp_path)
    secret = "json://alice:Hunter2Pw@127.0.0.1:9/hook"
    for first in ("oops", "ntfy:/typo", secret):
        assert main(["config", "show", "--alert", first, "--alert", secret]) == 0
        row = next(line for line in capsys.readouterr().out.splitlines() if "  alert " in line)
        assert "Hunter2Pw" not in row
        assert "json://alice:****@127.0.0.1:9/hook" in row


def test_the_user_config_folder_is_read_when_the_working_directory_has_none(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """``$XDG_CONFIG_HOME/tui-trader/tui-trader.toml`` (the user's config folder)."""
    monkeypatch.chdir(tmp_path)
    path = _write(Path(os.environ["XDG_CONFIG_HOME"]) / "tui-trader", "max_orders_per_day = 7\n")
    assert main(["config", "show"]) == 0
    assert f"7                                {path}:1" in capsys.readouterr().out


def test_keys_and_secrets_are_refused_naming_the_line(tmp_path: Path, monkeypatch, capsys) -> None:
    """A credential's name, or an alert URL with a password: exit 2, file, line and key."""
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, 'interval = "1d"\nAPCA_API_SECRET_KEY = "abc123"\n')
    err = _fails(["config", "show"], capsys)
    assert f"{path}:2: key 'APCA_API_SECRET_KEY': keys and secrets never belong" in err
    assert "abc123" not in err
    _write(tmp_path, 'alert = ["json://127.0.0.1:9/ok", "mailto://me:hunter2@mail.example.com"]\n')
    err = _fails(["paper", "--iterations", "1", "--db", str(tmp_path / "a.db")], capsys)
    assert f"{path}:1: key 'alert': this URL carries a password or token" in err
    assert "hunter2" not in err


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("max_drawdown = 'lots'\n", ":1: key 'max_drawdown': not a number: 'lots'"),
        ("\n\nmax_drawdown = 250\n", ":3: key 'max_drawdown': must be a percentage"),
        ("flatten_on_halt = 'yes'\n", ":1: key 'flatten_on_halt': must be true or false"),
        ("weights = 'magic'\n", ":1: key 'weights': must be one of adaptive"),
        ("colour = 'red'\n", ":1: key 'colour': not an option of the trading commands"),
        ("symbols = ['SPY', 'spy!']\n", ":1: key 'symbols': invalid symbol 'SPY!'"),
        ("interval = \n", ":1: not valid TOML"),
        ("[paper]\nseed = 3\n", ":1: key 'paper': not an option"),
        ("enable-live = true\n", ":1: key 'enable-live': real-money switches are typed"),
        ("skip_readiness = true\n", ":1: key 'skip_readiness': real-money switches are typed"),
        # these three were refused later, as 'unknown period '5d!'' alone: no file, line or key
        ("seed = 3\nperiod = '5d!'\n", ":2: key 'period': unknown period '5d!'"),
        ("interval = 7\n", ":1: key 'interval': unknown interval '7'"),
        (
            "requests-per-minute = 0.5\n",
            ":1: key 'requests_per_minute': from 1 to 100,000 requests a minute, got '0.5'",
        ),
        ("data = 'replay:'\n", ":1: key 'data': unknown data source 'replay:'"),
        # taken, and the backup thread died at its first wait (OverflowError) (hostile28c)
        ("backup-every = 1e12\n", ":1: key 'backup_every': at most 10,080 minutes (a week)"),
        ("alert-retries = 11\n", ":1: key 'alert_retries': at most 10 (each waits a second"),
        # one option under both spellings: the last one was taken, silently (a 50% drawdown)
        (
            "max-drawdown = 5\nseed = 3\nmax_drawdown = 50\n",
            ":3: key 'max_drawdown': the same option as 'max-drawdown' on line 1: set it once",
        ),
        # the advice was "pass it with --alert on the command line"
        (
            "db = 'postgresql://trader:hunter2@127.0.0.1:1/desk'\n",
            ":1: key 'db': this URL carries a password or token: secrets never belong in the "
            "settings file; put the password in PGPASSWORD or ~/.pgpass",
        ),
    ],
)
def test_a_bad_file_is_one_line_naming_file_line_and_key(
    tmp_path: Path, monkeypatch, capsys, text: str, words: str
) -> None:
    """Every kind of mistake: exit 2, before anything runs."""
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, text)
    err = _fails(["paper", "--iterations", "1", "--db", str(tmp_path / "a.db")], capsys)
    assert f"{path}{words}" in err
    assert not (tmp_path / "a.db").exists()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('db = "desk\\u0007.db"\n', ":1: key 'db': path holds a control character"),
        ("seed = 1\ndb = '" + "x" * 2000 + "'\n", ":2: key 'db': path is too long"),
        ('db = "/tmp"\n', ":1: key 'db': /tmp is a directory, not a database file"),
    ],
    ids=["control-character", "too-long", "a-folder"],
)
def test_a_bad_db_in_the_file_names_file_line_and_key(
    tmp_path: Path, monkeypatch, capsys, text: str, words: str
) -> None:
    """A 'db' the session would refuse (a control character, a path too long for the system, a
    folder) is refused naming the file, the line and the key, as every other bad value: it said only
    '--db path holds a control character', pointing at an option nobody typed."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TUI_TRADER_DB", raising=False)
    path = _write(tmp_path, text)
    err = _fails(["paper", "--iterations", "1"], capsys)
    assert f"{path}{words}" in err, err
    assert os.listdir(tmp_path) == ["tui-trader.toml"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("db = 5\n", ":1: key 'db': must be text in quotes (a file, folder or URL), not 5"),
        ("seed = 1\ncache-dir = 3.5\n", ":2: key 'cache_dir': must be text in quotes"),
        ("backup-dir = 2026-12-07\n", ":1: key 'backup_dir': must be text in quotes"),
    ],
    ids=["db-number", "cache-dir-number", "backup-dir-date"],
)
def test_a_number_or_a_date_where_a_path_goes_is_refused(
    tmp_path: Path, monkeypatch, capsys, text: str, words: str
) -> None:
    """A path key given a TOML number or date, not text: 'db = 5' ran the session on a new
    database file named '5' in the working folder (and 'cache-dir = 3' read a folder '3')."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TUI_TRADER_DB", raising=False)
    path = _write(tmp_path, text)
    err = _fails(["paper", "--iterations", "1"], capsys)
    assert f"{path}{words}" in err, err
    assert os.listdir(tmp_path) == ["tui-trader.toml"]


@pytest.mark.parametrize("kind", ["folder", "link-to-nothing", "loop-of-links"])
def test_a_settings_file_that_is_there_but_cannot_be_read_is_refused(
    tmp_path: Path, monkeypatch, capsys, kind: str
) -> None:
    """A tui-trader.toml in the working folder that is no file to read (a folder, a link whose
    target is gone, a loop of links) was passed over as if there were none: the session traded
    with the default risk limits, nothing said. It is refused, naming it, before anything runs;
    so is such a --config (it was 'no such settings file')."""
    monkeypatch.chdir(tmp_path)
    here = tmp_path / "tui-trader.toml"
    if kind == "folder":
        here.mkdir()
        why = "a folder, not a settings file"
    elif kind == "link-to-nothing":
        here.symlink_to(tmp_path / "moved-away.toml")
        why = "a link to nothing (or a loop of links), not a settings file"
    else:
        (tmp_path / "other.toml").symlink_to(here)
        here.symlink_to(tmp_path / "other.toml")
        why = "a link to nothing (or a loop of links), not a settings file"
    err = _fails(["paper", "--iterations", "1", "--db", str(tmp_path / "a.db")], capsys)
    assert err.startswith(f"tui-trader: error: {here}: {why}; its settings (risk limits")
    assert not (tmp_path / "a.db").exists()
    err = _fails(["config", "show", "--config", str(here)], capsys)
    assert f"{here}: {why} (--config)" in err


def test_a_settings_file_over_a_megabyte_is_refused_unread(tmp_path: Path, capsys) -> None:
    """A log or dump named by --config by mistake was read whole (a 300 MB file of comments:
    680 MB of memory, then its settings taken); over 1 MB, as for .env, it is no settings file."""
    big = _write(tmp_path, "seed = 3\n" + ("# " + "x" * 998 + "\n") * 1000, "desk.toml")
    err = _fails(["config", "show", "--config", str(big)], capsys)
    assert f"{big}: larger than 1 MB: not a settings file" in err


def test_a_deeply_nested_settings_file_is_refused_in_one_line(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """A 20 KB file of nested brackets (valid TOML in principle) ended the run with a crash
    line, "RecursionError: maximum recursion depth exceeded", exit 1: the command line, the
    desk's setup and a ./tui-trader.toml alike."""
    nested = _write(tmp_path, "seed = " + "[" * 5000 + "]" * 5000 + "\n", "desk.toml")
    err = _fails(["config", "show", "--config", str(nested)], capsys)
    assert f"{nested}: nested too deeply to be a settings file" in err
    monkeypatch.chdir(tmp_path)
    nested.rename(tmp_path / "tui-trader.toml")
    err = _fails(["paper", "--iterations", "1", "--db", str(tmp_path / "a.db")], capsys)
    assert "nested too deeply to be a settings file" in err


def test_config_option_names_the_file_and_a_missing_one_is_refused(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """``--config PATH`` wins over ./tui-trader.toml; a path that is not there is exit 2."""
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "seed = 1\n")
    other = _write(tmp_path / "elsewhere", "seed = 99\n", "desk.toml")
    assert main(["config", "show", "--config", str(other)]) == 0
    assert f"99                               {other}:1" in capsys.readouterr().out
    err = _fails(["config", "show", "--config", str(tmp_path / "nope.toml")], capsys)
    assert "nope.toml: no such settings file (--config)" in err


@pytest.mark.parametrize(
    ("text", "args", "words"),
    [
        # the command line's value ran, and the file's waited for the next command without it
        (
            "iterations = 1.5\n",
            ["--iterations", "1"],
            ":1: key 'iterations': not a whole number: '1.5'",
        ),
        (
            "seed = 2\nmax-drawdown = 250\n",
            ["--max-drawdown", "5"],
            ":2: key 'max_drawdown': must be a percentage",
        ),
        ("symbols = ['SPY', 'spy!']\n", ["--symbols", "QQQ"], ":1: key 'symbols': invalid"),
        # keys only the live commands read were never checked by paper
        ("adopt_positions = 'yes'\n", [], ":1: key 'adopt_positions': must be true or false"),
        ("\nmin_days = -1\n", [], ":2: key 'min_days': must not be negative, got '-1'"),
    ],
    ids=["iterations", "max-drawdown", "symbols", "live-flag", "live-trading-number"],
)
def test_a_bad_value_is_refused_even_where_the_command_does_not_use_it(
    tmp_path: Path, monkeypatch, capsys, text: str, args: list[str], words: str
) -> None:
    """A settings file with a bad value is a broken file: refused (file, line, key; exit 2)
    before anything runs, whether the command line overrides the key or the command reads it
    not at all. It ran: only keys the command took from the file were checked."""
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, text)
    if "--iterations" not in args:
        args = [*args, "--iterations", "1"]
    err = _fails(["paper", *args, "--db", str(tmp_path / "a.db")], capsys)
    assert f"{path}{words}" in err, err
    assert not (tmp_path / "a.db").exists()


def test_config_show_refuses_a_bad_value_of_another_command(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """``config show live paper`` checks the file's paper-only keys too (a bad 'seed')."""
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, "seed = 'x'\n")
    err = _fails(["config", "show", "live", "paper"], capsys)
    assert f"{path}:1: key 'seed': not a whole number: 'x'" in err, err


def test_the_desk_refuses_a_bad_value_of_a_key_its_form_does_not_read(tmp_path: Path) -> None:
    """The desk's setup form starts from the file: a bad live-only value refuses the file as
    the trading commands do (it was passed over: only paper's keys were checked)."""
    from tui_trader.cli.common import UsageError
    from tui_trader.cli.config_cmd import setup_defaults

    path = _write(tmp_path, "seed = 3\nmax_halts = 'many'\n")
    with pytest.raises(UsageError, match=r":2: key 'max_halts': not a whole number: 'many'"):
        setup_defaults(path)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("backup-every = 1e12\n", ":1: key 'backup_every': at most 10,080 minutes (a week), "),
        ("seed = 3\nevery = 1E9  # slow\n", ":2: key 'every': at most 86400 seconds, "),
        ("max-orders-per-day = 1e3\n", ":1: key 'max_orders_per_day': not a whole number: "),
    ],
    ids=["backup-every", "every-with-comment", "whole-number"],
)
def test_a_refused_number_is_quoted_as_the_file_writes_it(
    tmp_path: Path, monkeypatch, capsys, text: str, words: str
) -> None:
    """TOML hands ``1e12`` over as a float whose text is ``1000000000000.0``: the refusal quoted
    that, a number the user never wrote and could not find in the file."""
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, text)
    err = _fails(["paper", "--iterations", "1", "--db", str(tmp_path / "a.db")], capsys)
    written = text.splitlines()[-1].split("=")[1].split()[0]
    assert f"{path}{words}" in err and repr(written) in err


def test_numbers_only_toml_spells_are_still_read(tmp_path: Path, monkeypatch, capsys) -> None:
    """``1_000`` and ``0x10`` are TOML's numbers (1000, 16), read as before; ``+5`` and ``1e1``
    mean what they say."""
    monkeypatch.chdir(tmp_path)
    text = "max-orders-per-day = 1_000\nbackup-keep = 0x10\nseed = +5\nevery = 1e1\n"
    path = _write(tmp_path, text)
    assert main(["config", "show"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["max_orders_per_day"][1:] == ["1000", f"{path}:1"]
    assert rows["backup_keep"][1:] == ["16", f"{path}:2"]
    assert rows["seed"][1:] == ["5", f"{path}:3"]
    assert rows["every"][1:] == ["10.0", f"{path}:4"]


def test_a_number_of_thousands_of_digits_is_refused_with_its_line(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """``iterations = 999...9`` (5,000 digits: a paste gone wrong) is valid TOML in principle,
    but Python's ``int()`` refuses over 4,300 digits with a ``ValueError`` that is no
    ``TOMLDecodeError``: exit 1, ``ValueError: Exceeds the limit (4300 digits) ...`` and a
    crash.log, from ``config show`` and from every command reading ./tui-trader.toml."""
    text = "seed = 3\n\niterations = " + "9" * 5000 + "\n"
    digits = _write(tmp_path, text, "desk.toml")
    err = _fails(["config", "show", "--config", str(digits)], capsys)
    assert f"{digits}:3: not valid TOML: a number of more than 4,300 digits" in err
    monkeypatch.chdir(tmp_path)
    digits.rename(tmp_path / "tui-trader.toml")
    err = _fails(["paper", "--iterations", "1", "--db", str(tmp_path / "a.db")], capsys)
    assert "tui-trader.toml:3: not valid TOML: a number of more than 4,300 digits" in err
    assert not (tmp_path / "a.db").exists()


@pytest.mark.parametrize(
    "line",
    ["iterations = 0x" + "f" * 4000, "backup-keep = 0o" + "7" * 6000, "db = 0b" + "1" * 15000],
    ids=["hexadecimal", "octal", "binary"],
)
def test_a_short_spelled_number_of_thousands_of_digits_is_refused_with_its_key(
    tmp_path: Path, monkeypatch, capsys, line: str
) -> None:
    """TOML's hexadecimal, octal and binary numbers are read without ``int()``'s 4,300-digit
    limit, so ``0xfff...`` read, and the refusal's ``str()`` of it (a number of about 4,800
    digits) raised: exit 1, ``ValueError: Exceeds the limit (4300 digits) for integer string
    conversion`` and a crash.log, from ``config show`` and every command reading the file."""
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, f"seed = 3\n{line}\n")
    key = line.split(" =")[0].replace("-", "_")
    for args in (["config", "show"], ["paper", "--iterations", "1", "--db", "a.db"]):
        err = _fails(args, capsys)
        assert f"{path}:2: key '{key}'" in err and len(err) < 400, err[:400]
    assert sorted(os.listdir(tmp_path)) == ["tui-trader.toml"]
