"""A ready environment for running the real Claude Code CLI against the loopback fake API.

Import the fixtures into ``conftest.py``::

    from claude_bed import (  # noqa: F401
        claude_bed, claude_bin, claude_env, fake_api, make_claude_bed,
    )

Fixtures
--------
``claude_bin`` (session)  ``Path`` of the pinned ``claude`` binary: ``$PODIUM_TEST_CLAUDE_BIN``,
                          else ``<repo>/.cache/claude-code/node_modules/.bin/claude`` (installed
                          with ``scripts/install-claude.sh`` when missing). Skips the test, with
                          the reason, when npm is absent or the install fails.
``fake_api``              a started :class:`fakeapi.FakeAnthropic`, stopped at teardown.
``claude_env``            the environment dict to run ``claude`` with (a ``dict`` subclass whose
                          ``.bed`` is the :class:`ClaudeBed`): API-key auth on ``fake_api``, a
                          temp config dir, a temp ``HOME``, a trusted work dir ``.bed.work_dir``.
                          Needs only ``claude_bin`` and ``fake_api`` to be visible.
``claude_bed``            ``claude_env.bed`` (needs ``claude_env`` visible too).
``make_claude_bed``       factory ``make_claude_bed(auth="gateway", work_dirs=[...])`` for more
                          beds (each with its own config dir) on the same ``fake_api``.

More work dirs: ``bed.trust(path)`` or ``trust_dirs(env, path)``.

``auth="api_key"`` (default) uses ``ANTHROPIC_API_KEY``; a 429 then reads
``API Error: Request rejected (429) · <message>``. ``auth="gateway"`` instead sets
``ANTHROPIC_AUTH_TOKEN`` to an unsigned JWT whose ``aud`` is ``claude-gateway``: Claude Code
then treats the session like a plan session and reads the ``anthropic-ratelimit-unified-*``
headers, so a 429 reads ``You've hit your 5-hour limit · resets 6pm (UTC)``, the statusline
payload carries ``rate_limits`` and stream-json emits ``rate_limit_event``.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from collectors.spool import HOOK_EVENTS as SPOOL_HOOK_EVENTS

try:  # tests/ as a package, or tests/ on sys.path (pytest's rootdir-based import)
    from .fakeapi import FakeAnthropic
except ImportError:
    from fakeapi import FakeAnthropic  # type: ignore[no-redef]

__all__ = [
    "CLAUDE_VERSION",
    "HOOK_EVENTS",
    "TEST_API_KEY",
    "ClaudeBed",
    "ClaudeEnv",
    "ClaudeUnavailable",
    "Headless",
    "claude_bed",
    "claude_bin",
    "claude_env",
    "fake_api",
    "find_claude_bin",
    "gateway_token",
    "make_bed",
    "make_claude_bed",
    "read_jsonl",
    "trust_dirs",
]

REPO = Path(__file__).resolve().parents[1]
INSTALL_SCRIPT = REPO / "scripts" / "install-claude.sh"
DEFAULT_BIN = REPO / ".cache" / "claude-code" / "node_modules" / ".bin" / "claude"
CLAUDE_VERSION = "2.1.328"
TEST_API_KEY = "sk-ant-test-podium-00000000000000000000000000"

# Every event Claude Code documents: the recording settings listen to all of them.
HOOK_EVENTS = SPOOL_HOOK_EVENTS

# What keeps the CLI off the network and away from first-run screens (checked with strace:
# with these, the only connections are to the fake API).
QUIET_ENV = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",  # telemetry, titles, error reports, ...
    "DISABLE_AUTOUPDATER": "1",  # else it resolves downloads.claude.ai
    "CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL": "1",  # else ssh git@github.com
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_IDE_SKIP_AUTO_INSTALL": "1",
}

# Variables of the caller that would change which account or backend the CLI uses, or tell
# it that it runs inside another Claude Code.
_DROP_PREFIXES = ("ANTHROPIC_", "CLAUDE", "AWS_BEARER_TOKEN_BEDROCK", "OTEL_")
_DROP = {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"}


class ClaudeUnavailable(RuntimeError):
    """The CLI binary cannot be had here (no npm, install failed, ...)."""


def find_claude_bin(*, install: bool = True, timeout: float = 900) -> Path:
    """The ``claude`` binary to test with; installs the pinned one when allowed and missing."""
    explicit = os.environ.get("PODIUM_TEST_CLAUDE_BIN")
    if explicit:
        path = Path(explicit)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ClaudeUnavailable(f"PODIUM_TEST_CLAUDE_BIN={explicit} is not an executable file")
        return path
    if DEFAULT_BIN.exists() and _version_ok(DEFAULT_BIN):
        return DEFAULT_BIN
    if not install:
        raise ClaudeUnavailable(f"{DEFAULT_BIN} is missing; run {INSTALL_SCRIPT}")
    try:
        proc = subprocess.run(
            ["bash", str(INSTALL_SCRIPT)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ClaudeUnavailable(f"{INSTALL_SCRIPT} took more than {timeout:.0f}s") from exc
    reason = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
    if proc.returncode == 3:
        raise ClaudeUnavailable(f"npm is absent: {reason}")
    if proc.returncode != 0:
        raise ClaudeUnavailable(f"{INSTALL_SCRIPT} failed ({proc.returncode}): {reason}")
    path = Path(proc.stdout.strip().splitlines()[-1])
    if not path.exists():
        raise ClaudeUnavailable(f"{INSTALL_SCRIPT} printed {path}, which does not exist")
    return path


def _version_ok(path: Path) -> bool:
    try:
        out = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=60, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.split(" ")[0].strip() == CLAUDE_VERSION


def gateway_token(claims: Mapping[str, Any] | None = None) -> str:
    """An unsigned JWT with ``aud: claude-gateway`` (Claude Code decodes, never verifies it)."""

    def b64(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    body = {"aud": "claude-gateway", "sub": "podium-test", **(claims or {})}
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(body)}.c2ln"


def _config_file(config_dir: Path) -> Path:
    return Path(config_dir) / ".claude.json"


def trust_dirs(env_or_config_dir: Mapping[str, str] | str | os.PathLike[str], *dirs: Any) -> None:
    """Mark ``dirs`` as trusted (no trust dialog) in the config of ``env`` or ``config_dir``.

    Do it before starting ``claude`` there: a running Claude Code rewrites ``.claude.json``."""
    if isinstance(env_or_config_dir, Mapping):
        config_dir = Path(env_or_config_dir["CLAUDE_CONFIG_DIR"])
    else:
        config_dir = Path(env_or_config_dir)
    path = _config_file(config_dir)
    data = json.loads(path.read_text()) if path.exists() else {}
    projects = data.setdefault("projects", {})
    for d in dirs:
        for key in {str(Path(d).absolute()), os.path.realpath(d)}:
            entry = projects.setdefault(key, {})
            entry.update(
                hasTrustDialogAccepted=True,
                hasCompletedProjectOnboarding=True,
                projectOnboardingSeenCount=1,
                allowedTools=entry.get("allowedTools", []),
            )
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Complete JSON lines of ``path`` (a missing file or a torn last line gives fewer)."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


_RECORDER = """\
import json, sys, time
event, out = sys.argv[1], sys.argv[2]
raw = sys.stdin.read()
try:
    payload = json.loads(raw)
