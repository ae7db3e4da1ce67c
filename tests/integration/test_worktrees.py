"""`podium new --worktree` and `podium kill --cleanup` with real git, tmux and engine."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import PodiumEnv
from libtmux.test.retry import retry_until

IDENTITY = ["-c", "user.name=podium test", "-c", "user.email=test@podium.invalid"]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *IDENTITY, "-C", str(cwd), *args], capture_output=True, text=True, check=True
    ).stdout


def branches(repo: Path) -> set[str]:
    return set(git(repo, "branch", "--format=%(refname:short)").split())


@pytest.fixture
def wt_engine(podium_env: PodiumEnv) -> PodiumEnv:
    """An engine whose git ignores the user's global and system config."""
    podium_env.env.update(
        GIT_CONFIG_GLOBAL=str(podium_env.root / "gitconfig"), GIT_CONFIG_NOSYSTEM="1"
    )
    out = podium_env.run("engine", "start")
    assert out.returncode == 0, out.stderr
    return podium_env


@pytest.fixture
def repo(wt_engine: PodiumEnv) -> Path:
    path = wt_engine.workdir / "proj"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "README").write_text("hi\n")
    git(path, "add", "README")
    git(path, "commit", "-q", "-m", "first")
    return path


def pane_path(env: PodiumEnv, pane: str) -> str:
    return env.tmux("display", "-p", "-t", pane, "#{pane_current_path}").stdout.strip()


def test_new_worktree_then_cleanup(wt_engine: PodiumEnv, repo: Path):
    env = wt_engine
    rec = env.json(
        "new", "--worktree", "--name", "my feature", "--agent", "shell", "--cwd", str(repo)
    )
    expected = repo.parent / "proj.worktrees" / "my-feature"
    assert rec["worktree_path"] == str(expected) == rec["cwd"]
    assert rec["worktree_branch"] == "podium/my-feature"
    assert rec["worktree_repo"] == str(repo)
    assert expected.is_dir() and (expected / "README").exists()
    assert git(expected, "branch", "--show-current").strip() == "podium/my-feature"
    # The pane starts in the worktree, and the agent sees it as its directory.
    retry_until(lambda: pane_path(env, rec["pane_id"]) == str(expected), 10)
    env.run("send", "my feature", "pwd > where.txt", check=True)
    retry_until(lambda: (expected / "where.txt").exists(), 10)
    assert (expected / "where.txt").read_text().strip() == str(expected)
    (expected / "where.txt").unlink()
    # ls shows it: all three in JSON, the branch in the table.
    [listed] = env.json("ls")
    assert listed["worktree_branch"] == "podium/my-feature"
    assert listed["worktree_path"] == str(expected)
    table = env.run("ls").stdout
    assert "BRANCH" in table and "podium/my-feature" in table

    out = env.run("kill", "--cleanup", "my feature")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "killed my feature",
        f"removed worktree {expected}",
        "deleted branch podium/my-feature",
    ]
    assert not expected.exists() and not expected.parent.exists()
    assert branches(repo) == {"main"}
    assert env.json("ls") == []
    assert str(expected) not in git(repo, "worktree", "list")


def test_dirty_worktree_is_refused_and_everything_stays(wt_engine: PodiumEnv, repo: Path):
    env = wt_engine
    rec = env.json("new", "--worktree", "--name", "dirty", "--agent", "shell", "--cwd", str(repo))
    path = Path(rec["worktree_path"])
    (path / "notes.txt").write_text("precious")
    out = env.run("kill", "--cleanup", "dirty")
    assert out.returncode == 1
    assert out.stderr == (
        f"podium: worktree {path} has uncommitted changes (1 file); commit or stash them, "
        f"or remove it yourself with git worktree remove --force {path}\n"
    )
    # Nothing went: the session, its pane, the file, the branch.
    assert env.session("dirty")["state"] not in ("exited", "lost")
    panes = env.tmux("list-panes", "-a", "-F", "#{pane_id}").stdout.split()
    assert rec["pane_id"] in panes
    assert (path / "notes.txt").read_text() == "precious"
    assert "podium/dirty" in branches(repo)

    # Plain kill never touches the worktree, and says where it is.
    out = env.run("kill", "dirty")
    assert out.returncode == 0, out.stderr
    assert f"its worktree stays at {path} (branch podium/dirty)" in out.stdout
    assert (path / "notes.txt").read_text() == "precious"
    assert "podium/dirty" in branches(repo)


