"""Git worktrees for sessions: one checkout and one branch per agent.

`podium new --worktree` gives a session its own `git worktree` so that agents
working on the same repository do not edit the same files. The worktree goes
next to the repository, outside it, at `<repo-parent>/<repo-name>.worktrees/<name>`:
outside so it never shows as untracked files in the repository, beside it so
the user finds it (and no podium data dir clean-up can ever take it along).

Safety rules, because a worktree holds the user's work:
- git always gets argv lists, never a shell string, and never `--force`/`-D`;
- a worktree with uncommitted or untracked changes, or a detached HEAD whose
  commits are on no branch, is not removed;
- a branch is deleted with `git branch -d` only, and only one podium created;
  when git refuses, the branch stays and the caller is told why.

Everything here blocks (it runs git); the engine calls it in worker threads.
Failures raise `WorktreeError` with a message for the user.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sessions.launch import person_umask

BRANCH_PREFIX = "podium/"
GIT_TIMEOUT = 120.0

# Variables that would point git at another repository than the one asked
# about (set, e.g., when podium is started from inside a git hook).
GIT_LOCATION_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class WorktreeError(Exception):
    """A worktree cannot be made or removed; the message says why and what to do."""


@dataclass(frozen=True)
class Worktree:
    path: Path
    branch: str
    repo: Path  # the repository's main worktree (or bare directory)
    created_branch: bool  # podium made the branch, so it may delete it (if merged)


@dataclass
class Removal:
    """What `remove` did; `notes` are lines for the user."""

    removed: bool = False
    branch_deleted: bool = False
    notes: list[str] = field(default_factory=list)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in GIT_LOCATION_VARS}
    # Never wait for a password or an editor: nobody is there to answer.
    env["GIT_TERMINAL_PROMPT"] = "0"
    # `git status` would otherwise refresh the index and take its lock under
    # an agent that may be running git at the same moment.
    env["GIT_OPTIONAL_LOCKS"] = "0"
    return env


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(cwd), *args],
            capture_output=True,
            text=True,
            errors="surrogateescape",
            stdin=subprocess.DEVNULL,
            env=_env(),
            # The engine's own umask is 0o077; the checkout is the person's project.
            umask=person_umask(),
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise WorktreeError("git is not installed (not found on PATH); worktrees need it") from None
    except subprocess.TimeoutExpired:
        raise WorktreeError(
            f"git {args[0]} in {cwd} took longer than {GIT_TIMEOUT:.0f}s; gave up"
        ) from None


def _why(out: subprocess.CompletedProcess[str]) -> str:
    """git's own reason, in one line: its first line of stderr without the `fatal:`."""
    for line in (out.stderr or out.stdout).splitlines():
        line = line.strip()
        if line:
            return re.sub(r"^(fatal|error): ", "", line)
    return f"git exited with status {out.returncode}"


def slug(name: str) -> str:
    """A directory name and branch-name component made from a session name.

    Only `[A-Za-z0-9._-]`, no `..`, no leading or trailing `.`/`-`, no
    `.lock` ending: safe as a file name and valid as a git ref component.
    A name with nothing usable left gets a stable `session-<hash>`.
    """
    s = _UNSAFE.sub("-", name)
    s = re.sub(r"\.{2,}", ".", s)
    s = re.sub(r"-{2,}", "-", s)
    while True:
        s = s.strip(".-")
        if not s.endswith(".lock"):
            break
        s = s.removesuffix(".lock")
    if not s:
        s = "session-" + hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return s[:64]


def default_branch(name: str) -> str:
    return BRANCH_PREFIX + slug(name)


def worktree_dir(repo: Path, name: str) -> Path:
    """Where the worktree of session `name` goes: beside the repository, outside it."""
    return repo.parent / f"{repo.name}.worktrees" / slug(name)


@dataclass(frozen=True)
class _Checkout:
    path: Path
    branch: str | None  # short name; None when detached or bare


def _checkouts(top: Path) -> list[_Checkout]:
    """Every worktree of the repository, the main one first (`git worktree list`)."""
    out = _git(top, "worktree", "list", "--porcelain", "-z")
    if out.returncode != 0:
        raise WorktreeError(f"cannot list the worktrees of {top}: {_why(out)}")
    found: list[_Checkout] = []
    path: Path | None = None
    branch: str | None = None
    # -z: NUL after each attribute, an empty field between worktrees; paths
    # may hold newlines.
    for item in [*out.stdout.split("\0"), ""]:
        if not item:
            if path is not None:
                found.append(_Checkout(path, branch))
            path, branch = None, None
        elif item.startswith("worktree "):
            path = Path(item.removeprefix("worktree "))
        elif item.startswith("branch "):
            branch = item.removeprefix("branch ").removeprefix("refs/heads/")
    if not found:
        raise WorktreeError(f"git lists no worktrees for {top}")
    return found


def find_repo(cwd: Path) -> tuple[Path, Path]:
    """(the checkout holding `cwd`, the repository's main worktree) or WorktreeError."""
    if not cwd.is_dir():
        raise WorktreeError(f"no such directory: {cwd}")
    out = _git(cwd, "rev-parse", "--show-toplevel")
    if out.returncode != 0 or not out.stdout.strip():
        raise WorktreeError(f"not a git repository: {cwd}; --worktree needs one")
    top = Path(out.stdout.rstrip("\n"))
    return top, _checkouts(top)[0].path


