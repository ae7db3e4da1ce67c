"""`podium simulate --scenario FILE|DIR [--policy P]… [--seeds N] [--json]`.

Runs the real fill policy against a simulated clock and account (no engine,
no tmux, no Claude): what it reports is what the live scheduler would decide,
from what the live scheduler would know. Each scenario is played on `--seeds`
draws (the tasks' real costs off their estimates, the person's sessions
moved a little), beside the oracle that knows the future, so every policy's
utilization is also given as a share of the oracle's.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from sessions.fill.simulate import POLICIES, ScenarioError, compare, parse_scenario
from tui.cli.common import CliFailure, print_json, table


def _scenarios(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(path.glob("*.json"))
        if not found:
            raise CliFailure(f"{path} holds no scenario (*.json); give a file or another directory")
        return found
    return [path]


def _load(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise CliFailure(f"cannot read {path}: {exc.strerror}; check the path") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CliFailure(f"{path} is not JSON ({exc}); fix the file") from None
    if not isinstance(data, dict):
        raise CliFailure(f"{path}: a scenario is a JSON object; fix the file")
    data.setdefault("name", path.stem)
    return data


@click.command("simulate")
@click.option(
    "--scenario",
    "scenario_path",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="A scenario JSON file, or a directory of them (see bench/scenarios/).",
)
@click.option(
    "--policy",
    "policies",
    type=click.Choice(POLICIES),
    multiple=True,
    help="A policy to play (repeatable; default: all of them).",
)
@click.option(
    "--seeds",
    type=click.IntRange(1, 100),
    default=3,
    show_default=True,
    help="Draws of each scenario (tasks' real costs, sessions' times).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def simulate(scenario_path: Path, policies: tuple[str, ...], seeds: int, as_json: bool) -> None:
    """Simulate a week of background fill against scenarios and print the figures."""
    rows = []
    for path in _scenarios(scenario_path):
        try:
            scenario = parse_scenario(_load(path))
        except ScenarioError as exc:
            raise CliFailure(f"{path}: {exc}; fix the scenario") from None
        rows += compare(scenario, policies or POLICIES, range(1, seeds + 1))
    if as_json:
        print_json([r.as_json() for r in rows])
        return
    click.echo(
        table(
            [
                [
                    r.scenario,
                    r.policy,
                    f"{r.weekly_utilization:.2f}",
                    "" if r.of_oracle is None else f"{r.of_oracle:.2f}",
                    "" if r.of_oracle_fill is None else f"{r.of_oracle_fill:.2f}",
                    str(r.fill_caused_blocked_minutes),
                    f"{r.tasks_done:.1f}",
                ]
                for r in rows
            ],
            [
                "scenario",
                "policy",
                "weekly",
                "of oracle",
                "fill of oracle's",
                "blocked min",
                "tasks",
            ],
        )
    )
    click.echo(
        f"{seeds} seed(s) each; weekly = the week's utilization; blocked min = the worst "
        "seed's minutes fill blocked you"
    )


COMMANDS = [simulate]
