"""sessions.worktree against real, temporary git repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sessions import worktree
from sessions.worktree import Worktree, WorktreeError

IDENTITY = {
    "GIT_AUTHOR_NAME": "podium test",
    "GIT_AUTHOR_EMAIL": "test@podium.invalid",
    "GIT_COMMITTER_NAME": "podium test",
    "GIT_COMMITTER_EMAIL": "test@podium.invalid",
}


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key, value in IDENTITY.items():
        monkeypatch.setenv(key, value)
    # The user's ~/.gitconfig (hooks, templates, default branch) stays out.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True
    ).stdout


def branches(repo: Path) -> set[str]:
    return set(git(repo, "branch", "--format=%(refname:short)").split())


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "my repo"
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    (path / "README").write_text("hello\n")
    (path / ".gitignore").write_text("*.o\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "first")
    return path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("api", "api"),
        ("my session", "my-session"),
        ("a/b:c*d?e[f]~g^h", "a-b-c-d-e-f-g-h"),
        ("..x..y..", "x.y"),
        ("-lead", "lead"),
        ("thing.lock", "thing"),
        ("x.lock.lock", "x"),
        ("@{-1}", "1"),
        ("$(rm -rf ~); `id`", "rm-rf-id"),
    ],
)
def test_slug_is_a_safe_dir_and_branch_component(name: str, expected: str):
    assert worktree.slug(name) == expected
    check = subprocess.run(
        ["git", "check-ref-format", "--branch", worktree.default_branch(name)],
        capture_output=True,
        check=False,
    )
    assert check.returncode == 0


def test_slug_of_nothing_usable_is_stable():
    assert worktree.slug("日本語") == worktree.slug("日本語")
    assert worktree.slug("日本語").startswith("session-")
    assert worktree.slug("日本語") != worktree.slug("中文")


def test_create_makes_branch_beside_the_repo(repo: Path):
    wt = worktree.create(repo / ".", "my session")
    assert wt.path == repo.parent / "my repo.worktrees" / "my-session"
    assert wt.branch == "podium/my-session" and wt.created_branch
    assert wt.repo == repo
    assert (wt.path / "README").read_text() == "hello\n"
    assert git(wt.path, "branch", "--show-current").strip() == "podium/my-session"
    # Outside the repository: nothing new shows there as untracked.
    assert git(repo, "status", "--porcelain") == ""


def test_create_from_a_subdirectory_and_from_another_worktree(repo: Path):
    (repo / "sub").mkdir()
    first = worktree.create(repo / "sub", "one")
    # From inside a linked worktree, the new one still goes beside the main repository.
    second = worktree.create(first.path, "two")
    assert second.repo == repo
    assert second.path == repo.parent / "my repo.worktrees" / "two"


def test_new_branch_starts_at_the_current_head(repo: Path):
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "f").write_text("f\n")
    git(repo, "add", "f")
    git(repo, "commit", "-q", "-m", "feature work")
    wt = worktree.create(repo, "x")
    assert git(wt.path, "rev-parse", "HEAD") == git(repo, "rev-parse", "HEAD")


def test_existing_branch_is_checked_out_and_not_marked_created(repo: Path):
    git(repo, "branch", "topic")
    wt = worktree.create(repo, "t", branch="topic")
    assert not wt.created_branch
    assert git(wt.path, "branch", "--show-current").strip() == "topic"


def test_branch_checked_out_elsewhere_is_refused(repo: Path):
    with pytest.raises(WorktreeError, match=r"branch main is checked out at .*my repo"):
        worktree.create(repo, "m", branch="main")
    assert not (repo.parent / "my repo.worktrees").exists()


@pytest.mark.parametrize("branch", ["a b", "-x", "@{-1}", "x..y", "x.lock"])
def test_invalid_branch_names_are_refused(repo: Path, branch: str):
    with pytest.raises(WorktreeError, match="not a valid git branch name"):
        worktree.create(repo, "n", branch=branch)
    assert branches(repo) == {"main"}


def test_not_a_repository(tmp_path: Path):
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(WorktreeError) as info:
        worktree.create(plain, "x")
    assert str(info.value) == f"not a git repository: {plain}; --worktree needs one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain"]  # nothing created


def test_repository_without_commits(tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    with pytest.raises(WorktreeError, match="no commits yet"):
        worktree.create(empty, "x")


def test_existing_directory_is_an_error_and_untouched(repo: Path):
    target = repo.parent / "my repo.worktrees" / "busy"
    target.mkdir(parents=True)
    (target / "keep.txt").write_text("mine")
    with pytest.raises(WorktreeError, match="exists already"):
        worktree.create(repo, "busy")
    assert (target / "keep.txt").read_text() == "mine"
    assert branches(repo) == {"main"}


def test_remove_clean_worktree_and_merged_branch(repo: Path):
    wt = worktree.create(repo, "clean")
    (wt.path / "build.o").write_text("ignored output")
    worktree.check_removable(wt.path)
    removal = worktree.remove(wt)
    assert removal.removed and removal.branch_deleted
    assert not wt.path.exists()
    assert not wt.path.parent.exists()  # the empty <repo>.worktrees/ goes too
    assert branches(repo) == {"main"}
    assert "1 ignored" in removal.notes[0]


def test_unmerged_branch_is_kept(repo: Path):
    wt = worktree.create(repo, "work")
    (wt.path / "new.txt").write_text("work\n")
    git(wt.path, "add", "new.txt")
    git(wt.path, "commit", "-q", "-m", "work")
    removal = worktree.remove(wt)
    assert removal.removed and not removal.branch_deleted
    assert "kept branch podium/work" in removal.notes[-1]
    assert "podium/work" in branches(repo)


def test_branch_podium_did_not_make_is_kept(repo: Path):
    git(repo, "branch", "theirs")
    wt = worktree.create(repo, "t", branch="theirs")
    removal = worktree.remove(wt)
    assert removal.removed and not removal.branch_deleted
    assert "theirs" in branches(repo)
    assert removal.notes[-1] == "kept branch theirs: it existed before the session"


@pytest.mark.parametrize("change", ["untracked", "modified", "staged"])
def test_dirty_worktree_is_refused_and_kept(repo: Path, change: str):
    wt = worktree.create(repo, "dirty")
    if change == "untracked":
        (wt.path / "new.txt").write_text("x")
    else:
        (wt.path / "README").write_text("changed\n")
        if change == "staged":
            git(wt.path, "add", "README")
    with pytest.raises(WorktreeError) as info:
        worktree.check_removable(wt.path)
    message = str(info.value)
    assert message.startswith(f"worktree {wt.path} has uncommitted changes (1 file)")
    assert "git worktree remove --force" in message
    removal = worktree.remove(wt)
    assert not removal.removed and not removal.branch_deleted
    assert wt.path.exists() and "podium/dirty" in branches(repo)


def test_detached_head_with_lone_commits_is_refused(repo: Path):
    wt = worktree.create(repo, "det")
    git(wt.path, "checkout", "-q", "--detach")
    (wt.path / "lone.txt").write_text("x")
    git(wt.path, "add", "lone.txt")
    git(wt.path, "commit", "-q", "-m", "on no branch")
    with pytest.raises(WorktreeError, match="detached HEAD"):
        worktree.check_removable(wt.path)
    assert not worktree.remove(wt).removed and wt.path.exists()


def test_detached_head_on_a_branch_commit_may_go(repo: Path):
    wt = worktree.create(repo, "det2")
    git(wt.path, "checkout", "-q", "--detach")
    worktree.check_removable(wt.path)


def test_missing_worktree_dir_is_unregistered(repo: Path):
    wt = worktree.create(repo, "gone")
    subprocess.run(["rm", "-rf", str(wt.path)], check=True)
    removal = worktree.remove(wt)
    assert removal.removed and removal.branch_deleted
    assert "was gone already" in removal.notes[0]
    assert str(wt.path) not in git(repo, "worktree", "list")


def test_directory_that_is_no_longer_a_worktree_is_left_alone(repo: Path, tmp_path: Path):
    wt = worktree.create(repo, "odd")
    (wt.path / ".git").unlink()  # now just a directory inside... whatever is above it
    with pytest.raises(WorktreeError, match="no longer a git worktree"):
        worktree.check_removable(wt.path)
    assert (wt.path / "README").exists()


def test_git_location_variables_do_not_leak(repo: Path, tmp_path: Path, monkeypatch):
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    wt = worktree.create(repo, "env")
    assert wt.repo == repo


def test_worktree_record_round_trip(repo: Path):
    wt = worktree.create(repo, "rt")
    again = Worktree(
        path=Path(str(wt.path)), branch=wt.branch, repo=Path(str(wt.repo)), created_branch=True
    )
    assert worktree.remove(again).removed