def _check_branch_name(top: Path, branch: str) -> None:
    out = _git(top, "check-ref-format", "--branch", branch)
    # check-ref-format expands `@{-1}` and friends; podium wants literal names.
    if branch.startswith("-") or out.returncode != 0 or out.stdout.strip() != branch:
        raise WorktreeError(f"not a valid git branch name: {branch!r}")


def create(cwd: Path, name: str, branch: str | None = None) -> Worktree:
    """Make the worktree of session `name` for the repository holding `cwd`.

    `branch` (default `podium/<slug>`) is checked out when it exists and is
    not checked out elsewhere, else created from the HEAD of `cwd`'s checkout.
    Nothing is deleted or overwritten: an existing directory is an error.
    """
    top, repo = find_repo(cwd)
    branch = branch if branch is not None else default_branch(name)
    _check_branch_name(top, branch)
    path = worktree_dir(repo, name)
    if path.exists() or path.is_symlink():
        raise WorktreeError(
            f"worktree directory {path} exists already; choose another --name, "
            "or remove it yourself"
        )
    for checkout in _checkouts(top):
        if checkout.branch == branch:
            raise WorktreeError(
                f"branch {branch} is checked out at {checkout.path}; "
                "choose another --branch, or switch that checkout to another branch"
            )
    exists = _git(top, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}").returncode == 0
    if exists:
        out = _git(top, "worktree", "add", "--", str(path), branch)
    else:
        if _git(top, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").returncode != 0:
            raise WorktreeError(
                f"the repository at {top} has no commits yet; commit once, then retry"
            )
        # HEAD spelled out: without a start point git may guess a remote branch.
        out = _git(top, "worktree", "add", "-b", branch, "--", str(path), "HEAD")
    if out.returncode != 0:
        raise WorktreeError(f"git worktree add {path} failed: {_why(out)}")
    return Worktree(path=path, branch=branch, repo=repo, created_branch=not exists)


def check_removable(path: Path) -> None:
    """Raise WorktreeError unless removing worktree `path` loses nothing.

    A missing directory passes (there is nothing left to lose). "Clean" is
    git's own rule for `git worktree remove`: no changes to tracked files and
    no untracked files; ignored files (build output) go with the worktree.
    """
    if not path.exists():
        return
    out = _git(path, "rev-parse", "--show-toplevel")
    if out.returncode != 0 or Path(out.stdout.rstrip("\n")).resolve() != path.resolve():
        # Without its .git file, git would look upwards and report on some
        # other repository; podium leaves such a directory alone.
        raise WorktreeError(f"{path} is no longer a git worktree; podium leaves it alone")
    out = _git(path, "status", "--porcelain", "--ignore-submodules=none")
    if out.returncode != 0:
        raise WorktreeError(f"cannot check worktree {path}: {_why(out)}")
    changes = [line for line in out.stdout.splitlines() if line.strip()]
    if changes:
        raise WorktreeError(
            f"worktree {path} has uncommitted changes ({len(changes)} "
            f"{'file' if len(changes) == 1 else 'files'}); commit or stash them, or remove "
            f"it yourself with git worktree remove --force {shlex.quote(str(path))}"
        )
    if _git(path, "symbolic-ref", "--quiet", "HEAD").returncode != 0:
        # Detached: its commits may be on no branch, and removing the worktree
        # would leave them reachable only from a reflog that goes with it.
        out = _git(path, "for-each-ref", "--count=1", "--contains", "HEAD", "--format=%(refname)")
        if out.returncode != 0 or not out.stdout.strip():
            raise WorktreeError(
                f"worktree {path} has a detached HEAD with commits on no branch; "
                "keep them with git branch NAME there, or remove the worktree yourself"
            )


def _count_ignored(path: Path) -> int:
    out = _git(path, "status", "--porcelain", "--ignored", "--untracked-files=normal")
    if out.returncode != 0:
        return 0
    return sum(1 for line in out.stdout.splitlines() if line.startswith("!! "))


def remove(wt: Worktree) -> Removal:
    """Remove worktree `wt` if clean, then its branch if podium made it and it is merged.

    Never raises for git's refusals: what was kept, and why, is in the notes.
    """
    result = Removal()
    try:
        check_removable(wt.path)
        if wt.path.exists():
            ignored = _count_ignored(wt.path)
            out = _git(wt.repo, "worktree", "remove", "--", str(wt.path))
            if out.returncode != 0:
                result.notes.append(f"kept worktree {wt.path}: {_why(out)}")
                return result
            extra = f" (with {ignored} ignored files or directories)" if ignored else ""
            result.notes.append(f"removed worktree {wt.path}{extra}")
        else:
            # git still lists it; `worktree remove` of a missing directory
            # only drops that entry.
            _git(wt.repo, "worktree", "remove", "--", str(wt.path))
            result.notes.append(f"worktree {wt.path} was gone already")
        result.removed = True
        # `<repo>.worktrees/` was podium's; rmdir only ever removes it empty.
        with contextlib.suppress(OSError):
            wt.path.parent.rmdir()
        if not wt.created_branch:
            result.notes.append(f"kept branch {wt.branch}: it existed before the session")
            return result
        # -d, never -D: git refuses to delete a branch not merged into HEAD
        # (or its upstream), so no commit is ever lost.
        out = _git(wt.repo, "branch", "-d", "--", wt.branch)
        if out.returncode == 0:
            result.branch_deleted = True
            result.notes.append(f"deleted branch {wt.branch}")
        else:
            result.notes.append(f"kept branch {wt.branch}: {_why(out)}")
    except WorktreeError as exc:
        result.notes.append(f"kept worktree {wt.path}: {exc}")
    return result
