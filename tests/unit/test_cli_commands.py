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
