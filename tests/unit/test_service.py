"""`podium service`: the systemd user unit that keeps the engine (and fill) running."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from sessions import service
from sessions.service import ServiceError, systemd_quote, unit_text
from tui.cli.service_cmds import service as service_group

NASTY = '/home/a b/"q"/100%/$HOME/back\\slash/podium'


def _unquote(word: str, *, expand: bool = True) -> str:
    """systemd's reading of one double-quoted word (C escapes, %% and $$)."""
    assert word.startswith('"') and word.endswith('"'), word
    body = re.sub(r"\\(.)", lambda m: "\0" + m[1], word[1:-1])
    assert '"' not in body.replace('\0"', ""), "an unescaped quote would end the word"
    body = body.replace("%%", "\1")
    assert "%" not in body, "a % would be a specifier"
    if expand:
        assert not re.search(r"(?<!\$)\$(?!\$)", body.replace("$$", "")), "a $ would expand"
        body = body.replace("$$", "$")
    return body.replace("\1", "%").replace("\0", "")


def test_paths_go_into_the_unit_quoted_for_systemd_not_a_shell() -> None:
    assert _unquote(systemd_quote(NASTY)) == NASTY
    assert _unquote(systemd_quote(NASTY, expand=False), expand=False) == NASTY.replace("$$", "$")
    with pytest.raises(ServiceError, match="line break"):
        systemd_quote("a\nExecStartPre=/bin/rm")
    text = unit_text([NASTY, "engine", "run"], {"PATH": "/x y/bin:/usr/bin", "HOME": "/h"})
    [exec_start] = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    words = re.findall(r'"(?:[^"\\]|\\.)*"', exec_start)
    assert [_unquote(w) for w in words] == [NASTY, "engine", "run"]
    assert "Restart=on-failure" in text and "WantedBy=default.target" in text
    assert 'Environment="PATH=/x y/bin:/usr/bin"' in text
    assert 'Environment="HOME' not in text  # only what the engine needs of the installer's env


def _fake_systemctl(bin_dir: Path, log: Path, rc: int) -> None:
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "systemctl"
    script.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexit {rc}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize("works", [True, False])
def test_install_writes_the_unit_and_enables_it_where_systemd_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, works: bool
) -> None:
    log = tmp_path / "systemctl.log"
    _fake_systemctl(tmp_path / "bin", log, 0 if works else 1)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("PODIUM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PODIUM_RUNTIME_DIR", str(tmp_path / "run"))
    out = CliRunner().invoke(service_group, ["install"])
    assert out.exit_code == 0, out.output
    unit = tmp_path / "config" / "systemd" / "user" / "podium.service"
    text = unit.read_text()
    [exec_start] = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    argv = [_unquote(w) for w in re.findall(r'"(?:[^"\\]|\\.)*"', exec_start)]
    assert argv == [*service.podium_command(), "engine", "run"]
    assert f'Environment="PODIUM_DATA_DIR={tmp_path / "data"}"' in text
    calls = log.read_text().splitlines()
    if works:
        assert calls == [
            "--user show-environment",
            "--user daemon-reload",
            "--user enable podium.service",
            "--user start podium.service",  # no engine ran: started now
        ]
        assert "enabled podium.service" in out.output
    else:
        assert calls == ["--user show-environment"]
        cron = out.output.strip().splitlines()[-1]
        assert cron.startswith("@reboot ") and cron.endswith(" engine start")
    status = CliRunner().invoke(service_group, ["status"])
    assert "installed" in status.output
    gone = CliRunner().invoke(service_group, ["uninstall"])
    assert gone.exit_code == 0 and not unit.exists()
    if works:
        assert "--user disable podium.service" in log.read_text()
