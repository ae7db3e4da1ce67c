"""Helpers for the control tower's tests: apps on a real engine, and waiting in Pilot.

A plain module (a second conftest.py would clash with tests/conftest.py by name):
test files import `tower_env_fixture`, which provides the fixture `tower_env`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import PodiumEnv

from collectors.paths import Paths
from collectors.settings import load_settings
from tui.app import PodiumApp


@pytest.fixture(name="tower_env")
def tower_env_fixture(engine: PodiumEnv, monkeypatch: pytest.MonkeyPatch) -> PodiumEnv:
    """A running engine, and this process's environment set to it: an engine the app
    starts again (after losing one) must get the test's tmux socket and dirs."""
    for key in list(os.environ):
        # TMUX_TMPDIR stays: it says where the test's tmux server has its socket.
        if key.startswith(("PODIUM_", "TMUX", "CLAUDE_")) and key != "TMUX_TMPDIR":
            monkeypatch.delenv(key)
    for key, value in engine.env.items():
        if key.startswith(("PODIUM_", "CLAUDE_")):
            monkeypatch.setenv(key, value)
    return engine


def tower_app(env: PodiumEnv, **kwargs: Any) -> PodiumApp:
    """The control tower on the test's engine, with its config file and environment."""
    config = Path(env.env["PODIUM_CONFIG"])
    settings = load_settings(config, environ=env.env)
    app = PodiumApp(
        Paths(data=env.data, runtime=env.runtime),
        settings,
        environ={**env.env, "PWD": str(env.workdir)},
        config_path=config,
        **kwargs,
    )
    return app


def record_notifications(app: PodiumApp) -> list[str]:
    """Every notification text the app shows, in order."""
    seen: list[str] = []
    original = app.notify

    def notify(message: str, *args: Any, **kwargs: Any) -> None:
        seen.append(str(message))
        original(message, *args, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    return seen


async def until(pilot: Any, check: Callable[[], bool], seconds: float = 20.0) -> None:
    """Let the app run until `check()` holds; fail with the check's name after `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {check}")
        await pilot.pause(0.05)


def run(coro: Any) -> Any:
    return asyncio.run(coro)
