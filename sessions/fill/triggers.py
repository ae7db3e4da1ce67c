"""Tasks queued by podium's own events (`podium queue add --on EVENT`).

Beside `--on-change` (files), a recurring template can wait for:
- `turn-end:NAME`: session NAME (`*`: any) finished a turn (busy → waiting, idle);
- `idle:NAME:MINUTES`: session NAME (`*`: any) has waited for you that long;
- `task-done:ID`, `task-failed:ID`: task ID (`*`: any other task) ended so;
- `reset-unused:WINDOW[:PCT]`: a usage window (`five_hour`, `seven_day`, a model's
  week; `5h`, `week`) reset with at least PCT% (10) of it unused;
- `commit:PATH`: a new commit in the git repository at PATH (its HEAD moved).

Firing is debounced (`[fill] on_change_debounce` between two occurrences of one
template) and deduplicated (`Scheduler.enqueue_occurrence` queues none while
the template's last occurrence is still open). Session and task events come
from the engine's event bus (`EventBus.listen`); idleness, resets and commits
are looked at each scheduler round. Pure apart from `git rev-parse`, run as
argv with a timeout in the caller's worker thread.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from collectors.windows import window_name
from sessions.fill.schedule import ScheduleError

log = logging.getLogger("podium.fill.triggers")

KINDS = ("turn-end", "idle", "task-done", "task-failed", "reset-unused", "commit")
# A session's states that mean its turn is over and it waits for the person.
WAITING = frozenset({"waiting", "idle", "seen"})
BUSY = frozenset({"busy", "retrying"})
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.*")


@dataclass(frozen=True)
class Trigger:
    kind: str
    target: str = "*"  # a session name, a task id, a window, or a repository path
    amount: float = 0.0  # idle minutes, or the unused share of a reset


def normalized(spec: str) -> str:
    """The spec as stored: checked (`parse_trigger`), a commit's path made absolute."""
    trigger = parse_trigger(spec)
    return f"commit:{trigger.target}" if trigger.kind == "commit" else spec.strip()


def parse_trigger(spec: str) -> Trigger:
    """A `--on` spec; `ScheduleError` with the forms when it is not one."""
    text = spec.strip()
    kind, _, rest = text.partition(":")
    forms = (
        "use turn-end:NAME, idle:NAME:MINUTES, task-done:ID, task-failed:ID, "
        "reset-unused:WINDOW[:PCT] or commit:PATH"
    )
    if kind not in KINDS or not rest:
        raise ScheduleError(f"cannot read the event {spec!r}; {forms}")
    if kind == "commit":
        path = Path(rest).expanduser()
        if not path.is_absolute():
            raise ScheduleError(f"commit: give the repository's absolute path, not {rest!r}")
        return Trigger(kind, str(path))
    parts = rest.split(":")
    if kind == "turn-end" and len(parts) == 1:
        return Trigger(kind, _name(parts[0], spec))
    if kind == "idle" and len(parts) == 2:
        return Trigger(kind, _name(parts[0], spec), _number(parts[1], spec, "minutes"))
    if kind in ("task-done", "task-failed") and len(parts) == 1:
        if parts[0] != "*" and not (parts[0].isdigit() and 0 < int(parts[0]) < 2**31):
            raise ScheduleError(f"{kind}: a task id or *, not {parts[0]!r}")
        return Trigger(kind, parts[0])
    if kind == "reset-unused" and len(parts) in (1, 2):
        try:
            window = window_name(parts[0])
        except ValueError as exc:
            raise ScheduleError(str(exc)) from None
        pct = _number(parts[1], spec, "percent") if len(parts) == 2 else 10.0
        if pct > 100:
            raise ScheduleError(f"reset-unused: a share of at most 100%, not {pct:g}")
        return Trigger(kind, window, pct)
    raise ScheduleError(f"cannot read the event {spec!r}; {forms}")


def _name(text: str, spec: str) -> str:
    if not text or len(text) > 64 or not set(text) <= _NAME_CHARS:
        raise ScheduleError(f"{spec!r}: a session name (letters, digits, - _ .) or *")
    return text


