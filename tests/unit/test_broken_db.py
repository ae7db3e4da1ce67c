"""A database DuckDB cannot read gets a way out: what is wrong with which file, what
to do, `podium doctor` seeing it, and `podium db reset` moving it aside."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from collectors.paths import Paths
from collectors.store import BrokenStore, StoreError, _open_failure, check_store, open_store
from sessions.doctor import ResetRefused, _database_check, reset_database
from sessions.lifecycle import acquire_lock


def healthy(path: Path) -> None:
    conn = open_store(path)
    conn.execute("CREATE TABLE IF NOT EXISTS keep AS SELECT range AS n FROM range(50000)")
    conn.execute("CHECKPOINT")
    conn.close()


def garbage(path: Path) -> None:
    path.write_bytes(os.urandom(300_000))


def truncated(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def a_directory(path: Path) -> None:
    # Root reads a chmod 000 file anyway: a directory in its place cannot be read.
    path.unlink()
    path.mkdir()
    (path / "x").write_text("x")


def corrupt_wal(path: Path) -> None:
    """A crash left a WAL (copied while the connection was open), then a bit flipped."""
    conn = duckdb.connect(str(path))
    conn.execute("SET checkpoint_threshold = '1TB'")
    conn.execute("INSERT INTO keep SELECT range FROM range(1000)")
    shutil.copy(path, path.with_name("crashed"))
    shutil.copy(path.with_name(path.name + ".wal"), path.with_name("crashed.wal"))
    conn.close()
    path.with_name("crashed").replace(path)
    wal = path.with_name(path.name + ".wal")
    path.with_name("crashed.wal").replace(wal)
    data = bytearray(wal.read_bytes())
    data[len(data) // 2] ^= 0xFF
    wal.write_bytes(bytes(data))


BREAKS: dict[str, Callable[[Path], None]] = {
    "garbage": garbage,
    "truncated": truncated,
    "a directory": a_directory,
    "corrupt wal": corrupt_wal,
}


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(data=tmp_path / "data", runtime=tmp_path / "run")


@pytest.mark.parametrize("breakage", list(BREAKS))
def test_a_broken_database_says_which_file_what_is_wrong_and_what_to_do(paths, breakage):
    healthy(paths.db)
    BREAKS[breakage](paths.db)
    with pytest.raises(BrokenStore) as caught:
        open_store(paths.db)
    for message in (str(caught.value), check_store(paths.db)):
        assert message is not None and "\n" not in message
        assert message.startswith(f"podium.duckdb at {paths.db} ")
        assert message.endswith(": run `podium db reset` to move it aside and start a fresh log")
        if breakage == "corrupt wal":
            assert "write-ahead log" in message

    check = _database_check(paths, engine_pid=None)
    assert (check.status, check.detail) == ("error", check_store(paths.db))
    assert "podium db reset" in check.fix

    moved = reset_database(paths)
    names = sorted(p.name for p in moved)
    assert names[0].startswith("podium.duckdb.broken-") and len(names[0]) == len(
        "podium.duckdb.broken-20261205T183000"
    )
    if breakage == "corrupt wal":
        assert names[1] == names[0] + ".wal"
    else:
        assert len(names) == 1
    assert all(p.exists() for p in moved)  # the old files are kept
    conn = open_store(paths.db)  # a fresh log
    assert conn.execute("SELECT count(*) FROM sessions").fetchone() == (0,)
    conn.close()
    assert _database_check(paths, engine_pid=None).status == "ok"


def test_reset_refuses_a_healthy_database_and_a_running_engine(paths):
    healthy(paths.db)
    with pytest.raises(ResetRefused, match="opens fine"):
        reset_database(paths)
    fd = acquire_lock(paths)  # an engine runs (it would hold the file open)
    try:
        garbage(paths.db)
        with pytest.raises(ResetRefused, match="engine already running"):
            reset_database(paths, force=True)
    finally:
        os.close(fd)
    assert paths.db.exists() and not list(paths.data.glob("*.broken-*"))
    assert _database_check(paths, engine_pid=123).status == "ok"  # not opened under it
    assert reset_database(paths)  # no engine now


def test_a_full_disk_at_open_is_not_called_a_broken_file(tmp_path):
    path = tmp_path / "podium.duckdb"
    err = _open_failure(
        path, duckdb.IOException(f'Could not write file "{path}.wal": No space left on device')
    )
    assert type(err) is StoreError and "reset" not in str(err) and "No space left" in str(err)
    locked = _open_failure(path, duckdb.IOException(f'Could not set lock on file "{path}"'))
    assert type(locked) is StoreError and "another engine" in str(locked)
