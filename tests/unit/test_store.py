"""The DuckDB store: numbered migrations, applied once, in order."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from collectors import store
from collectors.store import Migration, StoreError, migrate, migrations, open_store


def test_migrations_are_numbered_in_order():
    versions = [m.version for m in migrations()]
    assert versions == sorted(versions) and versions[0] == 1
    assert len(set(versions)) == len(versions)


def test_open_creates_schema_once(tmp_path: Path):
    path = tmp_path / "podium.duckdb"
    conn = open_store(path)
    tables = {r[0] for r in conn.execute("SHOW TABLES").fetchall()}
    assert {"sessions", "state_transitions", "hook_events", "schema_migrations"} <= tables
    assert migrate(conn) == []  # nothing left to apply
    conn.close()
    conn = open_store(path)
    count = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    assert count == len(migrations())
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    conn.close()


def test_newer_schema_is_refused(tmp_path: Path):
    path = tmp_path / "podium.duckdb"
    open_store(path).close()
    conn = duckdb.connect(str(path))
    conn.execute("INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')")
    with pytest.raises(StoreError, match="newer than this podium"):
        migrate(conn)


def test_a_migration_merged_below_the_current_version_is_still_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Branches number migrations; one can land after a higher number already ran.
    first, *_ = migrations()
    low = Migration(2, "0002_low.sql", "CREATE TABLE low_one (x INTEGER)")
    high = Migration(3, "0003_high.sql", "CREATE TABLE high_one (x INTEGER)")
    conn = duckdb.connect(str(tmp_path / "podium.duckdb"))
    monkeypatch.setattr(store, "migrations", lambda: [first, high])
    assert migrate(conn) == [1, 3]
    monkeypatch.setattr(store, "migrations", lambda: [first, low, high])
    assert migrate(conn) == [2]
    assert migrate(conn) == []
    tables = {r[0] for r in conn.execute("SHOW TABLES").fetchall()}
    assert {"low_one", "high_one"} <= tables
    conn.close()