def test_unmerged_branch_is_kept(wt_engine: PodiumEnv, repo: Path):
    env = wt_engine
    rec = env.json("new", "--worktree", "--name", "work", "--agent", "shell", "--cwd", str(repo))
    path = Path(rec["worktree_path"])
    (path / "feature.txt").write_text("done\n")
    git(path, "add", "feature.txt")
    git(path, "commit", "-q", "-m", "feature")
    out = env.run("kill", "--cleanup", "work")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[1] == f"removed worktree {path}"
    assert lines[2].startswith("kept branch podium/work: ") and "not fully merged" in lines[2]
    assert not path.exists() and "podium/work" in branches(repo)


def test_existing_branch_and_branch_checked_out_elsewhere(wt_engine: PodiumEnv, repo: Path):
    env = wt_engine
    git(repo, "branch", "topic")
    rec = env.json(
        "new", "--worktree", "--branch", "topic", "--name", "t", "--agent", "shell",
        "--cwd", str(repo),
    )  # fmt: skip
    assert rec["worktree_branch"] == "topic"
    out = env.run("new", "--worktree", "--branch", "main", "--agent", "shell", "--cwd", str(repo))
    assert out.returncode == 1
    assert out.stderr.startswith(f"podium: branch main is checked out at {repo};")
    assert [s["name"] for s in env.json("ls")] == ["t"]
    # A branch podium did not make is never deleted, merged or not.
    out = env.run("kill", "--cleanup", "t")
    assert out.returncode == 0, out.stderr
    assert "kept branch topic: it existed before the session" in out.stdout
    assert "topic" in branches(repo)


def test_not_a_git_repository(wt_engine: PodiumEnv):
    env = wt_engine
    plain = env.workdir / "plain"
    plain.mkdir()
    out = env.run("new", "--worktree", "--name", "x", "--agent", "shell", "--cwd", str(plain))
    assert out.returncode == 1
    assert out.stderr == f"podium: not a git repository: {plain}; --worktree needs one\n"
    assert env.json("ls") == []
    assert sorted(p.name for p in env.workdir.iterdir()) == ["plain"]
    assert not list(plain.iterdir())
    assert not any((env.data / "agent-settings").glob("*.json"))


def test_existing_worktree_dir_is_an_error(wt_engine: PodiumEnv, repo: Path):
    env = wt_engine
    taken = repo.parent / "proj.worktrees" / "busy"
    taken.mkdir(parents=True)
    (taken / "mine.txt").write_text("keep")
    out = env.run("new", "--worktree", "--name", "busy", "--agent", "shell", "--cwd", str(repo))
    assert out.returncode == 1 and "exists already" in out.stderr
    assert (taken / "mine.txt").read_text() == "keep"
    assert branches(repo) == {"main"} and env.json("ls") == []


def test_cleanup_without_worktree_just_kills(wt_engine: PodiumEnv):
    env = wt_engine
    env.json("new", "--name", "plain", "--agent", "shell")
    out = env.run("kill", "--cleanup", "plain")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "killed plain\nit had no worktree to clean up\n"
    assert env.json("ls") == []


def test_branch_without_worktree_is_bad_usage(wt_engine: PodiumEnv):
    out = wt_engine.run("new", "--branch", "x", "--agent", "shell")
    assert out.returncode == 2 and "--branch needs --worktree" in out.stderr
