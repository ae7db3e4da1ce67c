"""The engine as a user meets it: start, status, stop, on-demand start, recovery."""

from __future__ import annotations

import json
import os
import signal
import stat

from conftest import PodiumEnv
from libtmux.test.retry import retry_until


def test_start_status_stop(podium_env: PodiumEnv):
    out = podium_env.run("engine", "start", "--json")
    assert out.returncode == 0, out.stderr
    pid = json.loads(out.stdout)["pid"]
    status = podium_env.json("engine", "status")
    assert status["running"] and status["responding"] and status["pid"] == pid
    assert status["data_dir"] == str(podium_env.data)
    sock = podium_env.runtime / os.path.basename(status["socket"])
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert stat.S_IMODE(podium_env.runtime.stat().st_mode) == 0o700
    assert (podium_env.data / "podium.duckdb").exists()

    again = podium_env.run("engine", "start")
    assert again.returncode == 1
    assert again.stderr.strip() == f"podium: engine already running (pid {pid})"

    out = podium_env.run("engine", "stop")
    assert out.returncode == 0 and f"pid {pid}" in out.stdout
    assert not podium_env.json("engine", "status")["running"]
    assert not sock.exists()


def test_commands_start_the_engine_on_demand(podium_env: PodiumEnv):
    assert not podium_env.json("engine", "status")["running"]
    assert podium_env.json("ls") == []
    assert podium_env.json("engine", "status")["running"]


def test_killed_engine_is_recovered_not_already_running(podium_env: PodiumEnv):
    podium_env.run("engine", "start", check=True)
    pid = podium_env.json("engine", "status")["pid"]
    os.kill(pid, signal.SIGKILL)
    retry_until(lambda: not _alive(pid), 10)
    # The stale socket file and lock file are still on disk.
    assert list(podium_env.runtime.glob("engine-*.sock"))
    assert (podium_env.data / "engine.lock").exists()
    status = podium_env.json("engine", "status")
    assert not status["running"]
    out = podium_env.run("engine", "start")
    assert out.returncode == 0, out.stderr
    assert podium_env.json("engine", "status")["pid"] != pid
    assert podium_env.json("ls") == []


def test_doctor_reports_each_part(podium_env: PodiumEnv):
    checks = {c["name"]: c for c in podium_env.json("doctor")}
    assert checks["tmux"]["status"] == "ok" and "tmux" in checks["tmux"]["detail"]
    assert {"config", "claude", "data dir", "runtime dir", "engine"} <= set(checks)
    assert str(podium_env.data) in checks["data dir"]["detail"]


def test_doctor_without_tmux_says_how_to_install(podium_env: PodiumEnv, tmp_path):
    env = dict(podium_env.env)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    # A PATH with python but no tmux.
    os.symlink(os.path.realpath(env["PATH"].split(":")[0] + "/python"), bindir / "python")
    env["PATH"] = str(bindir)
    podium_env.env = env
    out = podium_env.run("doctor", "--json")
    assert out.returncode == 1
    tmux = next(c for c in json.loads(out.stdout) if c["name"] == "tmux")
    assert tmux["status"] == "error" and "apt-get install tmux" in tmux["fix"]


def test_bad_config_names_file_and_key(podium_env: PodiumEnv):
    config = podium_env.root / "config.toml"
    config.write_text("[tmux]\nsockett = 'x'\n")
    out = podium_env.run("ls")
    assert out.returncode == 1
    assert out.stderr.strip() == f"podium: config error in {config}: unknown key 'tmux.sockett'"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of nobody we know still counts as gone for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False


def test_podiums_tmux_server_reads_no_tmux_conf_unless_told(podium_env: PodiumEnv) -> None:
    # A person's ~/.tmux.conf is for their own tmux: a setting there (window-size
    # manual crashes tmux 3.3a on new-window) must not shape podium's server.
    env = podium_env
    home = env.root / "home"
    home.mkdir()
    conf = home / ".tmux.conf"
    conf.write_text("set -g @from_user_conf yes\n")
    env.env["HOME"] = str(home)
    assert env.run("engine", "start").returncode == 0
    env.json("new", "--agent", "shell", "--name", "plain")
    assert env.tmux("show-options", "-gqv", "@from_user_conf").stdout.strip() == ""
    # Asked for, it is read.
    env.run("engine", "stop", check=True)
    env.tmux("kill-server")
    env.env["PODIUM_TMUX__CONFIG"] = "~/.tmux.conf"
    assert env.run("engine", "start").returncode == 0
    env.json("new", "--agent", "shell", "--name", "dressed")
    assert env.tmux("show-options", "-gqv", "@from_user_conf").stdout.strip() == "yes"
