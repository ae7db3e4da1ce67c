"""`podium simulate --scenario FILE [--policy podium|none|greedy] [--json]`.

Runs the real fill policy against a simulated clock and account (no engine,
no tmux, no Claude): what it reports is what the live scheduler would decide.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from sessions.fill.simulate import POLICIES, ScenarioError, parse_scenario, run
from tui.cli.common import CliFailure, print_json, table


@click.command("simulate")
@click.option(
    "--scenario",
    "scenario_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Scenario JSON (see bench/scenarios/).",
)
@click.option("--policy", type=click.Choice(POLICIES), default="podium", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def simulate(scenario_path: Path, policy: str, as_json: bool) -> None:
    """Simulate a week of background fill against a scenario and print its figures."""
    try:
        data = json.loads(scenario_path.read_text())
    except OSError as exc:
        raise CliFailure(f"cannot read {scenario_path}: {exc.strerror}; check the path") from None
    except json.JSONDecodeError as exc:
        raise CliFailure(f"{scenario_path} is not JSON ({exc}); fix the file") from None
    if not isinstance(data, dict):
        raise CliFailure(f"{scenario_path}: a scenario is a JSON object; fix the file")
    try:
        scenario = parse_scenario(data)
    except ScenarioError as exc:
        raise CliFailure(f"{scenario_path}: {exc}; fix the scenario") from None
    result = run(scenario, policy).as_json()
    if as_json:
        print_json(result)
        return
    area = result.pop("unused_area")
    rows = [[key.replace("_", " "), str(value)] for key, value in result.items()]
    rows += [[f"unused area {name} (%·h)", str(value)] for name, value in area.items()]
    click.echo(table(rows, ["figure", "value"]))


COMMANDS = [simulate]
