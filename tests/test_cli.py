"""The ``ppa-bot`` command (also ``python -m bot``): help for every command, a database made and
filled from the shell, and configuration mistakes told in one line with exit code 2."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.regions import shipped_file

PPA_BOT = Path(sys.executable).with_name("ppa-bot")


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The command as a person runs it: a fresh process, only the environment given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PPA_BOT_")}
    clean["PPA_BOT_CONFIG"] = ""  # no config file: only the environment given
    clean.update(env)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=clean,  # noqa: S603
                          capture_output=True, text=True, timeout=60, check=False)


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got:\n{text}"
    return lines[0]


def test_run_without_a_token_stops_with_one_line(tmp_path: Path) -> None:
    result = run("run", cwd=tmp_path)

    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "telegram.token" in line and "PPA_BOT_TELEGRAM__TOKEN" in line
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # nothing was created before the check


def test_run_with_a_bad_time_zone_stops_with_one_line(tmp_path: Path) -> None:
    result = run("run", cwd=tmp_path, PPA_BOT_TELEGRAM__TOKEN="123:abc",
                 PPA_BOT_REGION__TIMEZONE="Asia/Makasar")

    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "region.timezone" in line and "PPA_BOT_REGION__TIMEZONE" in line


def test_db_upgrade_then_regions_import_fill_a_new_database(tmp_path: Path) -> None:
    database = tmp_path / "state" / "ppa.sqlite3"
    url = f"sqlite+aiosqlite:///{database}"

    upgraded = run("db", "upgrade", cwd=tmp_path, PPA_BOT_DATABASE__URL=url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "head" in upgraded.stdout
    imported = run("regions", "import", str(shipped_file("paser_wilayah.csv")),
                   "--aliases", str(shipped_file("paser_aliases.csv")),
                   cwd=tmp_path, PPA_BOT_DATABASE__URL=url)
    assert imported.returncode == 0, imported.stderr
    assert "144 villages" in imported.stdout and "14 aliases" in imported.stdout

    with sqlite3.connect(database) as db:
        levels = dict(db.execute("SELECT level, count(*) FROM regions GROUP BY level").fetchall())
    assert levels == {"kabupaten": 1, "kecamatan": 10, "village": 144}


def test_regions_import_refuses_a_bad_file_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("kecamatan_code,kecamatan,village_code,village,village_type\n"
                   "64.01.05,Kuaro,64.01.05.2002,Lolo,desa\n"
                   "65.01.05,Kuaro,65.01.05.2003,X,desa\n")
    url = f"sqlite+aiosqlite:///{tmp_path / 'ppa.sqlite3'}"

    result = run("regions", "import", str(bad), cwd=tmp_path, PPA_BOT_DATABASE__URL=url)

    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "bad.csv:3:" in line
    with sqlite3.connect(tmp_path / "ppa.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM regions").fetchone() == (0,)


def test_a_database_that_cannot_be_opened_is_told_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("")
    url = f"sqlite+aiosqlite:///{tmp_path / 'not-a-folder' / 'ppa.sqlite3'}"

    result = run("db", "upgrade", cwd=tmp_path, PPA_BOT_DATABASE__URL=url)

    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "database.url" in line and "Traceback" not in result.stderr


def test_the_console_script_answers_help(tmp_path: Path) -> None:
    result = subprocess.run([str(PPA_BOT), "--help"], capture_output=True, text=True,  # noqa: S603
                            timeout=60, check=False, cwd=tmp_path)
    assert result.returncode == 0
    for command in ("run", "db", "regions"):
        assert command in result.stdout


@pytest.mark.parametrize(("argv", "expected"), [
    (["--help"], "usage: ppa-bot"),
    (["run", "--help"], "usage: ppa-bot run"),
    (["db", "upgrade", "--help"], "usage: ppa-bot db upgrade"),
    (["regions", "import", "--help"], "--aliases"),
    (["regions", "import", "CSV", "--aliases", "CSV", "--help"], "usage: ppa-bot regions import"),
    (["poster", "--help"], "--village CODE"),
])
def test_every_command_has_help(capsys: pytest.CaptureFixture[str], argv: list[str],
                                expected: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0
    assert expected in capsys.readouterr().out


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["frobnicate"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
