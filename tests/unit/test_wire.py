"""The wire contract (`sessions.wire`) against the engine's method table: every method
has its params and result types and a handler typed with them, every handler a
method, and every event the engine publishes a Struct of the event union."""

from __future__ import annotations

import inspect
import re
import typing
from pathlib import Path
from typing import Any, get_type_hints
from unittest.mock import MagicMock

import msgspec
import pytest

from sessions import wire
from sessions.engine.handlers import build_handlers
from sessions.engine.stage import StageKeeper
from sessions.engine.transcripts import TranscriptIngest

ROOT = Path(__file__).resolve().parents[2]


def _handlers() -> dict[str, Any]:
    engine = MagicMock()
    # Real (unstarted) objects: their bound methods are the handlers the engine serves.
    engine.stage = StageKeeper.__new__(StageKeeper)
    engine.transcripts = TranscriptIngest.__new__(TranscriptIngest)
    return build_handlers(engine)


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
    assert names(wire.RunRecord) == {f.name for f in fields(Run)}
    extra = {"attention", "on_stage", "tokens_today", "cost_today_usd"}
    assert names(wire.Session) == {f.name for f in fields(SessionRecord)} | extra
    item = {f.name for f in fields(AttentionItem)} - {"session_id"} | {"waited_s"}
    assert names(wire.AttentionItem) == item
