"""A session's changes from a real git repository: what the tower's diff view shows.

The repository is one a hostile project could ship: its config and attributes
name an fsmonitor hook, an external diff, a textconv, a diff driver command, a
clean filter and a pager, each of which would leave a marker file if git ran it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import PodiumEnv

from sessions import changes as changes_mod
from sessions.changes import changes, start_commit

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), "-c", "core.hooksPath=/dev/null", *args],
        env=GIT_ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "f.txt").write_text("one\ntwo\n")
    (repo / ".gitignore").write_text("ignored.log\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "first")
    return repo


def _hostile(repo: Path, marks: Path) -> list[Path]:
    """Config and attributes that run a command wherever git lets them; the markers."""
    names = ["fsmonitor", "external", "textconv", "command", "clean", "pager"]
    mark = {name: marks / f"ran-{name}" for name in names}
    (repo / ".gitattributes").write_text("*.txt diff=evil filter=evil\n")
    git(repo, "config", "core.fsmonitor", f"touch {mark['fsmonitor']}; false")
    git(repo, "config", "diff.external", f"touch {mark['external']}")
    git(repo, "config", "diff.evil.textconv", f"touch {mark['textconv']}; cat")
    git(repo, "config", "diff.evil.command", f"touch {mark['command']}")
    git(repo, "config", "filter.evil.clean", f"touch {mark['clean']}; cat")
    git(repo, "config", "filter.evil.required", "true")
    git(repo, "config", "core.pager", f"touch {mark['pager']}; cat")
    return list(mark.values())


def test_changes_since_the_start_commits_and_untracked_files(repo: Path) -> None:
    start = start_commit(str(repo))
    assert start == git(repo, "rev-parse", "HEAD").strip()
    (repo / "f.txt").write_text("one\nTWO\n")
    git(repo, "commit", "-qam", "second")
    (repo / "f.txt").write_text("one\nTWO\nthree\n")  # and not committed
    (repo / "new.txt").write_text("x\n")
    (repo / "ignored.log").write_text("x\n")
    found = changes(str(repo), start)
    assert found.problem is None
    assert (found.base, found.base_is_start, found.commits, found.branch) == (
        start,
        True,
        1,
        "main",
    )
    assert "-two\n+TWO\n+three\n" in found.patch
    assert found.summary == "1 file changed, 2 insertions(+), 1 deletion(-)"
    assert found.untracked == ["new.txt"]
    # Without a recorded start: what is not committed yet.
    head = changes(str(repo), None)
    assert not head.base_is_start and "+three" in head.patch and "-two" not in head.patch


def test_a_hostile_repository_runs_nothing(repo: Path, tmp_path: Path) -> None:
    marks = _hostile(repo, tmp_path)
    start = start_commit(str(repo))
    (repo / "f.txt").write_text("one\nTWO\n")
    found = changes(str(repo), start)
    assert found.problem is None, found.problem
    assert "+TWO" in found.patch  # the file's own text: no textconv, no filter
    assert not [m.name for m in marks if m.exists()]
    # The same repository does run them for a plain `git diff`: the test can fail.
    subprocess.run(["git", "-C", str(repo), "diff"], env=GIT_ENV, capture_output=True)
    assert any(m.exists() for m in marks)


def test_what_cannot_be_diffed_is_said_in_one_line(tmp_path: Path, repo: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert start_commit(str(plain)) is None
    problem = changes(str(plain), None).problem
    assert problem == f"{plain} is not in a git repository: there is no diff to show"
    assert changes(str(tmp_path / "gone"), None).problem == (
        f"the directory is gone: {tmp_path / 'gone'}"
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    (empty / "a.txt").write_text("a\n")
    assert start_commit(str(empty)) is None  # no commit yet
    fresh = changes(str(empty), None)
    assert fresh.problem is None and fresh.untracked == ["a.txt"]


def test_without_git(monkeypatch: pytest.MonkeyPatch, repo: Path) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    found = changes(str(repo), None)
    assert found.problem == "git is not installed (not found on PATH): no diff without it"
    assert start_commit(str(repo)) is None


def test_a_long_diff_is_cut(monkeypatch: pytest.MonkeyPatch, repo: Path) -> None:
    monkeypatch.setattr(changes_mod, "MAX_PATCH_BYTES", 200)
    (repo / "f.txt").write_text("".join(f"line {i}\n" for i in range(500)))
    found = changes(str(repo), None)
    assert found.patch_cut and len(found.patch) == 200 and found.problem is None


def test_a_session_records_where_it_started(engine: PodiumEnv, repo: Path) -> None:
    env = engine
    head = git(repo, "rev-parse", "HEAD").strip()
    out = env.run("new", "--agent", "shell", "--name", "r", "--cwd", str(repo))
    assert out.returncode == 0, out.stderr
    assert env.session("r")["start_commit"] == head
    out = env.run("new", "--agent", "shell", "--name", "w", "--cwd", str(repo), "--worktree")
    assert out.returncode == 0, out.stderr
    assert env.session("w")["start_commit"] == head  # the worktree's branch starts at HEAD
    out = env.run("new", "--agent", "shell", "--name", "p", "--cwd", str(env.workdir))
    assert out.returncode == 0, out.stderr
    assert env.session("p")["start_commit"] is None
