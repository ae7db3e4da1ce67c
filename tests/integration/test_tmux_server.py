"""podium's private tmux server (issue 12 §13): the config it reads."""

from __future__ import annotations

import pytest
from conftest import PodiumEnv

pytestmark = [pytest.mark.tmux]


def test_the_persons_tmux_conf_only_when_asked(podium_env: PodiumEnv) -> None:
    env = podium_env
    home = env.root / "home"
    home.mkdir()
    (home / ".tmux.conf").write_text("set -g @from_user_conf yes\n")
    env.env["HOME"] = str(home)
    env.env["XDG_CONFIG_HOME"] = str(home / ".config")
    env.env["PODIUM_TMUX__SOURCE_USER_CONF"] = "true"
    env.run("engine", "start", check=True)
    env.json("new", "--agent", "shell", "--name", "dressed")
    shown = env.tmux("show-options", "-gqv", "@from_user_conf").stdout.strip()
    assert shown == "yes"
    # With a config file of podium's as well: refused, with the way to have both.
    env.run("engine", "stop", check=True)
    env.env["PODIUM_TMUX__CONFIG"] = str(home / "podium-tmux.conf")
    out = env.run("ls")
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert "tmux.source_user_conf" in out.stderr and "source-file ~/.tmux.conf" in out.stderr
