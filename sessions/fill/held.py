"""Why each open task of the background queue is not running now, in words.

Pure (no clock, no I/O, no engine): from the tasks, the fill switch and the fill
policy's decisions for this moment (`Scheduler.decide`, asked even while fill is
off, as `queue.decide` does), it says what each queued, deferred or recurring task
waits for. Where the policy gave a task a reason, that reason is the one shown,
so the background screen (`queue.list {explain: true}`) says what the scheduler
does:
- not due yet: scheduled for a time (`--at`), the night window, deferred until a
  time (a limit's reset, the tmux server);
- due: the policy's hold or defer (a limit, your reserve, weekly pacing, you are
  busy, the run cap), or behind the task the policy stopped at (it takes tasks in
  priority order; past one that waits for room only a smaller one that fits
  goes);
- past its deadline (`not_after`, a team's `--until`): it will not start, whatever
  else holds it (the scheduler never offers it to the policy);
- after other tasks (`--after`): the ones not done yet, a failed or cancelled one
  first with its reason (the scheduler never offers such a task to the policy);
- a recurring template: its next cron time, the change it watches for, or the
  podium event it waits for (`sessions.fill.triggers`);
- fill off: that first, then what it would wait for with fill on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sessions.fill import graph, policy
from sessions.fill.queue import Task

FILL_OFF = "fill_off"
SCHEDULED = "scheduled"
NIGHT = "night"
DAY = "day"  # a `--window day` task waits out the night
DEFERRED = "deferred"
CRON = "cron"
ON_CHANGE = "on_change"
ON_EVENT = "on_event"
BEHIND = "behind"
DEADLINE = "deadline"  # its `not_after` (its team's --until) passed: it will not start
AFTER = "after"  # waits for the tasks it comes after (`--after`) to be done
HELD = "held"  # one of those failed or was cancelled: held until it is run again and done
PAUSED = "paused"  # a person paused it (or a task above it): not started until resumed
# The policy's own kinds (`policy.Decision.kind`) are used as they are: limit,
# busy, cap, reserve, pacing, and spare (it would start now).


@dataclass(frozen=True)
class Held:
    task_id: int
    kind: str
    reason: str
    until: datetime | None = None


def why_held(
    now: datetime,
    tasks: Sequence[Task],
    decisions: Sequence[policy.Decision],
    *,
    enabled: bool,
    tz: tzinfo,
    max_concurrent: int,
    deps: Mapping[int, Sequence[graph.Dep]] | None = None,
) -> list[Held]:
    """One `Held` per open task that is not running (templates included), in the
    order of `tasks`; `max_concurrent` is the cap on runs at once the policy had;
    `deps` maps a task to the tasks it comes after (`QueueStore.deps_of`)."""
    mine = {int(d.task_id): d for d in decisions if d.task_id is not None}
    overall = next((d for d in decisions if d.task_id is None), None)
    # Where the policy stopped: every due task after it waits behind it.
    stop = next((d for d in decisions if d.action == policy.HOLD and d.task_id), None)
    launched = [d.task_id for d in decisions if d.action == policy.LAUNCH]
    out = []
    for task in tasks:
        if task.state == "recurring":
            out.append(_template(task, now, tz))
            continue
        if task.state == "paused":
            who = task.paused_by or "you"
            why = f"paused by {who}: not started until resumed (`podium queue resume {task.id}`)"
            out.append(Held(task.id, PAUSED, why))
            continue
        if task.state not in ("queued", "deferred"):
            continue
        held = _deadline(task, now, tz) or _after(task, (deps or {}).get(task.id, ()))
        held = held or _waiting(task, now, tz, overall)
        held = held or _due(task, mine.get(task.id), stop, launched, enabled, max_concurrent)
        if not enabled:
            held = Held(
                task.id,
                FILL_OFF,
                f"background fill is off (f, or `podium fill`, switches it on); "
                f"then: {held.reason}",
                held.until,
            )
        out.append(held)
    return out


def past_deadline(task: Task, now: datetime) -> bool:
    """Whether `task` may no longer start: its `not_after` (its team's `--until`) is
    past. A run already going is not stopped by it."""
    return task.not_after is not None and task.not_after <= now


def deadline_reason(task: Task, now: datetime, tz: tzinfo) -> str | None:
    """Why a task past its deadline does not start ("team deadline passed: …")."""
    held = _deadline(task, now, tz)
    return held.reason if held is not None else None


def _deadline(task: Task, now: datetime, tz: tzinfo) -> Held | None:
    if not past_deadline(task, now):
        return None
    at = _at(task.not_after, now, tz)
    if task.team_id is not None:
        why = f"team deadline passed: team {task.team_id}'s nodes do not start after {at}"
    else:
        why = f"deadline passed: it does not start after {at}"
    return Held(task.id, DEADLINE, why, task.not_after)


def _after(task: Task, deps: Sequence[graph.Dep]) -> Held | None:
    """Its dependencies first: the policy was never asked about a task that waits on
    them, so nothing else it could say would be true."""
    reason = graph.hold_reason(deps)
    if reason is None:
        return None
    return Held(task.id, HELD if graph.is_stuck(deps) else AFTER, reason)


def _template(task: Task, now: datetime, tz: tzinfo) -> Held:
    if task.schedule_kind == "on_event":
        return Held(
            task.id,
            ON_EVENT,
            f"waits for the event {task.schedule}: each time queues a copy of it",
        )
    if task.schedule_kind == "on_change":
        return Held(
            task.id,
            ON_CHANGE,
            f"waits for a change to {task.schedule or '**'} in {task.cwd}: each change "
            "queues a copy of it",
        )
    when = task.not_before
    nxt = f"; the next at {_at(when, now, tz)}" if when else ""
    return Held(
        task.id, CRON, f"repeats on cron `{task.schedule}`: each time queues a copy{nxt}", when
    )


def _waiting(task: Task, now: datetime, tz: tzinfo, overall: policy.Decision | None) -> Held | None:
    """Not due yet: the later of its schedule and its deferral decides."""
    times = [t for t in (task.not_before, task.defer_until) if t is not None and t > now]
    if not times:
        return None
    until = max(times)
    at = _at(until, now, tz)
    if until == task.defer_until:
        why = ""
        if overall is not None and overall.kind == policy.LIMIT:
            why = f": {overall.reason}"
        elif task.last_result:
            why = f": {task.last_result}"
        return Held(task.id, DEFERRED, f"deferred until {at}{why}", until)
    if task.schedule_kind == "window":
        if task.schedule == "day":
            return Held(task.id, DAY, f"waits for the day window, from {at}", until)
        return Held(task.id, NIGHT, f"waits for the night window, from {at}", until)
    return Held(task.id, SCHEDULED, f"scheduled for {at}", until)


def _due(
    task: Task,
    mine: policy.Decision | None,
    stop: policy.Decision | None,
    launched: list[str],
    enabled: bool,
    max_concurrent: int,
) -> Held:
    """Due now: what the policy said of it, or of the task it waits behind."""
    if mine is not None and mine.action == policy.LAUNCH:
        verb = "starts now" if enabled else "it would start now"
        return Held(task.id, policy.SPARE, f"{verb}: {mine.reason}")
    if mine is not None:
        return Held(task.id, mine.kind, mine.reason, mine.until)
    if stop is not None and stop.kind in (policy.BUSY, policy.CAP):
        return Held(task.id, stop.kind, stop.reason, stop.until)
    if stop is not None:
        return Held(
            task.id, BEHIND, f"after task {stop.task_id}, which waits: {stop.reason}", stop.until
        )
    if launched:
        would = "" if enabled else "would "
        starts = "start" if len(launched) > 1 or not enabled else "starts"
        which = (
            f"task{'s' if len(launched) > 1 else ''} {', '.join(launched)}, which {would}{starts}"
        )
        return Held(task.id, BEHIND, f"after {which} now: at most {max_concurrent} run(s) at once")
    return Held(task.id, BEHIND, "waits for the next scheduler round")


def _at(when: datetime | None, now: datetime, tz: tzinfo) -> str:
    """'22:00' today, 'Fri 01:00' within a week, '2026-11-20 01:00' further."""
    if when is None:
        return "-"
    local = when.astimezone(tz)
    days = (local.date() - now.astimezone(tz).date()).days
    if days == 0:
        return f"{local:%H:%M}"
    if 0 < days < 7:
        return f"{local:%a %H:%M}"
    return f"{local:%Y-%m-%d %H:%M}"
