"""The wire contract (`sessions.wire`) against the engine's method table: every method
has its params and result types and a handler typed with them, every handler a
method, and every event the engine publishes a Struct of the event union."""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from pathlib import Path
from typing import Any, get_type_hints
from unittest.mock import MagicMock

import msgspec
import pytest

from collectors.paths import Paths
from collectors.settings import ReserveRuleSettings, Settings
from sessions import wire
from sessions.engine.core import Engine
from sessions.engine.stage import StageKeeper
from sessions.engine.transcripts import TranscriptIngest
from sessions.fill.held import Held
from sessions.fill.policy import Decision

ROOT = Path(__file__).resolve().parents[2]


def _handlers() -> dict[str, Any]:
    engine = Engine(Paths(data=ROOT / "no-data", runtime=ROOT / "no-runtime"), Settings())
    for part in ("conn", "registry", "attention", "usage", "scheduler", "spool", "watch"):
        setattr(engine, part, MagicMock())
    # Real (unstarted) objects: their bound methods are the handlers the engine serves.
    engine.stage = StageKeeper.__new__(StageKeeper)
    engine.transcripts = TranscriptIngest.__new__(TranscriptIngest)
    return engine.handlers()


def test_every_method_has_a_handler_and_every_handler_a_method() -> None:
    handlers = _handlers()
    served = set(wire.METHODS) - {wire.EVENTS_SUBSCRIBE.name}  # the server's own
    assert set(handlers) == served


@pytest.mark.parametrize("name", sorted(set(wire.METHODS) - {"events.subscribe"}))
def test_each_handler_takes_its_params_struct_and_returns_its_result(name: str) -> None:
    spec = wire.METHODS[name]
    handler = _handlers()[name]
    hints = get_type_hints(handler)
    params = [p for p in inspect.signature(handler).parameters if p != "self"]
    assert hints[params[0]] is spec.params, f"{name} takes {hints[params[0]]}"
    assert hints["return"] == spec.result, f"{name} returns {hints['return']}"


@pytest.mark.parametrize("spec", list(wire.METHODS.values()), ids=lambda m: m.name)
def test_params_and_results_are_wire_structs(spec: wire.Method[Any, Any]) -> None:
    assert issubclass(spec.params, msgspec.Struct)
    result = spec.result
    inner = typing.get_args(result)[0] if typing.get_origin(result) is list else result
    assert issubclass(inner, msgspec.Struct)
    assert inner.__module__ == spec.params.__module__ == "sessions.wire"
    # Every params Struct can be made from no or its required fields (a JSON schema).
    msgspec.json.schema(spec.params)
    msgspec.json.schema(result)


def test_every_published_event_is_in_the_union() -> None:
    """Each `bus.publish(wire.XEvent(...))` names an event of `wire.Event`, and each
    event of the union is published somewhere."""
    published = set()
    for path in [*ROOT.glob("sessions/**/*.py")]:
        text = path.read_text()
        assert not re.search(r"\.publish\(\s*\"", text), f"{path}: an untyped event"
        published |= set(re.findall(r"\.publish\(\s*wire\.(\w+Event)\(", text))
    union = {cls.__name__ for cls in typing.get_args(wire.Event)}
    assert union == {cls.__name__ for cls in wire.EVENTS}
    assert published == union


def test_an_event_line_decodes_to_its_struct() -> None:
    event = wire.TmuxEvent(data=wire.TmuxState(alive=False, socket="podium"))
    line = msgspec.json.encode(event)
    assert line.startswith(b'{"event":"tmux","data":')
    assert wire.decode_event(line) == event


