"""A fixed engine link and fixed data for views that must render the same every time.

Snapshot tests are of views: they get sessions, usage and the queue from here
(with a fixed clock) instead of a live engine, so the SVGs are byte-stable. They
are the engine's own `sessions.wire` Structs, and the fixed link answers through
the wire's method table: a fake cannot send what the engine never would.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from sessions import wire
from sessions.protocol import ApiError
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
) -> wire.Session:
    item = None
    if waited_s is not None:
        item = wire.AttentionItem(
            id=int(sid[-1]), kind=kind or state, opened_at=iso(-waited_s), waited_s=waited_s
        )
    if sid[-1].isdigit():
        extra.setdefault("number", int(sid[-1]))
    return wire.Session(
        id=sid,
        name=name,
        agent=agent,
        argv=[agent],
        state=state,
        state_since=iso(since_s),
        created_at=iso(created_s),
        pane_id=f"%{sid[-1]}",
        window_id=f"@{sid[-1]}",
        tmux_socket="podium-snapshot-none",
        cwd="/home/me/src/api",
        attention=item,
        **extra,
    )


SESSIONS = [
    session(
        "s1",
        "api",
        "permission",
        waited_s=754,
        tokens_today=182_400,
        cost_today_usd=1.82,
        doing=wire.Doing(kind="tool", text="Bash: rm -rf build && npm run build"),
    ),
    session(
        "s2",
        "docs",
        "waiting",
        waited_s=95,
        tokens_today=40_100,
        cost_today_usd=0.4,
        worktree_branch="podium/docs",
        doing=wire.Doing(kind="said", text="Shall I also update the changelog?"),
    ),
    session(
        "s3",
        "refactor",
        "busy",
        since_s=-1520,
        tokens_today=1_204_000,
        cost_today_usd=112.5,
        doing=wire.Doing(kind="tool", text="Edit: tui/widgets/session_row.py"),
    ),
    session(
        "s4",
        "nightly",
        "limited",
        waited_s=30,
        limit_resets_at=iso(2 * 3600 + 600),
        tokens_today=512_000,
        doing=wire.Doing(kind="said", text="You've hit your 5-hour limit · resets 5:10pm (UTC)"),
    ),
    session("s5", "shell", "idle", agent="shell", created_s=-100),
    session("s6", "old", "exited", agent="sim", exit_code=1, created_s=-50),
]

WINDOWS = [
    wire.UsageWindow(
        window="five_hour",
        used_pct=42.0,
        resets_at=iso(2 * 3600 + 13 * 60),
        source="statusline",
        age_s=30,
        burn_pct_per_hour=9.5,
        projected_pct_at_reset=63.0,
    ),
    wire.UsageWindow(
        window="seven_day",
        used_pct=71.0,
        resets_at=iso(2 * 86400 + 3 * 3600),
        source="statusline",
        age_s=30,
        burn_pct_per_hour=0.6,
        projected_pct_at_reset=99.0,
    ),
    wire.UsageWindow(
        window="seven_day_opus",
        used_pct=12.0,
        resets_at=iso(2 * 86400 + 3 * 3600),
        source="estimate",
        estimate=True,
        age_s=30,
    ),
]


def series() -> list[wire.SeriesPoint]:
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
            wire.SeriesPoint(
                minute=at.isoformat(), window="five_hour", used_pct=90 * in_window * night
            )
        )
        rows.append(
            wire.SeriesPoint(
                minute=at.isoformat(), window="seven_day", used_pct=step / steps * 71.0
            )
        )
    return rows


def _usage_row(day: str, model: str, tokens: int) -> wire.UsageRow:
    return wire.UsageRow(day=day, model=model, input_tokens=tokens, tokens=tokens, messages=1)


TOKENS = [
    _usage_row("2026-11-10", "claude-opus-4", 1_250_000),
    _usage_row("2026-11-10", "claude-sonnet-4", 480_000),
    _usage_row("2026-11-11", "claude-opus-4", 2_010_000),
    _usage_row("2026-11-12", "claude-sonnet-4", 96_500),
]

WASTE = [
    wire.WasteWindow(
        window="five_hour",
        resets_at="2026-11-12T10:00:00+00:00",
        unused_at_reset_pct=39.0,
        last_used_pct=61.0,
        coverage=0.98,
    ),
    wire.WasteWindow(
        window="seven_day",
        resets_at="2026-11-05T12:00:00+00:00",
        unused_at_reset_pct=12.0,
        last_used_pct=88.0,
        coverage=1.0,
    ),
]

REVIEW = wire.LatestReview(
    computed_at=NOW.isoformat(),
    review=wire.Review(
        since="2026-11-06T00:00:00+00:00",
        now=NOW.isoformat(),
        findings=[
            wire.Finding(
                kind="unused_week",
                area="waste",
                title="The week that reset Thu 05 Nov 12:00 left 12% unused",
                detail="12% of the weekly limit was never used.",
                amount=wire.ReviewAmount(pct=12.0, window="seven_day", usd=41.5),
                where=wire.ReviewWhere(hours=["Sat 31 Oct 18:00–Mon 02 Nov 08:00 (38 h quiet)"]),
                suggestion="Queue long work for the quiet hours and keep fill on.",
                confidence=0.9,
                sure="high",
            ),
            wire.Finding(
                kind="loop",
                area="runaway",
                title="api (3f2a9c1e) hit the same Bash error 14 times",
                detail="The agent called Bash and got the same error 14 times.",
                amount=wire.ReviewAmount(tokens=310_000, usd=2.4, count=14),
                where=wire.ReviewWhere(sessions=["api (3f2a9c1e)"]),
                suggestion="Fix what the tool keeps failing on.\nOr say so in CLAUDE.md.",
                confidence=0.9,
                sure="high",
            ),
            wire.Finding(
                kind="model",
                area="habits",
                title="Most spend is on Friday afternoons",
                detail="Fridays 14-18 hold 40% of the spend.",
                amount=wire.ReviewAmount(),
                where=wire.ReviewWhere(),
                suggestion="Spread heavy work over the week.",
                confidence=0.5,
                sure="medium",
                source="model",
            ),
            wire.Finding(
                kind="waiting",
                area="attention",
                title="Agents waited for you 41 min a day",
                detail="",
                amount=wire.ReviewAmount(minutes=410.0),
                where=wire.ReviewWhere(),
                suggestion="Let the cue take you to the session that waited longest.",
                confidence=0.85,
                sure="high",
            ),
        ],
    ),
)

QUEUE = [
    wire.Task(
        id=7,
        state="running",
        priority=2,
        est_pct=5.0,
        prompt="update the dependency pins and run the tests",
        cwd="/home/me/src/api",
    ),
    wire.Task(
        id=9,
        state="queued",
        priority=0,
        schedule_kind="at",
        schedule="22:00",
        schedule_text="at 22:00",
        budget_usd=2.0,
        last_result="done",
        prompt="write docstrings for tui/widgets",
        cwd="/home/me/src/api",
    ),
]

FULL: dict[str, Any] = {
    "usage.windows": wire.UsageWindows(now=NOW.isoformat(), windows=WINDOWS),
    "usage.series": wire.Series(hours=168.0, window=None, step=1, points=series()),
    "reports.usage": wire.UsageReport(
        by="day_model",
        tz="UTC",
        since="2026-11-06",
        until=None,
        rows=TOKENS,
        total=wire.UsageRow(),
    ),
    "reports.waste": wire.WasteReport(
        window=None, since=None, now=NOW.isoformat(), windows=WASTE, open=[], total={}
    ),
    "queue.list": wire.QueueList(tasks=QUEUE, fill=wire.FillState(enabled=False)),
    "reports.review_latest": REVIEW,
}


def answers(**parts: Any) -> dict[str, Any]:
    """FULL with some answers replaced (`usage_windows=[]` and the like)."""
    return {**FULL, **{k.replace("_", "."): v for k, v in parts.items()}}


def fixed_status(tmux_alive: bool = True) -> wire.Status:
    return wire.Status(
        pid=1,
        version="0",
        data_dir="/nowhere",
        socket="/nowhere/engine.sock",
        db="/nowhere/podium.duckdb",
        started_at=NOW.timestamp(),
        uptime_s=1.0,
        tmux_socket="podium",
        tmux_alive=tmux_alive,
        sessions=len(SESSIONS),
        hooks={},
        spool=wire.SpoolStatus(lines=0, bad_lines=0, skipped_files=0, problems=[]),
        watch=wire.WatchStats(
            sweeps=0,
            capture_calls=0,
            screens_captured=0,
            process_samples=0,
            last_sweep_captures=0,
            sweep_interval=1.0,
        ),
    )


class FixedLink:
    """An engine link that answers from a dict of results by method name.

    Each request goes through the wire as the real link's would: its params are
    encoded and decoded with the method's params Struct, and the answer (a Struct)
    is checked against the method's result type, so a fake answer the engine could
    not send fails the test. A method without an answer is an engine error."""

    def __init__(
        self,
        app: Any,
        sessions: list[wire.Session] | None = None,
        answers: dict[str, Any] | None = None,
        status: wire.Status | None = None,
    ) -> None:
        self.app = app
        self.sessions = SESSIONS if sessions is None else sessions
        self.answers = FULL if answers is None else answers
        self.status = status or fixed_status()
        self.calls: list[tuple[str, Any]] = []

    def start(self) -> None:
        self.app.post_message(EngineConnected(list(self.sessions), self.status))

    def stop(self) -> None:
        pass

    def _request(self, method: wire.Method[Any, Any], params: Any = None) -> Any:
        sent = msgspec.to_builtins(params) if params is not None else {}
        self.calls.append((method.name, msgspec.convert(sent, method.params)))
        if method.name not in self.answers:
            raise ApiError("internal", f"{method.name} failed: no answer in this test")
        answer = self.answers[method.name]
        return msgspec.convert(msgspec.to_builtins(answer), method.result)

    def run_last(self, job: Callable[[Any], Any]) -> None:
        with contextlib.suppress(ApiError):
            job(self._request)

    def run(self, name: str, job: Callable[[Any], Any], done: Any = None) -> None:
        try:
            result = job(self._request)
        except Exception as exc:  # the app's one error handler, as for a worker
            self.app.report_error(f"engine {name}", exc)
            return
        if done is not None:
            self.app.post_message(EngineReply(done, result))


def fixed(sessions: list[wire.Session] | None = None, **kwargs: Any) -> Callable[[Any], Any]:
    return lambda app: FixedLink(app, sessions, **kwargs)
