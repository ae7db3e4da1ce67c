"""The engine's first steps (`sessions.engine.start`): the lock before anything, the
store opened in a thread and its failure handed to whoever takes the connection,
and what the engine's modules leave for later."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from collectors.paths import Paths
from collectors.store import BrokenStore
from sessions.engine.start import StoreOpening, prepare
from sessions.lifecycle import AlreadyRunning


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(data=tmp_path / "data", runtime=tmp_path / "run")


def test_prepare_takes_the_lock_and_opens_the_store(paths: Paths) -> None:
    prepared = prepare(paths)
    try:
        assert prepared.store is not None
        conn = prepared.store.result()
        assert conn.execute("SELECT count(*) FROM sessions").fetchone() == (0,)
        assert (paths.spool).is_dir()
        assert oct(paths.runtime.stat().st_mode & 0o777) == "0o700"
        conn.close()
    finally:
        os.close(prepared.lock_fd)


def test_a_second_engine_is_refused_before_it_opens_anything(paths: Paths) -> None:
    first = prepare(paths, open_store_early=False)
    try:
        with pytest.raises(AlreadyRunning):
            prepare(paths)
    finally:
        os.close(first.lock_fd)


def test_a_broken_store_fails_where_the_connection_is_taken(tmp_path: Path) -> None:
    db = tmp_path / "podium.duckdb"
    db.write_bytes(b"not a database" * 100)
    opening = StoreOpening(db)
    with pytest.raises(BrokenStore, match="podium db reset"):
        opening.result()


def test_the_engine_leaves_psutil_and_urllib_for_later() -> None:
    """The engine's modules load without what serving does not need at start (see
    docs/ARCHITECTURE.md, the engine): they come with their first use."""
    code = (
        "import sys, sessions.engine.__main__, sessions.engine.core;"
        "print(sorted({'psutil', 'urllib.request', 'http.client'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
