"""The tower shows a message arrive: a toast when it is posted, and one when it is typed
into its session (a sim session, a real engine, Pilot)."""

from __future__ import annotations

import asyncio

from conftest import PodiumEnv
from tower_helpers import (  # noqa: F401 - a fixture
    record_notifications,
    run,
    tower_app,
    tower_env_fixture,
    until,
)


def test_a_message_to_a_session_is_shown_when_posted_and_when_typed_in(
    tower_env: PodiumEnv,
) -> None:
    env = tower_env
    env.json("new", "--agent", "sim", "--name", "w", "--prompt", "[nopermission] hi")
    env.wait_state("w", "waiting")

    async def scenario() -> list[str]:
        app = tower_app(env)
        notes = record_notifications(app)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.engine_up and len(app.state.ordered()) == 1)
            await asyncio.to_thread(env.run, "post", "w", "please rebase", check=True)
            await until(pilot, lambda: any("typed in as its prompt" in n for n in notes))
        return notes

    notes = run(scenario())
    said = [n for n in notes if "please rebase" in n]
    assert said[0] == "you → w (goes in when its turn ends)\nplease rebase"
    assert said[-1] == "you → w: typed in as its prompt\nplease rebase"
