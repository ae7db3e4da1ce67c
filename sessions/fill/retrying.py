"""Retries, as they happen and across attempts.

**Within a run.** Claude Code retries a failed API request by itself (up to 10
times in 2.1.328, waiting longer each time) and, with `--output-format
stream-json --verbose`, writes one line per retry:

    {"type":"system","subtype":"api_retry","attempt":1,"max_retries":10,
     "retry_delay_ms":531,"error_status":429,"error":"rate_limit","session_id":…}

(`tests/unit/data/stream_json_api_retry_2.1.328.jsonl` holds real ones.) The
runner reads them as they come (`api_retry`): a run whose request failed with a
500 or 529 is shown as retrying (`wire.RetryInfo` on its `RunRecord`) and left
to the CLI, which often gets through. A rate limit (429) is not waited out
there: the CLI's loop would hold a run slot for about 11 minutes and end with
the same 429, so the first such retry stops the run and the task is deferred to
the reset (`limit_reset`: the stream's `rate_limit_event`, the limit text, else
the official figures; a 30-minute guess only when none of them knows).

**Across runs.** A task is tried at most `[fill] max_attempts` times
(`after_run`): a limit hit defers it to the reset, a transient failure (an API
error, an interrupted run, `error_during_execution`) to a backoff that doubles
from `[fill] retry_backoff`; after the last attempt it is `failed` with "gave up
after N attempts: <each attempt's reason>". Other failures (max turns, a
budget, a launch that cannot work) are final at once. Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from collectors.limit_text import parse_reset
from sessions import wire
from sessions.fill.queue import Run

# A limit hit whose reset time neither the stream, the result's text nor the official
# figures tell: try again this much later.
UNKNOWN_RESET = timedelta(minutes=30)
# The backoff between two attempts after a transient failure doubles up to this.
MAX_BACKOFF = timedelta(hours=1)
# Claude Code's result subtypes worth another attempt: the run broke, not the task.
TRANSIENT_SUBTYPES = frozenset({"error_during_execution"})


@dataclass(frozen=True)
class ApiRetry:
    """One `system`/`api_retry` line: Claude Code retries a failed request."""

    attempt: int
    max_retries: int
    status: int | None
    error: str | None
    delay: timedelta
    seen_at: datetime
    session_id: str | None = None

    @property
    def rate_limited(self) -> bool:
        """A 429 (`error: rate_limit`): a limit, which the CLI's loop would not outwait."""
        return self.status == 429 or self.error == "rate_limit"

    def text(self) -> str:
        """'HTTP 529 overloaded, retry 3/10'."""
        what = " ".join(str(p) for p in (self.status and f"HTTP {self.status}", self.error) if p)
        return f"{what or 'an API error'}, retry {self.attempt}/{self.max_retries}"

    def to_wire(self, since: datetime | None = None) -> wire.RetryInfo:
        return wire.RetryInfo(
            attempt=self.attempt,
            max_retries=self.max_retries,
            status=self.status,
            error=self.error,
            next_at=(self.seen_at + self.delay).astimezone(UTC).isoformat(),
            since=(since or self.seen_at).astimezone(UTC).isoformat(),
        )


def api_retry(line: dict[str, Any], now: datetime) -> ApiRetry | None:
    """The retry a stream line announces, else None. The stream is the agent's to
    write: every field is checked for its type."""
    if line.get("type") != "system" or line.get("subtype") != "api_retry":
        return None
    attempt, most = _int(line.get("attempt")), _int(line.get("max_retries"))
    delay = line.get("retry_delay_ms")
    ok_delay = isinstance(delay, int | float) and not isinstance(delay, bool) and 0 <= delay < 1e9
    error = line.get("error")
    sid = line.get("session_id")
    return ApiRetry(
        attempt=attempt or 1,
        max_retries=most or 0,
        status=_int(line.get("error_status")),
        error=error[:80] if isinstance(error, str) else None,
        delay=timedelta(milliseconds=float(delay)) if ok_delay else timedelta(0),  # type: ignore[arg-type]
        seen_at=now,
        session_id=sid if isinstance(sid, str) else None,
    )


def stopped_result(retry: ApiRetry) -> dict[str, Any]:
    """The result the runner settles a run with when it stops it at a rate-limit retry:
    shaped as Claude Code's own 429 result, so the run is `limited` as if the CLI had
    given up at once."""
    return {
        "type": "result",
        "is_error": True,
        "api_error_status": 429,
        "session_id": retry.session_id,
        "result": (
            f"rate limited ({retry.text()}): podium stopped Claude Code's retry loop "
            "and deferred the task to the limit's reset"
        ),
    }


def limit_reset(
    now: datetime,
    rejected_until: datetime | None,
    text: str,
    official: datetime | None,
) -> datetime | None:
    """When a task that hit a limit may run again: the stream's rejected
    `rate_limit_event` reset, else the limit text's time, else the official figures'
    reset of the full window (`official`), each only if still ahead; else None (the
    task waits `UNKNOWN_RESET`, a guess the scheduler corrects as soon as the official
    figures tell the reset: `Scheduler._due`)."""
    for reset in (rejected_until, parse_reset(text, now), official):
        if reset is not None and reset > now:
            return reset
    return None


def retryable(run: Run) -> bool:
    """Whether a run's end is worth another attempt: a limit hit, an interruption, an
    API error or an `error_during_execution`. Not max turns, a budget, a timeout, or
    a pane that died without a result (a launch that cannot work)."""
    if run.state in ("limited", "interrupted"):
        return True
    if run.state != "failed" or not run.is_error:
        return False
    return (
        run.api_error_status is not None
        or run.terminal_reason == "api_error"
        or run.subtype in TRANSIENT_SUBTYPES
    )


def backoff(attempt: int, base: float) -> timedelta:
    """The wait after the `attempt`-th attempt failed: base, 2×base, 4×base … ≤ 1 hour."""
    return min(timedelta(seconds=base * 2 ** max(attempt - 1, 0)), MAX_BACKOFF)


def after_run(
    run: Run,
    runs: list[Run],
    *,
    attempts: int,
    max_attempts: int,
    base_backoff: float,
    now: datetime,
    result_line: str,
) -> dict[str, Any]:
    """The task's fields after `run` ended (`runs`: all of the task's, `run` among them):
    its state, `defer_until` and `last_result`."""
    if not retryable(run):
        return {"state": run.state if run.state in ("done", "failed") else "failed",
                "defer_until": None, "last_result": result_line}  # fmt: skip
    if attempts >= max_attempts:
        tried = [r for r in runs if r.state not in ("running", "cancelled")]
        reasons = "; ".join(f"{r.attempt}: {r.reason()}" for r in tried[-max_attempts:])
        return {
            "state": "failed",
            "defer_until": None,
            "last_result": f"gave up after {attempts} attempts: {reasons}",
        }
    if run.state == "limited":
        if run.resets_at is None:
            # Say that the time is a guess, and what replaces it.
            minutes = int(UNKNOWN_RESET.total_seconds() // 60)
            result_line = (
                f"{result_line} (reset unknown: tried again in {minutes} minutes, or at the "
                "reset as soon as the official figures tell it)"
            )
        until = run.resets_at or now + UNKNOWN_RESET
        return {"state": "deferred", "defer_until": until, "last_result": result_line}
    until = now + backoff(attempts, base_backoff)
    return {
        "state": "deferred",
        "defer_until": until,
        "last_result": (
            f"{run.reason()}; attempt {attempts} of {max_attempts}, "
            f"tried again at {until.astimezone(UTC):%H:%M:%SZ}"
        ),
    }


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None
