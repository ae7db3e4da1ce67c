"""The DuckDB file: opening it and migrating its schema.

Only the engine process opens the file (DuckDB allows one writer process).
Schema changes are numbered SQL files in `collectors/migrations/`
(`NNNN_name.sql`), each applied once, in order, inside a transaction, and
recorded in `schema_migrations`. The log is the user's only long history:
migrations only ever add.

A file DuckDB cannot read (garbage, truncated, a corrupt write-ahead log) is a
`BrokenStore`, whose message names the file and the way out: `podium db reset`
(`move_aside`) keeps it beside a fresh log. A write that fails (a full disk) is
ended with `rollback`: DuckDB has already rolled back a transaction whose
COMMIT failed, and the caller reloads what it mirrors in memory.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import duckdb

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class StoreError(Exception):
    """The database cannot be opened or migrated; the message says what to do."""


class BrokenStore(StoreError):
    """The file is not a readable DuckDB database: `podium db reset` is the way out."""


RESET_COMMAND = "podium db reset"
# Failures that are the machine's, not the file's: resetting would not help.
_NOT_THE_FILE = (
    "No space left on device",
    "Permission denied",
    "Read-only file system",
    "Too many open files",
    "Cannot allocate memory",
)
_LOCKED = ("Could not set lock", "Conflicting lock")


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    for prefix in ("IO Error: ", "Serialization Error: ", "INTERNAL Error: "):
        text = text.removeprefix(prefix)
    return text if len(text) <= 240 else text[:237] + "..."


def broken_message(path: Path, exc: BaseException | str) -> str:
    """One line: which file, what is wrong with it, what to do."""
    reason = exc if isinstance(exc, str) else _reason(exc)
    if ".wal" in reason:
        what = f"has a write-ahead log that cannot be replayed ({reason})"
    else:
        what = f"is not a readable DuckDB file ({reason})"
    return (
        f"{path.name} at {path} {what}: run `{RESET_COMMAND}` to move it aside "
        "and start a fresh log"
    )


def _open_failure(path: Path, exc: duckdb.Error) -> StoreError:
    text = str(exc)
    if any(marker in text for marker in _LOCKED):
        return StoreError(
            f"cannot open {path}: {exc}. Is another engine using this data dir? "
            "Run `podium engine status`."
        )
    if any(marker in text for marker in _NOT_THE_FILE):
        return StoreError(f"cannot open {path}: {_reason(exc)}")
    return BrokenStore(broken_message(path, exc))


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
    except duckdb.Error as exc:
        raise _open_failure(path, exc) from None
    with contextlib.suppress(OSError):
        path.chmod(0o600)
    try:
        migrate(conn)
    except StoreError:
        conn.close()
        raise
    except duckdb.Error as exc:  # a catalog DuckDB cannot read
        conn.close()
        raise _open_failure(path, exc) from None
    return conn


def check_store(path: Path) -> str | None:
    """What is wrong with the file (the `BrokenStore` line), or None when it can be
    read or does not exist. Opens it as the engine does, without migrating, and reads
    every row of every table once (a truncated file opens, and fails only on the
    blocks it lost): only when no engine holds it."""
    if not path.exists() and not path.is_symlink():
        return None
    try:
        conn = duckdb.connect(str(path))
    except duckdb.Error as exc:
        return str(_open_failure(path, exc))
    try:
        tables = conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal"
        ).fetchall()
        for schema, table in tables:
            name = '"{}"."{}"'.format(schema.replace('"', '""'), table.replace('"', '""'))
            conn.execute(f"SELECT count(hash(t)) FROM {name} AS t").fetchone()
    except duckdb.Error as exc:
        return str(_open_failure(path, exc))
    finally:
        conn.close()
    return None


def move_aside(path: Path, now: datetime | None = None) -> list[Path]:
    """Rename the database file and its write-ahead log to
    `NAME.broken-YYYYmmddTHHMMSS` (and `.wal`); returns the new paths. The next
    open starts a fresh log; the old file is kept for whoever wants to rescue it."""
    stamp = (now or datetime.now()).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.broken-{stamp}")
    moved: list[Path] = []
    for src, dst in ((path, target), (wal_path(path), target.with_name(target.name + ".wal"))):
        if src.exists() or src.is_symlink():
            if dst.exists():
                raise StoreError(f"{dst} exists already; try again in a second")
            src.rename(dst)
            moved.append(dst)
    return moved


def wal_path(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def rollback(conn: duckdb.DuckDBPyConnection) -> None:
    """End a failed transaction. DuckDB rolls back by itself a transaction whose
    COMMIT failed (then ROLLBACK says "no transaction is active"), and a ROLLBACK
    can fail too: either way nothing of it was stored, which is all callers need
    to know before they reload what they keep in memory."""
    with contextlib.suppress(duckdb.Error):
        conn.execute("ROLLBACK")


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
