"""What a session changed: `git diff` of its directory against where it started.

A session made in a git repository keeps the commit its checkout was at
(`start_commit`, migration 0011: `start_commit` below, run as it starts). The
tower's diff view (`d`) shows `changes`: the diff of the working tree against
that commit (its commits since and what is not committed yet), and the names
of untracked files, as claude-squad's diff tab does. A session without a
recorded start (made before podium recorded it) is compared with HEAD: what
is not committed yet.

The directory comes from a session record, and the repository in it may be
anybody's (a cloned project, an agent's own work): nothing in its config or
attributes may run a command. So git runs as argv, never through a shell, with
`--no-pager`, no external diff or textconv (`--no-ext-diff`, `--no-textconv`),
`core.fsmonitor` and hooks off, no transport (a partial clone's lazy fetch
could run an ssh command or an `ext::` remote), no submodule status (it would
run git in each submodule), and every filter driver the config names emptied
(a `clean` filter runs on each changed file) — passed as `GIT_CONFIG_KEY_n`
variables, which take a driver's name as it is. No optional index locks: an
agent may be running git at the same moment.

Everything here blocks (it runs git): call it from a worker thread. It never
raises for git's sake: a directory that is not a repository, git missing or
failing become `Changes.problem`, one line for the person.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field

from sessions.worktree import GIT_LOCATION_VARS

GIT_TIMEOUT = 30.0
# The most of a diff shown: a generated file can make megabytes of it.
MAX_PATCH_BYTES = 2 * 1024 * 1024

# Variables of the caller's that would run a program or reconfigure git.
_GIT_COMMAND_VARS = ("GIT_EXTERNAL_DIFF", "GIT_PAGER", "PAGER", "GIT_CONFIG_PARAMETERS")
# Config that must not come from the repository, whatever it says.
_SAFE_CONFIG = (
    ("core.fsmonitor", "false"),  # a command git runs to learn which files changed
    ("core.hooksPath", os.devnull),
    ("diff.external", ""),  # --no-ext-diff too
    ("protocol.allow", "never"),  # no transport: a lazy fetch runs ssh or an ext:: remote
    ("color.ui", "never"),
    ("core.pager", "cat"),  # --no-pager too
)
_DIFF_OPTIONS = (
    "--no-ext-diff",
    "--no-textconv",
    "--no-color",
    "--ignore-submodules=dirty",  # else git runs `git status` inside each submodule
)
_FILTER_KEY = re.compile(r"^filter\.(.+)\.[^.]+$", re.DOTALL)


@dataclass(frozen=True)
class Changes:
    """A session's changes as the diff view shows them; `problem` instead when there
    are none to show (not a repository, no git, git failed)."""

    directory: str
    problem: str | None = None
    branch: str | None = None
    # What the diff is against: the session's start, or HEAD when none is recorded.
    base: str | None = None
    base_is_start: bool = False
    commits: int | None = None  # commits since the start
    summary: str = ""  # git's own "3 files changed, 10 insertions(+)", or ""
    patch: str = ""
    patch_cut: bool = False  # cut at MAX_PATCH_BYTES
    untracked: list[str] = field(default_factory=list)


class _GitFailed(Exception):
    """git could not say: the message is one line for the person."""


def _env(overrides: list[tuple[str, str]]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in GIT_LOCATION_VARS
        and k not in _GIT_COMMAND_VARS
        and not k.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))
    }
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["GIT_NO_LAZY_FETCH"] = "1"
    settings = [*_SAFE_CONFIG, *overrides]
    env["GIT_CONFIG_COUNT"] = str(len(settings))
    for i, (key, value) in enumerate(settings):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env


def _run(
    cwd: str, args: list[str], overrides: list[tuple[str, str]], limit: int | None = None
) -> tuple[int, bytes, str, bool]:
    """(exit status, stdout, git's reason, cut) of `git -C cwd ARGS`; stdout read up to
    `limit` bytes (then git is stopped, and its status is 0: it said enough)."""
    argv = ["git", "--no-pager", "-C", cwd, *args]
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(overrides),
        )
    except FileNotFoundError:
        raise _GitFailed("git is not installed (not found on PATH): no diff without it") from None
    except OSError as exc:
        raise _GitFailed(f"cannot run git: {exc.strerror or exc}") from None
    assert proc.stdout is not None
    cut = False
    try:
        if limit is None:
            out, err = proc.communicate(timeout=GIT_TIMEOUT)
        else:
            out = proc.stdout.read(limit + 1)
            cut = len(out) > limit
            if cut:
                proc.kill()
            _rest, err = proc.communicate(timeout=GIT_TIMEOUT)
            out = out[:limit]
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise _GitFailed(f"git {args[0]} took longer than {GIT_TIMEOUT:.0f} s; gave up") from None
    status = 0 if cut else proc.returncode
    return status, out, _why(err, proc.returncode), cut


def _must(
    cwd: str, args: list[str], overrides: list[tuple[str, str]], limit: int | None = None
) -> tuple[bytes, bool]:
    """stdout (and whether it was cut) of a git command that must succeed."""
    status, out, why, cut = _run(cwd, args, overrides, limit)
    if status != 0:
        raise _GitFailed(why)
    return out, cut


def _why(stderr: bytes, status: int) -> str:
    """git's reason in one line: its first line of stderr without `fatal:`."""
    for line in stderr.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line:
            return re.sub(r"^(fatal|error): ", "", line)
    return f"git exited with status {status}"


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _filter_overrides(cwd: str) -> list[tuple[str, str]]:
    """Every filter driver the config names, emptied: `filter.<name>.clean` would run
    on each changed file that the attributes give it."""
    args = ["config", "-z", "--name-only", "--get-regexp", r"^filter\."]
    status, out, why, _cut = _run(cwd, args, [])
    if status not in (0, 1):  # 1: none
        raise _GitFailed(f"cannot read the repository's config: {why}")
    names = {m[1] for key in _text(out).split("\0") if (m := _FILTER_KEY.match(key))}
    return [
        (f"filter.{name}.{var}", value)
        for name in sorted(names)
        for var, value in (("clean", ""), ("smudge", ""), ("process", ""), ("required", "false"))
    ]


def _toplevel(cwd: str) -> str:
    status, out, why, _cut = _run(cwd, ["rev-parse", "--show-toplevel"], [])
    if status != 0 and "not a git repository" in why:
        raise _GitFailed(f"{cwd} is not in a git repository: there is no diff to show")
    if status != 0 or not out.strip():
        raise _GitFailed(why)  # e.g. a repository of another user's ("dubious ownership")
    return _text(out).rstrip("\n")


def start_commit(cwd: str) -> str | None:
    """The commit the checkout at `cwd` is at, for a session starting there; None outside
    a git repository, in one without commits, or without git."""
    try:
        _toplevel(cwd)
        status, out, _reason, _cut = _run(
            cwd, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], []
        )
    except (_GitFailed, OSError):
        return None
    sha = _text(out).strip()
    return sha if status == 0 and re.fullmatch(r"[0-9a-f]{40,64}", sha) else None


