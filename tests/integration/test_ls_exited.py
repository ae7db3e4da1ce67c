"""`podium ls` hides exited sessions, as the tower does, until asked for all of them."""

from __future__ import annotations

from conftest import PodiumEnv


def _names(listing: str) -> list[str]:
    return sorted(line.split()[1] for line in listing.splitlines()[1:])


def test_ls_lists_exited_sessions_only_with_all(engine: PodiumEnv) -> None:
    engine.json("new", "--name", "done", "--agent", "shell", "--cmd", "sh -c 'exit 0'")
    engine.json("new", "--name", "live", "--agent", "shell")
    engine.wait_state("done", "exited", seconds=15)
    out = engine.run("ls", check=True)
    assert _names(out.stdout) == ["live"]
    assert out.stderr.strip() == "1 exited session(s) not listed: --all lists them"
    out = engine.run("ls", "--all", check=True)
    assert _names(out.stdout) == ["done", "live"] and out.stderr == ""
    # Scripts get every session, with its state.
    assert {s["name"]: s["state"] for s in engine.json("ls")}["done"] == "exited"
