"""What every command shares: paths, settings, the engine connection, output."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from collectors.durations import duration
from collectors.paths import Paths
from sessions.client import EngineClient, EngineUnavailable, connect, try_connect
from sessions.protocol import ApiError

if TYPE_CHECKING:
    from collectors.settings import Settings
    from sessions.tmux import Tmux

# No click here: the read-only commands (`tui.cli.lean`) run through this module
# without loading click (~20 ms of every command's start-up).


class CliFailure(Exception):
    """A failure to report in one line; exit code 1 unless said otherwise."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def settings() -> Settings:
    # Imported here: the settings models (msgspec Structs, platformdirs) cost a command
    # some 25 ms of start-up, and a command talking to a running engine needs none.
    from collectors.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as exc:
        raise CliFailure(str(exc)) from None


def podium_tmux() -> Tmux:
    """podium's private tmux server, as the settings say: its socket, and the config a
    server started from here would read (an attach can start one)."""
    # Only the commands that drive tmux themselves need the runner (~10 ms to import).
    from sessions.tmux import Tmux

    cfg = settings().tmux
    return Tmux(cfg.socket, cfg.config, source_user_conf=cfg.source_user_conf)


@contextmanager
def engine(start: bool = True) -> Iterator[EngineClient]:
    """A connection to the engine (started on demand); API errors become one line."""
    paths = Paths.from_env()
    try:
        client = try_connect(paths)
        if client is None:
            # Only a start needs the settings (its timeout; the engine reads the rest).
            timeout = settings().engine.start_timeout if start else 0.0
            client = connect(paths, start=start, start_timeout=timeout)
    except EngineUnavailable as exc:
        raise CliFailure(str(exc)) from None
    try:
        yield client
    except ApiError as exc:
        raise CliFailure(exc.message, exit_code=api_exit_code(exc)) from None
    except (EngineUnavailable, ConnectionError, TimeoutError) as exc:
        raise CliFailure(f"lost the engine: {exc}; see `podium engine status`") from None
    finally:
        client.close()


# The engine's error code for a request whose values are malformed or out of range
# (a bad cron, an unknown window, a date that is not one): bad usage, exit 2. Refusals
# that depend on what exists or runs (no such session, still running, cannot start)
# have other codes and exit 1.
BAD_USAGE_CODE = "bad_request"


def api_exit_code(exc: ApiError) -> int:
    """The exit status of a command the engine answered with `exc`."""
    return 2 if exc.code == BAD_USAGE_CODE else 1


def echo(message: str, err: bool = False) -> None:
    """One line (or lines) on stdout, or stderr with `err`: what `click.echo` does with a
    str (it adds the newline and flushes), for code that runs without click."""
    stream = sys.stderr if err else sys.stdout
    stream.write(message + "\n")
    stream.flush()


def print_json(value: Any) -> None:
    echo(json.dumps(value, indent=2, ensure_ascii=False))


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
