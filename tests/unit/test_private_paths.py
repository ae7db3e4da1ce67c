"""Private dirs: made 0700, fixed when ours, refused when not ours or a symlink."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from collectors.paths import Paths, UnsafePath, ensure_private_dir


def test_a_new_dir_is_0700_and_an_own_loose_one_is_fixed(tmp_path: Path) -> None:
    made = ensure_private_dir(tmp_path / "a" / "b", "runtime dir")
    assert stat.S_IMODE(os.lstat(made).st_mode) == 0o700
    made.chmod(0o755)
    ensure_private_dir(made, "runtime dir")
    assert stat.S_IMODE(os.lstat(made).st_mode) == 0o700


def test_a_symlink_is_refused_and_its_target_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir(mode=0o755)
    target.chmod(0o755)
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(UnsafePath, match=f"runtime dir {link} is a symlink"):
        ensure_private_dir(link, "runtime dir")
    assert stat.S_IMODE(target.stat().st_mode) == 0o755


def test_a_file_in_its_place_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("")
    with pytest.raises(UnsafePath, match="is not a directory"):
        ensure_private_dir(tmp_path / "data", "data dir")


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")
def test_a_dir_of_another_user_is_refused_never_chmodded(tmp_path: Path) -> None:
    theirs = tmp_path / "podium-0"
    theirs.mkdir()
    theirs.chmod(0o777)
    os.chown(theirs, 65534, 65534)
    with pytest.raises(UnsafePath) as caught:
        ensure_private_dir(theirs, "runtime dir")
    assert str(caught.value) == (
        f"runtime dir {theirs} is owned by uid 65534, not you (0): "
        "remove it or set PODIUM_RUNTIME_DIR to a private directory"
    )
    assert stat.S_IMODE(theirs.stat().st_mode) == 0o777
    with pytest.raises(UnsafePath, match="owned by uid 65534"):
        Paths(data=tmp_path / "data", runtime=theirs).check_socket()
