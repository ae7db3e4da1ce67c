"""`sessions.rename`: the registry, the tmux window and subscribers follow the new name."""

from __future__ import annotations

import pytest
from conftest import PodiumEnv

from collectors.paths import Paths
from sessions import wire
from sessions.client import EngineClient
from sessions.protocol import ApiError


def _client(env: PodiumEnv) -> EngineClient:
    return EngineClient(Paths(data=env.data, runtime=env.runtime))


def _window_name(env: PodiumEnv, window_id: str) -> str:
    return env.tmux("display-message", "-p", "-t", window_id, "#{window_name}").stdout.strip()


def test_rename_follows_in_registry_window_and_events(engine: PodiumEnv) -> None:
    rec = engine.json("new", "--agent", "shell", "--name", "old")
    other = engine.json("new", "--agent", "shell", "--name", "kept")
    engine.tmux("rename-window", "-t", other["window_id"], "my own name")
    with _client(engine) as client, _client(engine) as watcher:
        # Subscribed before the rename (events() alone subscribes only when first read).
        watcher.subscribe()
        renamed = client.call("sessions.rename", name="old", new_name="new")
        assert renamed["name"] == "new" and renamed["id"] == rec["id"]
        event = next(
            e
            for e in watcher.events()
            if isinstance(e, wire.SessionEvent) and e.data.id == rec["id"]
        )
        assert event.data.name == "new"
        # A window the person renamed keeps its name.
        client.call("sessions.rename", name="kept", new_name="kept2")
        with pytest.raises(ApiError) as exc:
            client.call("sessions.rename", name="new", new_name="kept2")
        assert exc.value.code == "conflict"
        with pytest.raises(ApiError) as exc:
            client.call("sessions.rename", name="new", new_name="bad\x07name")
        assert exc.value.code == "bad_request"
    assert [s["name"] for s in engine.json("ls")] == ["new", "kept2"]
    assert _window_name(engine, rec["window_id"]) == "new"
    assert _window_name(engine, other["window_id"]) == "my own name"
    # The old name is free again.
    engine.json("new", "--agent", "shell", "--name", "old")
