"""An engine that cannot read its database says so, in its log and in the CLI's
error, with the way out; `podium doctor` sees it; `podium db reset` gets out."""

from __future__ import annotations

import json
import os

from conftest import PodiumEnv

WAY_OUT = "run `podium db reset` to move it aside and start a fresh log"


def test_a_garbage_database_stops_the_engine_with_the_way_out(podium_env: PodiumEnv):
    db = podium_env.data / "podium.duckdb"
    podium_env.data.mkdir(parents=True)
    db.write_bytes(os.urandom(100_000))

    out = podium_env.run("engine", "start")
    assert out.returncode != 0
    assert f"podium.duckdb at {db} is not a readable DuckDB file" in out.stderr
    assert WAY_OUT in out.stderr
    log_lines = (podium_env.data / "engine.log").read_text().strip().splitlines()
    assert WAY_OUT in log_lines[-1]

    doctor = podium_env.run("doctor", "--json")
    [check] = [c for c in json.loads(doctor.stdout) if c["name"] == "database"]
    assert check["status"] == "error" and WAY_OUT in check["detail"]

    reset = podium_env.run("db", "reset")
    assert reset.returncode == 0, reset.stderr
    [kept] = podium_env.data.glob("podium.duckdb.broken-*")
    assert kept.stat().st_size == 100_000 and f"kept the old file as {kept}" in reset.stdout

    assert podium_env.run("engine", "start").returncode == 0
    refused = podium_env.run("db", "reset", "--force")
    assert refused.returncode != 0 and "engine already running" in refused.stderr
