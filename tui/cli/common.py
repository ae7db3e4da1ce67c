"""What every command shares: paths, settings, the engine connection, output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click

from collectors.paths import Paths
from collectors.settings import Settings, SettingsError, load_settings
from sessions.client import EngineClient, EngineUnavailable, connect
from sessions.engine.protocol import ApiError
from tui.format import duration


class CliFailure(Exception):
    """A failure to report in one line; exit code 1 unless said otherwise."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise CliFailure(str(exc)) from None


@contextmanager
def engine(start: bool = True) -> Iterator[EngineClient]:
    """A connection to the engine (started on demand); API errors become one line."""
    timeout = settings().engine.start_timeout
    try:
        client = connect(Paths.from_env(), start=start, start_timeout=timeout)
    except EngineUnavailable as exc:
        raise CliFailure(str(exc)) from None
    try:
        yield client
    except ApiError as exc:
        raise CliFailure(exc.message) from None
    except (EngineUnavailable, ConnectionError, TimeoutError) as exc:
        raise CliFailure(f"lost the engine: {exc}; see `podium engine status`") from None
    finally:
        client.close()


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def age(iso: str | None, now: datetime | None = None) -> str:
    """'42s', '5m', '3h12m', '2d4h' since an ISO time."""
    if not iso:
        return "-"
    then = datetime.fromisoformat(iso)
    return duration(((now or datetime.now(UTC)) - then).total_seconds())


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)
