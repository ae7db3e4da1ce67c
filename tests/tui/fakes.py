"""A fixed engine link and fixed data for views that must render the same every time.

Snapshot tests are of views: they get sessions, usage and the queue from here
(with a fixed clock) instead of a live engine, so the SVGs are byte-stable.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sessions.engine.protocol import ApiError
from tui.messages import EngineConnected, EngineReply

NOW = datetime(2026, 11, 12, 15, 0, tzinfo=UTC)


def iso(delta_s: float) -> str:
    return (NOW + timedelta(seconds=delta_s)).isoformat()


def session(
    sid: str,
    name: str,
    state: str,
    *,
    agent: str = "claude",
    since_s: float = -600,
    waited_s: float | None = None,
    kind: str | None = None,
    created_s: float = -3600,
    **extra: Any,
) -> dict[str, Any]:
    item = None
    if waited_s is not None:
        item = {
            "id": hash(sid) % 1000,
            "kind": kind or state,
            "opened_at": iso(-waited_s),
            "waited_s": waited_s,
            "detail": None,
            "closed_at": None,
            "closed_by": None,
        }
    return {
        "id": sid,
        "name": name,
        "agent": agent,
        "state": state,
        "state_since": iso(since_s),
        "created_at": iso(created_s),
        "pane_id": f"%{sid[-1]}",
        "window_id": f"@{sid[-1]}",
        "tmux_socket": "podium-snapshot-none",
        "cwd": "/home/me/src/api",
        "exit_code": None,
        "limit_resets_at": None,
        "worktree_branch": None,
        "worktree_path": None,
        "attention": item,
        **extra,
    }


SESSIONS = [
    session("s1", "api", "permission", waited_s=754, tokens_today=182_400),
    session(
        "s2", "docs", "waiting", waited_s=95, tokens_today=40_100, worktree_branch="podium/docs"
    ),
    session("s3", "refactor", "busy", since_s=-1520, tokens_today=1_204_000),
    session(
        "s4",
        "nightly",
        "limited",
        waited_s=30,
        limit_resets_at=iso(2 * 3600 + 600),
        tokens_today=512_000,
    ),
    session("s5", "shell", "idle", agent="shell", created_s=-100),
    session("s6", "old", "exited", agent="sim", exit_code=1, created_s=-50),
]

WINDOWS = [
    {
        "window": "five_hour",
        "used_pct": 42.0,
        "resets_at": iso(2 * 3600 + 13 * 60),
        "source": "statusline",
        "age_s": 30,
        "burn_pct_per_hour": 9.5,
        "projected_pct_at_reset": 63.0,
    },
    {
        "window": "seven_day",
        "used_pct": 71.0,
        "resets_at": iso(2 * 86400 + 3 * 3600),
        "source": "statusline",
        "age_s": 30,
        "burn_pct_per_hour": 0.6,
        "projected_pct_at_reset": 99.0,
    },
    {
        "window": "seven_day_opus",
        "used_pct": 12.0,
        "resets_at": iso(2 * 86400 + 3 * 3600),
        "source": "estimate",
        "age_s": 30,
    },
]


def series() -> list[dict[str, Any]]:
    """A week of samples every 10 minutes: the 5-hour window climbs and resets (less
    on nights), the week climbs; a gap where the engine did not run."""
    rows = []
    steps = 7 * 24 * 6
    for step in range(steps + 1):
        at = NOW - timedelta(minutes=10 * (steps - step))
        if 3 * 24 * 6 <= step < 3 * 24 * 6 + 30:
            continue  # the engine was stopped for five hours
        in_window = step % 30 / 30
        night = 0.3 if 1 <= at.hour < 7 else 1.0
        rows.append(
            {"minute": at.isoformat(), "window": "five_hour", "used_pct": 90 * in_window * night}
        )
        rows.append(
            {"minute": at.isoformat(), "window": "seven_day", "used_pct": step / steps * 71.0}
        )
    return rows


TOKENS = [
    {"day": "2026-11-10", "model": "claude-opus-4", "tokens": 1_250_000},
    {"day": "2026-11-10", "model": "claude-sonnet-4", "tokens": 480_000},
    {"day": "2026-11-11", "model": "claude-opus-4", "tokens": 2_010_000},
    {"day": "2026-11-12", "model": "claude-sonnet-4", "tokens": 96_500},
]

WASTE = [
    {"window": "five_hour", "ended_at": "2026-11-12 10:00", "used_pct": 61.0, "wasted_pct": 39.0},
    {"window": "seven_day", "ended_at": "2026-11-05 12:00", "used_pct": 88.0, "wasted_pct": 12.0},
]

QUEUE = [
    {
        "id": 7,
        "state": "running",
        "priority": 2,
        "schedule": "spare capacity",
        "budget": "5% week",
        "last_result": "-",
        "prompt": "update the dependency pins and run the tests",
    },
    {
        "id": 9,
        "state": "queued",
        "priority": 0,
        "schedule": "after 22:00",
        "budget": "20k tokens",
        "last_result": "ok (3 files)",
        "prompt": "write docstrings for tui/widgets",
    },
]

FULL = {
    "usage.windows": WINDOWS,
    "usage.series": {"points": series()},
    "reports.usage": {"days": TOKENS},
    "reports.waste": {"windows": WASTE},
    "queue.list": QUEUE,
}


class FixedLink:
    """An engine link that answers from a dict; a method it lacks is 'unknown'."""

    def __init__(
        self,
        app: Any,
        sessions: list[dict[str, Any]] | None = None,
        answers: dict[str, Any] | None = None,
        status: dict[str, Any] | None = None,
    ) -> None:
        self.app = app
        self.sessions = SESSIONS if sessions is None else sessions
        self.answers = FULL if answers is None else answers
        self.status = status or {"tmux_alive": True, "tmux_socket": "podium"}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def start(self) -> None:
        self.app.post_message(EngineConnected(list(self.sessions), self.status))

    def stop(self) -> None:
        pass

    def _call(self, method: str, **params: Any) -> Any:
        self.calls.append((method, params))
        if method not in self.answers:
            raise ApiError("bad_request", f"unknown method {method!r}")
        return self.answers[method]

    def run_last(self, job: Callable[[Any], Any]) -> None:
        with contextlib.suppress(ApiError):
            job(self._call)

    def run(self, name: str, job: Callable[[Any], Any], done: Any = None) -> None:
        try:
            result = job(self._call)
        except Exception as exc:  # the app's one error handler, as for a worker
            self.app.report_error(f"engine {name}", exc)
            return
        if done is not None:
            self.app.post_message(EngineReply(done, result))


def fixed(sessions: list[dict[str, Any]] | None = None, **kwargs: Any) -> Callable[[Any], Any]:
    return lambda app: FixedLink(app, sessions, **kwargs)
