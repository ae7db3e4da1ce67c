"""Session numbers: the lowest free one at insert, kept for the session's life, stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from collectors import store
from collectors.store import migrate, migrations, open_store
from sessions.registry import Registry, SessionRecord


def _rec(name: str, **fields: object) -> SessionRecord:
    return SessionRecord(
        id=f"id-{name}", name=name, agent="shell", argv=["sh"], cwd="/", tmux_socket="t", **fields
    )


def test_a_new_session_takes_the_lowest_free_number(tmp_path: Path) -> None:
    registry = Registry(open_store(tmp_path / "podium.duckdb"))
    for name in ("a", "b", "c"):
        registry.insert(_rec(name))
    assert [r.number for r in registry.listed()] == [1, 2, 3]
    registry.remove("id-b")
    assert [(r.name, r.number) for r in registry.listed()] == [("a", 1), ("c", 3)]
    registry.insert(_rec("d"))
    registry.insert(_rec("e"))
    assert {r.name: r.number for r in registry.listed()} == {"a": 1, "c": 3, "d": 2, "e": 4}
    # Stored: a registry read back from the table has the same numbers.
    again = Registry(registry.conn)
    assert {r.name: r.number for r in again.listed()} == {"a": 1, "c": 3, "d": 2, "e": 4}


def test_a_resumed_session_gets_its_number_back_unless_taken(tmp_path: Path) -> None:
    registry = Registry(open_store(tmp_path / "podium.duckdb"))
    for name in ("a", "b", "c"):
        registry.insert(_rec(name))
    registry.remove("id-a")
    registry.remove("id-b")
    killed_b = registry.last_by_name("b")
    assert killed_b is not None and killed_b.number == 2
    registry.restore(killed_b)
    assert registry.by_name("b") is killed_b and killed_b.number == 2
    registry.insert(_rec("d"))  # takes 1, a's old number
    killed_a = registry.last_by_name("a")
    assert killed_a is not None
    registry.restore(killed_a)
    assert {r.name: r.number for r in registry.listed()} == {"b": 2, "c": 3, "d": 1, "a": 4}
    assert Registry(registry.conn).by_name("a").number == 4  # type: ignore[union-attr]


def test_the_migration_numbers_listed_sessions_in_creation_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Sessions of a podium before numbers keep the numbers their borders showed.
    before = [m for m in migrations() if m.name != "0010_session_numbers.sql"]
    conn = duckdb.connect(str(tmp_path / "podium.duckdb"))
    monkeypatch.setattr(store, "migrations", lambda: before)
    migrate(conn)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for i, (name, removed) in enumerate([("old", True), ("x", False), ("y", False)]):
        conn.execute(
            "INSERT INTO sessions (id, name, agent, argv, cwd, tmux_socket, state, state_since,"
            " state_source, created_at, removed) VALUES (?, ?, 'shell', ['sh'], '/', 't',"
            " 'idle', ?, 'engine', ?, ?)",
            [f"id-{name}", name, start, start + timedelta(minutes=i), removed],
        )
    monkeypatch.undo()
    assert migrate(conn) == [10]
    rows = conn.execute("SELECT name, number FROM sessions ORDER BY name").fetchall()
    assert rows == [("old", None), ("x", 1), ("y", 2)]
