"""The engine is the person's alone: its runtime dir, socket and files are theirs and
private, the client talks only to an engine of its own uid, and an agent gets only
the environment it needs.

Tests run as root here: a "foreign" owner is uid 65534, made with `os.chown`.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PodiumEnv
from libtmux.test.retry import retry_until

from collectors.paths import Paths

NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")


def _one_line_failure(out: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert out.returncode == 1, (out.stdout, out.stderr)
    line = out.stderr.strip()
    assert "\n" not in line and "Traceback" not in line, out.stderr
    for needle in needles:
        assert needle in line, line
    return line


@needs_root
def test_a_runtime_dir_of_another_user_is_refused_untouched(podium_env: PodiumEnv) -> None:
    # Someone made the predictable /tmp/podium-<uid> first.
    os.chmod(podium_env.runtime, 0o755)
    os.chown(podium_env.runtime, NOBODY, NOBODY)
    line = _one_line_failure(
        podium_env.run("ls"),
        f"runtime dir {podium_env.runtime} is owned by uid {NOBODY}, not you (0)",
        "PODIUM_RUNTIME_DIR",
    )
    assert line.startswith("podium: ")
    st = os.lstat(podium_env.runtime)
    assert st.st_uid == NOBODY and stat.S_IMODE(st.st_mode) == 0o755  # never chmodded
    assert not list(podium_env.runtime.iterdir())  # nor used
    _one_line_failure(podium_env.run("engine", "start"), "owned by uid 65534")
    doctor = {c["name"]: c for c in json.loads(podium_env.run("doctor", "--json").stdout)}
    assert doctor["runtime dir"]["status"] == "error"
    assert "owned by uid 65534" in doctor["runtime dir"]["detail"]
    os.chown(podium_env.runtime, 0, 0)  # for the fixture's clean-up


def test_a_symlinked_runtime_dir_is_refused(podium_env: PodiumEnv, tmp_path: Path) -> None:
    real = podium_env.runtime
    link = Path(f"{real}-link")
    link.symlink_to(real)
    try:
        podium_env.env["PODIUM_RUNTIME_DIR"] = str(link)
        _one_line_failure(podium_env.run("ls"), f"runtime dir {link} is a symlink")
        assert not list(real.iterdir())
    finally:
        link.unlink()
        podium_env.env["PODIUM_RUNTIME_DIR"] = str(real)


@needs_root
def test_a_data_dir_of_another_user_is_refused(podium_env: PodiumEnv) -> None:
    podium_env.data.mkdir(mode=0o755)
    os.chown(podium_env.data, NOBODY, NOBODY)
    _one_line_failure(
        podium_env.run("engine", "start"),
        f"data dir {podium_env.data} is owned by uid {NOBODY}",
        "PODIUM_DATA_DIR",
    )
    assert stat.S_IMODE(os.lstat(podium_env.data).st_mode) == 0o755
    os.chown(podium_env.data, 0, 0)


def test_a_runtime_dir_opened_to_others_is_refused(engine: PodiumEnv) -> None:
    os.chmod(engine.runtime, 0o755)
    try:
        _one_line_failure(engine.run("ls"), "has mode 755", f"chmod 700 {engine.runtime}")
    finally:
        os.chmod(engine.runtime, 0o700)
    assert engine.run("ls").returncode == 0


_FOREIGN_ENGINE = """
import os, socket, sys
path, uid = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)           # the socket file is root's, as a real engine's would be
os.setuid(uid)         # but the process that listens is not
s.listen(1)
print("ready", flush=True)
s.settimeout(30)
conn, _ = s.accept()
conn.settimeout(5)
got = b""
try:
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        got += chunk
except OSError:
    pass
