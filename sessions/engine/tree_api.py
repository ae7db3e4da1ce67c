"""The engine's task-tree API: `queue.tree`, `queue.pause`, `queue.resume`.

A tree is a task and the tasks under it (`parent_id`: an agent's subtasks, a team's
members under its lead, a template's copies); `sessions.fill.tree` builds it. Pause
and resume act on a task and, by default, every task under it:

- pause: a queued, deferred or recurring task becomes `paused` (with who paused it
  and when); the scheduler never offers it and a paused template queues no copy. A
  running one's run is stopped as a cancel stops one (its pane is killed, the run ends
  `cancelled`), but the task is paused and keeps the run's Claude session, so it goes
  on with `--resume` when resumed (a run stopped before Claude Code saved its first
  prompt has nothing to resume: it starts afresh, and the answer says so).
- resume: each paused task goes back to what it was waiting as (`recurring` for a
  template, `deferred` while its deferral runs, else `queued`) and the scheduler is
  woken.
Tasks that come after a paused one (`--after`) are held with the reason until it is
done (`graph.hold_reason`: "after task 3, which was paused: paused by you").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sessions import wire
from sessions.engine.queue_api import QueueApi
from sessions.fill.delegation import Spent
from sessions.fill.queue import FINAL_TASK_STATES, PAUSED, Task
from sessions.fill.schedule import RECURRING_KINDS
from sessions.fill.tree import build_forest, subtree_ids
from sessions.protocol import ApiError


def tree_handlers(api: TreeApi) -> dict[str, Any]:
    return {
        "queue.tree": api.tree,
        "queue.pause": api.pause,
        "queue.resume": api.resume,
    }


class TreeApi:
    def __init__(self, queue: QueueApi) -> None:
        self.queue = queue
        self.sched = queue.sched
        self.store = queue.sched.store

    async def tree(self, params: wire.TreeParams) -> wire.QueueTree:
        """Every tree with an open task (`all`: every tree), or the one under `id`."""
        root = self.queue._task(wire.TaskRef(id=params.id)).id if params.id is not None else None
        tasks = self.store.tasks()
        # Every run in one query (the tower asks every few seconds while a task runs).
        spent: dict[int, Spent] = {}
        for run in self.store.runs():
            was, more = spent.get(run.task_id, Spent()), self.queue.run_spent(run)
            spent[run.task_id] = Spent(was.units + more.units, was.usd + more.usd)
        deps = self.store.deps_of([t.id for t in tasks])
        after = {tid: [d.id for d in found] for tid, found in deps.items()}
        forest = build_forest(
            tasks,
            spent,
            after,
            self.sched.usage.capacity,
            root=root,
            everything=params.all,
        )
        return wire.QueueTree(trees=[wire.from_record(n, wire.TaskNode) for n in forest])

    def _targets(self, params: wire.PauseParams) -> tuple[Task, list[Task]]:
        task = self.queue._task(params)
        ids = subtree_ids(self.store.tasks(), task.id) if params.subtree else [task.id]
        found = [self.store.get(tid) for tid in ids]
        return task, [t for t in found if t is not None]

    async def pause(self, params: wire.PauseParams) -> wire.TreeChange:
        task, targets = self._targets(params)
        # A lead that is done may still have subtasks running: pausing it pauses those.
        if not any(t.state not in (*FINAL_TASK_STATES, PAUSED) for t in targets):
            raise ApiError(
                "conflict", f"task {task.id} is already {task.state}, and nothing under it is open"
            )
        by = params.by.strip()[:40] or "you"
        now = datetime.now(UTC)
        changed, stopped = [], []
        for t in targets:
            if t.state in (*FINAL_TASK_STATES, PAUSED):
                continue
            who = by if t.id == task.id else f"{by} (with task {task.id})"
            changes: dict[str, Any] = {
                "state": PAUSED,
                "paused_by": who,
                "paused_at": now,
                "last_result": f"paused by {who}",
            }
            if t.state == "running":
                last = self.store.last_run(t.id)
                await self.queue.stop_runs(t.id)
                stopped.append(t.id)
                # What the stopped run's conversation was, to go on with when resumed.
                if last is not None and last.claude_session_id:
                    changes["claude_session_id"] = last.claude_session_id
            self.store.update(t, **changes)
            changed.append(t.id)
            self._publish(t)
        return self._changed(task, changed=changed, stopped=stopped)

    async def resume(self, params: wire.PauseParams) -> wire.TreeChange:
        task, targets = self._targets(params)
        if task.state != PAUSED and not any(t.state == PAUSED for t in targets):
            raise ApiError(
                "conflict", f"task {task.id} is {task.state}: nothing under it is paused"
            )
        now = datetime.now(UTC)
        changed, notes = [], []
        for t in targets:
            if t.state != PAUSED:
                continue
            changes: dict[str, Any] = {"paused_by": None, "paused_at": None}
            if t.schedule_kind in RECURRING_KINDS:
                changes["state"] = "recurring"
            elif t.defer_until is not None and t.defer_until > now:
                changes["state"] = "deferred"
            else:
                changes["state"] = "queued"
            sid = t.claude_session_id
            if sid and await self.sched.runner.can_resume(sid):
                note = f"task {t.id} goes on with its Claude session {sid}"
            elif sid:
                changes["claude_session_id"] = None
                note = f"task {t.id} starts afresh: its run stopped before Claude Code saved it"
            else:
                note = ""
            if note:
                notes.append(note)
            changes["last_result"] = f"resumed; {note.split(' ', 2)[2]}" if note else "resumed"
            self.store.update(t, **changes)
            changed.append(t.id)
            self._publish(t)
        return self._changed(task, changed=changed, notes=notes)

    def _changed(self, task: Task, **what: list[Any]) -> wire.TreeChange:
        """After a pause or resume: the scheduler looks again, the answer says what moved."""
        self.sched.sync_watchers()
        self.sched.wake()
        fresh = self.store.get(task.id) or task
        return wire.TreeChange(task=self.queue._task_json(fresh), **what)

    def _publish(self, task: Task) -> None:
        self.queue.bus.publish(wire.QueueEvent(data=wire.QueueChange(task=task.to_wire())))