def changes(directory: str, start: str | None) -> Changes:
    """The changes in `directory` since commit `start` (None: since HEAD)."""
    if not os.path.isdir(directory):
        return Changes(directory, problem=f"the directory is gone: {directory}")
    try:
        return _changes(directory, start)
    except _GitFailed as exc:
        return Changes(directory, problem=str(exc))


def _changes(directory: str, start: str | None) -> Changes:
    top = _toplevel(directory)
    safe = _filter_overrides(top)
    base_is_start = False
    base: str | None = None
    if start and re.fullmatch(r"[0-9a-f]{40,64}", start):
        found = _run(top, ["cat-file", "-e", f"{start}^{{commit}}"], safe)[0]
        if found == 0:
            base, base_is_start = start, True
    if base is None:
        status, out, _reason, _cut = _run(top, ["rev-parse", "--verify", "--quiet", "HEAD"], safe)
        base = _text(out).strip() if status == 0 else None
    if base is None:
        # No commit yet: everything is new, against the empty tree.
        base = _text(_must(top, ["hash-object", "-t", "tree", os.devnull], safe)[0]).strip()
    status, out, _reason, _cut = _run(top, ["symbolic-ref", "--quiet", "--short", "HEAD"], safe)
    branch = _text(out).strip() if status == 0 else None
    commits = None
    if base_is_start:
        out, _cut = _must(top, ["rev-list", "--count", f"{base}..HEAD"], safe)
        commits = int(_text(out).strip() or 0)
    summary, _cut = _must(top, ["diff", *_DIFF_OPTIONS, "--shortstat", base, "--"], safe)
    patch, cut = _must(
        top, ["diff", *_DIFF_OPTIONS, "--patch", base, "--"], safe, limit=MAX_PATCH_BYTES
    )
    names, _cut = _must(top, ["ls-files", "--others", "--exclude-standard", "-z"], safe)
    return Changes(
        directory,
        branch=branch,
        base=base,
        base_is_start=base_is_start,
        commits=commits,
        summary=_text(summary).strip(),
        patch=_text(patch),
        patch_cut=cut,
        untracked=[name for name in _text(names).split("\0") if name],
    )