def _number(text: str, spec: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScheduleError(f"{spec!r}: {what} must be a number, not {text!r}") from None
    if not 0 < value < 1e6:
        raise ScheduleError(f"{spec!r}: {what} must be above 0")
    return value


def head_of(repo: str) -> str | None:
    """The commit HEAD names in the repository at `repo` (blocking: a worker thread's)."""
    try:
        out = subprocess.run(
            ["git", "-C", repo, "rev-parse", "--verify", "--quiet", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and sha else None


class Triggers:
    """Which on-event templates podium's events fire.

    `templates()` gives the live ones as (task id, trigger); `fire(template_id,
    why)` queues an occurrence. The caller feeds it bus events (`on_event`) and,
    each round, the sessions, the usage windows and the repositories' heads
    (`tick`)."""

    def __init__(
        self,
        templates: Callable[[], Iterable[tuple[int, Trigger]]],
        fire: Callable[[int, str], None],
        debounce_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.templates = templates
        self.fire_now = fire
        self.debounce_s = debounce_s
        self.clock = clock
        self._fired: dict[int, float] = {}
        self._states: dict[str, str] = {}  # session id -> its last state
        self._idle_fired: dict[tuple[int, str], str] = {}  # (template, session) -> since
        self._windows: dict[str, tuple[str | None, float]] = {}  # window -> (reset, used)
        self._heads: dict[int, str] = {}

    def _fire(self, template_id: int, why: str) -> None:
        now = self.clock()
        last = self._fired.get(template_id)
        if last is not None and now - last < self.debounce_s:
            log.info("task %d: %s, within the debounce of its last firing", template_id, why)
            return
        self._fired[template_id] = now
        self.fire_now(template_id, why)

    def on_event(self, name: str, data: dict[str, Any]) -> None:
        """A bus event (`EventBus.listen`): sessions' turns and tasks' ends."""
        if name == "session":
            sid, state = str(data.get("id")), str(data.get("state"))
            before = self._states.get(sid)
            self._states[sid] = state
            if before in BUSY and state in WAITING:
                who = str(data.get("name"))
                for tid, trig in self.templates():
                    if trig.kind == "turn-end" and trig.target in ("*", who):
                        self._fire(tid, f"session {who} finished a turn")
        elif name == "queue" and isinstance(data.get("task"), dict):
            task = data["task"]
            kind = {"done": "task-done", "failed": "task-failed"}.get(str(task.get("state")))
            if kind is None or data.get("run") is None:
                return  # only a run's end says the task just ended
            for tid, trig in self.templates():
                own = task.get("parent_id") == tid or task.get("id") == tid
                if trig.kind == kind and not own and trig.target in ("*", str(task.get("id"))):
                    self._fire(tid, f"task {task.get('id')} {task.get('state')}")

    def tick(
        self,
        now: datetime,
        sessions: Iterable[tuple[str, str, datetime | None]],
        windows: Iterable[tuple[str, float, str | None]],
        heads: dict[int, str | None],
    ) -> None:
        """A round: `sessions` as (name, state, since), `windows` as (name, used %,
        reset), `heads` as template id -> its repository's HEAD."""
        sessions = list(sessions)
        templates = list(self.templates())
        for tid, trig in templates:
            if trig.kind == "idle":
                for who, state, since in sessions:
                    if state not in WAITING or since is None or trig.target not in ("*", who):
                        continue
                    stamp = since.isoformat()
                    waited = (now - since).total_seconds() / 60
                    if waited >= trig.amount and self._idle_fired.get((tid, who)) != stamp:
                        self._idle_fired[(tid, who)] = stamp  # once per wait
                        self._fire(tid, f"session {who} waited {waited:.0f} minutes")
            elif trig.kind == "commit" and tid in heads:
                head = heads[tid]
                before = self._heads.get(tid)
                if head is not None:
                    self._heads[tid] = head
                    if before is not None and head != before:
                        self._fire(tid, f"commit {head[:10]} in {trig.target}")
        for window, used, reset in windows:
            last = self._windows.get(window)
            self._windows[window] = (reset, used)
            if last is None or not _reset_passed(last[0], reset, now):
                continue
            unused = 100.0 - last[1]
            for tid, trig in templates:
                if trig.kind == "reset-unused" and trig.target == window and unused >= trig.amount:
                    self._fire(tid, f"{window} reset with {unused:.0f}% unused")


def _reset_passed(before: str | None, after: str | None, now: datetime) -> bool:
    """Whether the window reset between two rounds: its old reset time has passed and
    the new one is a window later (sources round a reset by seconds: no reset)."""
    if before is None or after is None:
        return False
    try:
        old, new = datetime.fromisoformat(before), datetime.fromisoformat(after)
    except ValueError:
        return False
    return old <= now and new - old >= timedelta(hours=1)
