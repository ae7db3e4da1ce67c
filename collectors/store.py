"""The DuckDB file: opening it and migrating its schema.

Only the engine process opens the file (DuckDB allows one writer process).
Schema changes are numbered SQL files in `collectors/migrations/`
(`NNNN_name.sql`), each applied once, in order, inside a transaction, and
recorded in `schema_migrations`. The log is the user's only long history:
migrations only ever add.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class StoreError(Exception):
    """The database cannot be opened or migrated; the message says what to do."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """All migrations shipped in the package, by version."""
    found: list[Migration] = []
    for entry in resources.files("collectors.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise StoreError(f"duplicate migration numbers in {versions}")
    return found


def open_store(path: Path) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the DuckDB file and bring its schema up to date."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        conn = duckdb.connect(str(path))
    except duckdb.IOException as exc:
        raise StoreError(
            f"cannot open {path}: {exc}. Is another engine using this data dir? "
            "Run `podium engine status`."
        ) from None
    except duckdb.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}") from None
    with contextlib.suppress(OSError):
        path.chmod(0o600)
    migrate(conn)
    return conn


def schema_version(conn: duckdb.DuckDBPyConnection) -> int:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the migrations not yet applied; returns their versions."""
    current = schema_version(conn)
    known = migrations()
    if known and current > known[-1].version:
        raise StoreError(
            f"the database is at schema {current}, newer than this podium knows "
            f"({known[-1].version}); upgrade podium"
        )
    # By the recorded set, not by "above the highest": migrations are numbered
    # on branches, and one merged after a higher number has already run (0002
    # landing after 0003) must still be applied. Migrations only ever add.
    done = {int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations").fetchall()}
    applied: list[int] = []
    for migration in known:
        if migration.version in done:
            continue
        try:
            conn.execute("BEGIN TRANSACTION")
            conn.execute(migration.sql)
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                [migration.version, migration.name],
            )
            conn.execute("COMMIT")
        except duckdb.Error as exc:
            conn.execute("ROLLBACK")
            raise StoreError(f"migration {migration.name} failed: {exc}") from None
        applied.append(migration.version)
    return applied