print(len(got), flush=True)
"""


@needs_root
def test_the_client_sends_nothing_to_an_engine_of_another_uid(podium_env: PodiumEnv) -> None:
    sock_path = Paths(data=podium_env.data, runtime=podium_env.runtime).socket
    fake = subprocess.Popen(
        [sys.executable, "-c", _FOREIGN_ENGINE, str(sock_path), str(NOBODY)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert fake.stdout is not None and fake.stdout.readline().strip() == "ready"
        _one_line_failure(
            podium_env.run("new", "--agent", "shell", "--cmd", "true"),
            f"served by uid {NOBODY}, not you (0)",
        )
        assert fake.stdout.readline().strip() == "0"  # not one byte arrived
    finally:
        fake.kill()
        fake.wait()


def test_engine_files_are_private(engine: PodiumEnv) -> None:
    engine.json("new", "--name", "s", "--agent", "sim")
    assert retry_until(lambda: (engine.data / "podium.duckdb").exists(), 10, raises=False)
    assert stat.S_IMODE(os.lstat(engine.data).st_mode) == 0o700
    files = [engine.data / "engine.log", engine.data / "podium.duckdb"]
    files += list((engine.data / "spool").glob("*"))
    files += list(engine.data.glob("*.wal"))
    for path in files:
        st = os.lstat(path)
        if stat.S_ISREG(st.st_mode):
            assert stat.S_IMODE(st.st_mode) == 0o600, path
    assert stat.S_IMODE(os.lstat(engine.data / "spool").st_mode) == 0o700


def test_an_agent_gets_only_the_environment_it_needs(engine: PodiumEnv) -> None:
    engine.env.update(
        MY_DB_PASSWORD="hunter2",
        ANTHROPIC_API_KEY="sk-ant-test",
        HOME=str(engine.root),
        MY_TOOL_HOME="/opt/tool",
    )
    (engine.root / "config.toml").write_text('[agents]\npass_env = ["MY_TOOL_*"]\n')
    got = engine.workdir / "env.txt"
    mask = engine.workdir / "umask.txt"
    script = f"env > {shlex.quote(str(got))}.tmp; umask > {mask}; mv {got}.tmp {got}"
    engine.json("new", "--name", "e", "--agent", "shell", "--cmd", f"sh -c {shlex.quote(script)}")
    assert retry_until(got.exists, 15, raises=False)
    env = dict(line.split("=", 1) for line in got.read_text().splitlines() if "=" in line)
    assert "MY_DB_PASSWORD" not in env
    assert env["ANTHROPIC_API_KEY"] == "sk-ant-test" and env["HOME"] == str(engine.root)
    assert env["PATH"] == engine.env["PATH"] and env["MY_TOOL_HOME"] == "/opt/tool"
    assert env["PODIUM_SESSION_ID"]
    # The engine runs with umask 077; the agent gets the person's own back.
    person = os.umask(0o022)
    os.umask(person)
    assert int(mask.read_text().strip(), 8) == person


def test_a_tmux_server_the_engine_starts_has_the_persons_umask(engine: PodiumEnv) -> None:
    # A window the person opens by hand in podium's tmux is a child of its server:
    # it must make files as the person's shell does, not 0600 as the engine does.
    engine.json("new", "--name", "m", "--agent", "sim")
    pid = engine.tmux("display-message", "-p", "#{pid}").stdout.strip()
    status = Path(f"/proc/{pid}/status").read_text()
    mask = next(line.split()[1] for line in status.splitlines() if line.startswith("Umask:"))
    person = os.umask(0o022)
    os.umask(person)
    assert int(mask, 8) == person != 0o077


def test_engine_socket_is_checked_without_following_symlinks(podium_env: PodiumEnv) -> None:
    paths = Paths(data=podium_env.data, runtime=podium_env.runtime)
    other = podium_env.runtime / "elsewhere.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(other))
    server.listen(1)
    try:
        paths.socket.symlink_to(other)
        _one_line_failure(podium_env.run("ls"), f"engine socket {paths.socket} is a symlink")
    finally:
        server.close()
