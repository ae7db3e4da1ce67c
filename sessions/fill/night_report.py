"""The morning report: what background fill did over a period (a night, an `--until`).

Every task with a run that started in the period, as it stands now: done,
failed (with its reason: "gave up after 3 attempts: …", the error), deferred
(until when, and why) or still open; the runs' tokens and cost; and the
capacity used, from the per-minute series (`limit_series`): each window's used
share at the period's first and last minute, and its peak. `podium report
night` prints it; the scheduler sends its summary (`summary`) as a desktop
notification when a nightly or `--until` fill ends.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from sessions import wire
from sessions.fill.queue import QueueStore, Run, Task


def _tokens(run: Run) -> int:
    return sum(
        n or 0
        for n in (
            run.input_tokens,
            run.output_tokens,
            run.cache_creation_tokens,
            run.cache_read_tokens,
        )
    )


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).isoformat() if when else None


def night_report(
    store: QueueStore, conn: duckdb.DuckDBPyConnection, since: datetime, until: datetime
) -> wire.NightReport:
    """The report for runs started in [since, until)."""
    runs = [r for r in store.runs(since=since) if r.started_at < until]
    report = wire.NightReport(since=_iso(since) or "", until=_iso(until) or "", runs=len(runs))
    by_task: dict[int, list[Run]] = {}
    for run in runs:
        by_task.setdefault(run.task_id, []).append(run)
    for task_id, task_runs in by_task.items():
        task = store.get(task_id)
        entry = _entry(task_id, task, task_runs)
        report.tokens += entry.tokens
        report.cost_usd = round(report.cost_usd + entry.cost_usd, 6)
        {"done": report.done, "failed": report.failed, "deferred": report.deferred}.get(
            entry.state, report.other
        ).append(entry)
    report.windows = _windows(conn, since, until)
    return report


def _entry(task_id: int, task: Task | None, runs: list[Run]) -> wire.NightTask:
    state = task.state if task else "gone"
    reason = None
    if state in ("failed", "deferred", "cancelled"):
        reason = (task.last_result if task else None) or runs[-1].reason()
    return wire.NightTask(
        task_id=task_id,
        prompt=" ".join((task.prompt if task else "").split())[:200],
        state=state,
        runs=len(runs),
        tokens=sum(_tokens(r) for r in runs),
        cost_usd=round(sum(r.total_cost_usd or 0.0 for r in runs), 6),
        reason=reason,
        until=_iso(task.defer_until) if task and state == "deferred" else None,
    )


def _windows(
    conn: duckdb.DuckDBPyConnection, since: datetime, until: datetime
) -> list[wire.NightWindow]:
    rows = conn.execute(
        """SELECT "window", arg_min(used_pct, minute), arg_max(used_pct, minute), max(used_pct)
           FROM limit_series WHERE minute >= ? AND minute <= ?
           GROUP BY "window" ORDER BY "window" """,
        [since, until],
    ).fetchall()
    return [
        wire.NightWindow(window=w, start_pct=first, end_pct=last, peak_pct=peak)
        for w, first, last, peak in rows
    ]


def summary(report: wire.NightReport) -> str:
    """One line for a notification: '3 done, 1 failed, 2 deferred · 1.2M tokens · $4.10'."""
    counts = [
        f"{len(report.done)} done",
        f"{len(report.failed)} failed",
        f"{len(report.deferred)} deferred",
    ]
    if report.other:
        counts.append(f"{len(report.other)} open")
    week = next((w for w in report.windows if w.window == "seven_day"), None)
    used = f" · week {week.start_pct:.0f}% → {week.end_pct:.0f}%" if week else ""
    return (
        f"{', '.join(counts)} · {report.tokens:,} tokens · ${report.cost_usd:.2f}{used}"
        " (`podium report night`)"
    )
