"""Task graphs (`podium queue add --after 3,4`): pure rules, no I/O.

A task runs once every task it comes after is `done`. Whether it may is worked
out from the dependencies' states each time it is asked, never stored: a
dependency that fails or is cancelled holds its dependents (they stay `queued`,
with the reason), and the same dependency run again and done lets them go on,
with nothing to undo. The edges themselves are `QueueStore`'s
(`queue_task_deps`, migration 0014).

When a dependent launches, each dependency's final message is handed to it in its
prompt (`prompt_with_results`): under a heading per dependency, or, past
`INLINE_MAX` bytes, in a file of the queue's private directory that the prompt
names, so a long report does not swamp the task's own words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

# A result longer than this (UTF-8 bytes) goes to a file; the prompt names it.
INLINE_MAX = 8 * 1024
# A dependency in one of these states will not become done by itself (a paused one
# waits for its person to resume it).
STUCK_STATES = ("failed", "cancelled", "paused")


class GraphError(ValueError):
    """An `--after` that cannot be: a task that does not exist, the task itself, a
    template, or a cycle. Its text is one line, shown as it is."""


@dataclass(frozen=True)
class Dep:
    """A task another one comes after, as the dependent sees it."""

    id: int
    state: str
    last_result: str | None = None


def check_edges(task_id: int, after: Sequence[int], edges: Mapping[int, Sequence[int]]) -> None:
    """Raise `GraphError` when making `task_id` come after `after` would close a cycle;
    `edges` maps each task to the tasks it already comes after."""
    for dep in after:
        if dep == task_id:
            raise GraphError(f"task {task_id} cannot come after itself")
        path = _path(dep, task_id, edges)
        if path is not None:
            loop = " → ".join(str(t) for t in [task_id, *path])
            raise GraphError(f"--after {dep} would make a cycle: {loop} (each after the next)")


def _path(start: int, goal: int, edges: Mapping[int, Sequence[int]]) -> list[int] | None:
    """The tasks from `start` to `goal` following "comes after" edges, if any."""
    seen: set[int] = set()
    stack: list[list[int]] = [[start]]
    while stack:
        path = stack.pop()
        node = path[-1]
        if node == goal:
            return path
        if node in seen:
            continue
        seen.add(node)
        stack.extend([*path, nxt] for nxt in edges.get(node, ()))
    return None


def waiting_on(deps: Sequence[Dep]) -> list[Dep]:
    """The dependencies not done yet (the task may run when there are none)."""
    return [d for d in deps if d.state != "done"]


def hold_reason(deps: Sequence[Dep]) -> str | None:
    """Why a task with these dependencies does not run, in one line; None: it may.
    A failed or cancelled one comes first: it will not end by itself."""
    open_ = waiting_on(deps)
    if not open_:
        return None
    stuck = [d for d in open_ if d.state in STUCK_STATES]
    if stuck:
        d = stuck[0]
        why = _first_line(d.last_result) or d.state
        more = f" (and {len(open_) - 1} more)" if len(open_) > 1 else ""
        verb = {"cancelled": "was cancelled", "paused": "is paused"}.get(d.state, d.state)
        return f"after task {d.id}, which {verb}: {why}{more}"
    if len(open_) == 1:
        return f"after task {open_[0].id}, which is {open_[0].state}"
    listed = ", ".join(f"{d.id} ({d.state})" for d in open_)
    return f"after tasks {listed}"


def is_stuck(deps: Sequence[Dep]) -> bool:
    """Whether a dependency failed or was cancelled (the task is held, not waiting)."""
    return any(d.state in STUCK_STATES for d in deps)


def _first_line(text: str | None) -> str:
    line = next((ln.strip() for ln in (text or "").splitlines() if ln.strip()), "")
    return line[:120]


def prompt_with_results(
    prompt: str,
    results: Sequence[tuple[int, str]],
    write_file: Callable[[int, str], str],
) -> str:
    """`prompt` followed by each dependency's result (`(task id, final message)`, in
    the order given) under its own heading. A result over `INLINE_MAX` bytes is
    handed to `write_file(task id, text)`, which stores it and returns the path the
    prompt names instead."""
    if not results:
        return prompt
    parts = [prompt.rstrip("\n"), "", "---", "", "Results of the tasks this one comes after:"]
    for dep_id, text in results:
        parts += ["", f"## Result of task {dep_id}", ""]
        if len(text.encode("utf-8")) > INLINE_MAX:
            path = write_file(dep_id, text)
            size = len(text.encode("utf-8"))
            parts.append(f"Its result is long ({size:,} bytes): read it from the file {path}")
        else:
            parts.append(text.rstrip("\n") or "(it ended with an empty message)")
    return "\n".join(parts) + "\n"