except ValueError:
    payload = None
line = json.dumps({"event": event, "at": time.time(), "payload": payload, "raw": raw})
with open(out, "a") as f:
    f.write(line + "\\n")
if event == "statusline":
    print("podium-test-status")
"""


@dataclass
class Headless:
    """The outcome of one ``claude -p`` run."""

    returncode: int
    stdout: str
    stderr: str
    events: list[dict[str, Any]] = field(default_factory=list)  # stream-json / json lines

    @property
    def result(self) -> dict[str, Any] | None:
        """The final ``{"type": "result", …}`` object, if any."""
        for ev in reversed(self.events):
            if ev.get("type") == "result":
                return ev
        return None


@dataclass
class ClaudeBed:
    """One isolated Claude Code installation state, pointed at a fake API."""

    bin: Path
    api: FakeAnthropic
    root: Path
    config_dir: Path
    home: Path
    work_dir: Path
    env: dict[str, str]
    auth: str = "api_key"

    # -- config ---------------------------------------------------------------------------
    def trust(self, *dirs: Any) -> None:
        trust_dirs(self.config_dir, *dirs)

    @property
    def config_file(self) -> Path:
        return _config_file(self.config_dir)

    def transcripts(self) -> list[Path]:
        return sorted((self.config_dir / "projects").glob("**/*.jsonl"))

    def recording_settings(
        self,
        out: str | os.PathLike[str] | None = None,
        *,
        events: Iterable[str] = HOOK_EVENTS,
        statusline_out: str | os.PathLike[str] | None = None,
        extra: Mapping[str, Any] | None = None,
        name: str = "settings.json",
    ) -> Path:
        """A ``--settings`` file whose hooks append ``{"event", "at", "payload", "raw"}`` lines
        to ``out`` (default ``root/hooks.jsonl``); with ``statusline_out`` a statusLine
        command records its stdin there too and prints ``podium-test-status``."""
        recorder = self.root / "record_hook.py"
        if not recorder.exists():
            recorder.write_text(_RECORDER)
        out = Path(out) if out is not None else self.root / "hooks.jsonl"
        py = shlex.quote(sys.executable)

        def command(event: str, target: Path) -> str:
            return f"{py} {shlex.quote(str(recorder))} {event} {shlex.quote(str(target))}"

        settings: dict[str, Any] = {
            "hooks": {
                ev: [
                    {
                        "matcher": "",
                        "hooks": [{"type": "command", "command": command(ev, out), "timeout": 10}],
                    }
                ]
                for ev in events
            }
        }
        if statusline_out is not None:
            settings["statusLine"] = {
                "type": "command",
                "command": command("statusline", Path(statusline_out)),
            }
        settings.update(extra or {})
        path = self.root / name
        path.write_text(json.dumps(settings, indent=2))
        return path

    # -- running ----------------------------------------------------------------------------
    def argv(self, *args: str) -> list[str]:
        return [str(self.bin), *args]

    def run_headless(
        self,
        prompt: str,
        *args: str,
        cwd: str | os.PathLike[str] | None = None,
        output_format: str = "stream-json",
        timeout: float = 120,
        env: Mapping[str, str] | None = None,
    ) -> Headless:
        """``claude -p PROMPT --output-format FMT [--verbose] ARGS…`` in ``cwd`` (the work dir)."""
        argv = self.argv("-p", prompt, "--output-format", output_format)
        if output_format == "stream-json":
            argv.append("--verbose")
        argv.extend(args)
        proc = subprocess.run(
            argv,
            cwd=str(cwd or self.work_dir),
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        events = []
        for line in proc.stdout.splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                events.append(obj)
        return Headless(proc.returncode, proc.stdout, proc.stderr, events)

    def launcher(
        self,
        *args: str,
        cwd: str | os.PathLike[str] | None = None,
        name: str = "launch-claude.sh",
    ) -> Path:
        """A 0700 ``sh`` script that sets the bed's environment, changes to ``cwd`` and
        ``exec``s ``claude ARGS…``: a tmux window command that keeps the API key off the
        command line."""
        lines = ["#!/bin/sh", "set -e"]
        lines += [f"export {k}={shlex.quote(v)}" for k, v in sorted(self.env.items())]
        lines.append(f"cd {shlex.quote(str(cwd or self.work_dir))}")
        lines.append("exec " + " ".join(shlex.quote(a) for a in self.argv(*args)))
        path = self.root / name
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o700)
        return path


def _base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_DROP_PREFIXES) and k not in _DROP and k != "TMUX"
    }
    env.setdefault("PATH", os.defpath)
    env["TZ"] = "UTC"  # deterministic "resets 6pm (UTC)" texts
    env["TERM"] = "xterm-256color"
    env.update(QUIET_ENV)
    env.update(extra or {})
    return env


def _keep_projects(existing: Mapping[str, Any]) -> dict[str, Any]:
    projects = existing.get("projects")
    return {"projects": projects} if isinstance(projects, dict) else {}


def make_bed(
    root: str | os.PathLike[str],
    claude_bin: str | os.PathLike[str],
    api: FakeAnthropic,
    *,
    work_dirs: Iterable[Any] = (),
    auth: str = "api_key",
    api_key: str = TEST_API_KEY,
    env: Mapping[str, str] | None = None,
    config_dir: str | os.PathLike[str] | None = None,
    work_dir: str | os.PathLike[str] | None = None,
    home: str | os.PathLike[str] | None = None,
) -> ClaudeBed:
    """Make a bed under ``root``: ``config/`` (CLAUDE_CONFIG_DIR), ``home/`` (HOME) and
    ``work/`` (trusted, with ``work_dirs``) unless given. ``env`` is added last (e.g. a
    podium test's own variables). An existing ``.claude.json`` in ``config_dir`` is kept and
    only gets the onboarding/API-key/trust entries added."""
    if auth not in ("api_key", "gateway"):
        raise ValueError(f"auth must be 'api_key' or 'gateway', not {auth!r}")
    root = Path(root)
    config_dir = Path(config_dir) if config_dir is not None else root / "config"
    home = Path(home) if home is not None else root / "home"
    work = Path(work_dir) if work_dir is not None else root / "work"
    for d in (root, config_dir, home, work):
        d.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "hasCompletedOnboarding": True,
        "lastOnboardingVersion": CLAUDE_VERSION,
        "numStartups": 1,
        "theme": "dark",
        "autoUpdates": False,
        "bypassPermissionsModeAccepted": True,
        "projects": {},
    }
    if auth == "api_key":
        config["customApiKeyResponses"] = {"approved": [api_key[-20:]], "rejected": []}
    path = _config_file(config_dir)
    existing = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**existing, **config, **_keep_projects(existing)}, indent=2))
    full_env = _base_env(None)
    full_env.update(
        ANTHROPIC_BASE_URL=api.base_url,
        CLAUDE_CONFIG_DIR=str(config_dir),
        HOME=str(home),
    )
    if auth == "api_key":
        full_env["ANTHROPIC_API_KEY"] = api_key
    else:
        full_env["ANTHROPIC_AUTH_TOKEN"] = gateway_token()
    full_env.update(env or {})
    bed = ClaudeBed(
        bin=Path(claude_bin),
        api=api,
        root=root,
        config_dir=config_dir,
        home=home,
        work_dir=work,
        env=full_env,
        auth=auth,
    )
    bed.trust(work, *work_dirs)
    return bed


# -- pytest fixtures ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def claude_bin() -> Path:
    try:
        return find_claude_bin()
    except ClaudeUnavailable as exc:
        pytest.skip(f"REAL CLAUDE CODE CLI UNAVAILABLE — {exc}")


@pytest.fixture
def fake_api() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as api:
        yield api


class ClaudeEnv(dict[str, str]):
    """The environment dict of a bed (what ``claude_env`` returns); ``.bed`` is the bed."""

    bed: ClaudeBed


@pytest.fixture
def make_claude_bed(tmp_path: Path, claude_bin: Path, fake_api: FakeAnthropic) -> Any:
    counter = iter(range(1, 1000))

    def factory(**kwargs: Any) -> ClaudeBed:
        root = Path(tempfile.mkdtemp(prefix=f"bed{next(counter)}-", dir=tmp_path))
        return make_bed(root, claude_bin, kwargs.pop("api", fake_api), **kwargs)

    return factory


@pytest.fixture
def claude_env(tmp_path: Path, claude_bin: Path, fake_api: FakeAnthropic) -> ClaudeEnv:
    bed = make_bed(tmp_path / "claude-bed", claude_bin, fake_api)
    env = ClaudeEnv(bed.env)
    env.bed = bed
    return env


@pytest.fixture
def claude_bed(claude_env: ClaudeEnv) -> ClaudeBed:
    return claude_env.bed
