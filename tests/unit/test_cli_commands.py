"""The lazy command table names every command of every command module, and only those."""

import importlib
import pkgutil

import tui.cli
from tui.cli import COMMAND_MODULES, cli


def test_lazy_table_matches_the_modules() -> None:
    found: dict[str, tuple[str, str]] = {}
    for info in pkgutil.iter_modules(tui.cli.__path__):
        module = importlib.import_module(f"tui.cli.{info.name}")
        for command in getattr(module, "COMMANDS", []):
            attr = next(k for k, v in vars(module).items() if v is command)
            found[command.name] = (info.name, attr)
    assert found == COMMAND_MODULES


def test_every_command_loads() -> None:
    for name in COMMAND_MODULES:
        assert cli.get_command(None, name).name == name  # type: ignore[arg-type]
    assert cli.get_command(None, "no-such") is None  # type: ignore[arg-type]


def test_fill_follows_typed_events_until_switched_off(capsys) -> None:
    """`podium fill` in the foreground prints the rounds' decisions and ended runs
    from the event stream, and returns when fill is switched off elsewhere."""
    from types import SimpleNamespace

    from sessions import wire
    from tui.cli.fill_cmd import _follow

    events = [
        wire.FillEvent(
            data=wire.FillChange(
                kind="decisions",
                at="2026-11-12T15:00:07+00:00",
                decisions=[wire.Decision(action="run", task_id=3, reason="spare capacity")],
            )
        ),
        wire.QueueEvent(
            data=wire.QueueChange(
                run=wire.RunRecord(id=5, task_id=3, attempt=1, state="done", total_cost_usd=0.25)
            )
        ),
        wire.FillEvent(data=wire.FillChange(kind="switch", enabled=False)),
        wire.TmuxEvent(data=wire.TmuxState(alive=True, socket="never read")),
    ]
    stream = SimpleNamespace(events=lambda: iter(events))
    _follow(stream, None, as_json=False)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("15:00:07 run") and "task 3" in out[0]
    assert out[1] == "run 5 of task 3: done, $0.2500"
    assert len(out) == 2  # stopped at the switch