def test_records_keep_every_field_the_engine_stores() -> None:
    """The Structs built from the engine's records name all their fields, so a field
    added to a record cannot silently drop out of the API (and the CLI's --json)."""
    from dataclasses import fields

    from sessions.attention import AttentionItem
    from sessions.fill.queue import Run, Task
    from sessions.registry import SessionRecord

    def names(struct: type[msgspec.Struct]) -> set[str]:
        return set(struct.__struct_fields__)

    assert names(wire.TaskRecord) == {f.name for f in fields(Task)} | {"schedule_text"}
    assert names(wire.RunRecord) == {f.name for f in fields(Run)} | {"retrying", "reason"}
    extra = {"attention", "on_stage", "tokens_today", "cost_today_usd", "doing", "messages_waiting"}
    assert names(wire.Session) == {f.name for f in fields(SessionRecord)} | extra
    item = {f.name for f in fields(AttentionItem)} - {"session_id"} | {"waited_s"}
    assert names(wire.AttentionItem) == item


def test_usage_today_sums_every_claude_id_of_a_session_since_midnight(tmp_path: Path) -> None:
    """A session's tokens today come from usage_messages of its current Claude id and
    of the ids its hooks named before (a resume), from local midnight on."""
    from datetime import UTC, datetime, timedelta

    from collectors.store import open_store
    from sessions.engine.transcripts import Today, _today_rows

    conn = open_store(tmp_path / "p.duckdb")
    midnight = datetime(2026, 11, 12, tzinfo=UTC)

    def message(key: str, claude_id: str, at: datetime, tokens: int, cost: float | None) -> None:
        conn.execute(
            "INSERT INTO usage_messages (dedupe_key, ts, claude_session_id, input_tokens, "
            "output_tokens, cache_creation_tokens, cache_creation_1h_tokens, "
            "cache_read_tokens, cost_usd, is_sidechain, source_path) "
            "VALUES (?, ?, ?, ?, 1, 0, 0, 0, ?, false, 'x')",
            [key, at, claude_id, tokens - 1, cost],
        )

    message("m1", "c-old", midnight + timedelta(hours=1), 100, 0.5)  # before the resume
    message("m2", "c-new", midnight + timedelta(hours=2), 50, None)  # unpriced model
    message("m3", "c-new", midnight - timedelta(minutes=1), 999, 9.0)  # yesterday
    message("m4", "c-other", midnight + timedelta(hours=1), 7, 0.1)  # someone else
    conn.execute(
        "INSERT INTO hook_events (ts, session_id, claude_session_id, event) "
        "VALUES (?, 's1', 'c-old', 'SessionStart')",
        [midnight],
    )
    ids = {"s1": "c-new", "s2": None, "s3": "c-quiet"}
    pairs, today = _today_rows(conn.cursor(), ids, None, midnight)
    assert pairs == {("s1", "c-new"), ("s1", "c-old"), ("s3", "c-quiet")}
    assert today == {"s1": Today(150, 0.5), "s3": Today(0, None)}  # s2: no Claude id yet
    # The pairs found are reused until a session's id changes.
    again = _today_rows(conn.cursor(), ids, frozenset({("s1", "c-new")}), midnight)
    assert again[1] == {"s1": Today(50, None)}


def test_fill_reasons_keep_every_field_the_scheduler_computes() -> None:
    """A decision of the fill policy and a task's reason to wait (`queue.list {explain}`)
    reach clients with all their fields, the reserve with the schedule's."""

    def names(struct: type[msgspec.Struct]) -> set[str]:
        return set(struct.__struct_fields__)

    assert names(wire.Decision) == {f.name for f in dataclasses.fields(Decision)}
    assert names(wire.Held) == {f.name for f in dataclasses.fields(Held)}
    assert names(wire.ReserveRule) == set(ReserveRuleSettings.__struct_fields__)
    listed = wire.QueueList(
        tasks=[],
        fill=wire.FillState(enabled=False),
        reserve=wire.Reserve(pct=30, now_pct=5, window_end="2026-11-12T17:00:00+00:00",
                             source="schedule", rules=[wire.ReserveRule(five_hour_pct=30)]),
        held=[wire.Held(task_id=1, kind="reserve", reason="why")],
    )  # fmt: skip
    assert msgspec.convert(wire.to_builtins(listed), wire.QUEUE_LIST.result) == listed
