"""`podium service install|uninstall|status`: an engine that starts at login, so fill
stays on (`[fill] enabled`, `podium fill --nightly`) without a terminal held open.

The engine is a detached process already (own session, stdin from /dev/null, its
log in `<data>/engine.log`: `sessions.lifecycle.spawn_engine`): closing the terminal
that started it does not stop it. What it lacks is a start after a reboot or a
logout. Where `systemctl --user` works, podium writes a user unit,
`$XDG_CONFIG_HOME/systemd/user/podium.service`, that runs `<podium> engine run`
(the engine in the foreground) with `Restart=on-failure`, and enables it; elsewhere
(no user systemd: macOS, a container, an ssh session without a user bus) it prints
the `@reboot` line for `crontab -e`, which `podium engine start`s it.

Paths go into the unit quoted for systemd (`systemd_quote`: double quotes, `\\`
and `"` escaped, `%` specifiers and `$` expansion defused), never through a shell;
the cron line is a shell line, quoted with `shlex`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sessions.claude_settings import podium_command

UNIT = "podium.service"
# What the engine needs of the installer's environment: where its data and config
# are (when not the defaults), and the PATH that finds claude, tmux and git (a user
# service starts with systemd's own, short PATH).
KEPT_ENV = ("PATH", "PODIUM_DATA_DIR", "PODIUM_CONFIG", "PODIUM_RUNTIME_DIR", "PODIUM_TMUX_SOCKET")
SYSTEMCTL_TIMEOUT = 15.0


class ServiceError(Exception):
    """A service that cannot be written as asked; the message says why."""


def unit_path(env: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    """Where systemd looks for the person's own units."""
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "systemd" / "user" / UNIT


def systemd_quote(value: str, *, expand: bool = True) -> str:
    """One word for a unit file: in double quotes, `\\` and `"` escaped, `%` doubled
    (systemd's specifiers) and, where systemd expands variables (`expand`: ExecStart),
    `$` doubled. A line break cannot be written at all."""
    if "\n" in value or "\r" in value or "\0" in value:
        raise ServiceError(f"{value!r}: a line break cannot go in a unit file")
    quoted = value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    if expand:
        quoted = quoted.replace("$", "$$")
    return f'"{quoted}"'


def engine_argv() -> list[str]:
    """The installed podium's engine, in the foreground (what systemd supervises)."""
    return [*podium_command(), "engine", "run"]


def unit_text(argv: list[str], env: dict[str, str]) -> str:
    """The unit file: `argv` as ExecStart, the kept variables of `env`."""
    lines = [
        "[Unit]",
        "Description=podium engine: agent sessions, usage log and background fill",
        "",
        "[Service]",
        "Type=simple",
        "ExecStart=" + " ".join(systemd_quote(arg) for arg in argv),
        # A crash restarts it; a clean stop (`podium engine stop`) does not. Ten seconds
        # apart, so an engine that cannot start (another one runs) does not spin.
        "Restart=on-failure",
        "RestartSec=10",
    ]
    for key in KEPT_ENV:
        if env.get(key):
            lines.append("Environment=" + systemd_quote(f"{key}={env[key]}", expand=False))
    lines += ["", "[Install]", "WantedBy=default.target", ""]
    return "\n".join(lines)


def cron_line(podium: list[str]) -> str:
    """The line for `crontab -e` where there is no user systemd."""
    return "@reboot " + shlex.join([*podium, "engine", "start"])


@dataclass
class Outcome:
    """What `install`, `uninstall` or `status` did or found, line by line."""

    lines: list[str] = field(default_factory=list)
    systemd: bool = False


def _systemctl(*args: str) -> subprocess.CompletedProcess[str] | None:
    """`systemctl --user ARGS` (argv, no shell); None when there is no systemctl."""
    path = shutil.which("systemctl")
    if path is None:
        return None
    try:
        return subprocess.run(
            [path, "--user", *args],
            capture_output=True,
            text=True,
            timeout=SYSTEMCTL_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def systemd_works() -> bool:
    """Whether this login has a user systemd to talk to."""
    done = _systemctl("show-environment")
    return done is not None and done.returncode == 0


def install(engine_running: bool, env: dict[str, str] | None = None) -> Outcome:
    """Write the unit; enable it (and start it unless an engine runs) where systemd
    works, else say what to add to the crontab."""
    env = dict(os.environ) if env is None else env
    path = unit_path(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(unit_text(engine_argv(), env), encoding="utf-8")
    out = Outcome(lines=[f"wrote {path}"])
    if not systemd_works():
        out.lines += [
            "no user systemd here (`systemctl --user` does not answer); "
            "add this line with `crontab -e` to start the engine at boot:",
            cron_line(podium_command()),
        ]
        return out
    out.systemd = True
    for args in (("daemon-reload",), ("enable", UNIT)):
        done = _systemctl(*args)
        if done is None or done.returncode != 0:
            why = (done.stderr.strip() if done else "") or "no answer"
            raise ServiceError(f"systemctl --user {' '.join(args)} failed: {why}")
    out.lines.append(f"enabled {UNIT}: the engine starts at login, and again if it crashes")
    if engine_running:
        out.lines.append(
            "an engine runs already: systemd takes over at the next login "
            f"(or now: `podium engine stop && systemctl --user start {UNIT}`)"
        )
    else:
        done = _systemctl("start", UNIT)
        ok = done is not None and done.returncode == 0
        out.lines.append(f"started {UNIT}" if ok else f"`systemctl --user start {UNIT}` failed")
    return out


def uninstall(env: dict[str, str] | None = None) -> Outcome:
    """Disable and remove the unit (the engine running now keeps running)."""
    env = dict(os.environ) if env is None else env
    path = unit_path(env)
    out = Outcome()
    if systemd_works():
        out.systemd = True
        _systemctl("disable", UNIT)
    if path.exists():
        path.unlink()
        out.lines.append(f"removed {path}")
        if out.systemd:
            _systemctl("daemon-reload")
    else:
        out.lines.append(f"no unit at {path}")
    out.lines.append(
        f"if you added it, remove the line from `crontab -e`: {cron_line(podium_command())}"
    )
    return out


def status(env: dict[str, str] | None = None) -> Outcome:
    """Whether the unit is there, enabled and active."""
    env = dict(os.environ) if env is None else env
    path = unit_path(env)
    out = Outcome(lines=[f"unit {path}: {'installed' if path.exists() else 'not installed'}"])
    if not systemd_works():
        out.lines.append("no user systemd here: a `crontab -e` @reboot line starts the engine")
        out.lines.append(cron_line(podium_command()))
        return out
    out.systemd = True
    for what in ("is-enabled", "is-active"):
        done = _systemctl(what, UNIT)
        answer = (done.stdout.strip() if done else "") or "unknown"
        out.lines.append(f"{what.removeprefix('is-')}: {answer}")
    return out
