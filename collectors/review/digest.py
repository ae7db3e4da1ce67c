"""The compact digest an agent reviews (`podium review --agent`): figures, not transcripts.

What a careful reader needs to judge the period: spend by project, model, weekday and
hour, person against background, the queue's outcomes, the windows' resets, and the
computed findings, all as numbers and short labels, bounded in size. Transcript
paths are added only when the person allows it (`[review] agent_transcripts`).
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

# The digest goes into an agent's context: keep it well under its budget.
MAX_BYTES = 48_000
TOP = 12


def build(
    conn: duckdb.DuckDBPyConnection,
    review: dict[str, Any],
    *,
    zone: str,
    transcripts: bool = False,
) -> dict[str, Any]:
    since = review["since"]
    params = [since]
    projects = conn.execute(
        """
        SELECT project, round(sum(cost_usd), 2), count(*), count(DISTINCT claude_session_id)
        FROM usage_messages WHERE ts >= ? GROUP BY project ORDER BY 2 DESC NULLS LAST LIMIT ?
        """,
        [*params, TOP],
    ).fetchall()
    models = conn.execute(
        """
        SELECT model, round(sum(cost_usd), 2), count(*), sum(output_tokens)
        FROM usage_messages WHERE ts >= ? GROUP BY model ORDER BY 2 DESC NULLS LAST LIMIT ?
        """,
        [*params, TOP],
    ).fetchall()
    hours = conn.execute(
        """
        SELECT dayofweek(timezone(?, ts)) AS dow, hour(timezone(?, ts)) AS h,
               round(sum(cost_usd), 2)
        FROM usage_messages WHERE ts >= ? GROUP BY dow, h ORDER BY dow, h
        """,
        [zone, zone, since],
    ).fetchall()
    runs = conn.execute(
        """
        SELECT state, coalesce(terminal_reason, ''), count(*), round(sum(total_cost_usd), 2)
        FROM queue_runs WHERE started_at >= ? GROUP BY 1, 2 ORDER BY 3 DESC
        """,
        params,
    ).fetchall()
    digest: dict[str, Any] = {
        "period": {"since": since, "until": review["now"], "zone": zone},
        "usd_per_pct_of_window": review.get("usd_per_pct", {}),
        "daily": review.get("daily", []),
        "by_project": [
            {"project": p, "usd": u, "responses": n, "sessions": s} for p, u, n, s in projects
        ],
        "by_model": [
            {"model": m, "usd": u, "responses": n, "output_tokens": o} for m, u, n, o in models
        ],
        # dayofweek: 0 = Sunday.
        "usd_by_weekday_hour": [[d, h, u] for d, h, u in hours],
        "background_runs": [
            {"outcome": s, "stopped_for": r or None, "runs": n, "usd": u} for s, r, n, u in runs
        ],
        "resets": [r for r in review.get("resets", []) if r.get("window") == "seven_day"],
        "attention_minutes_by_weekday_hour": review.get("attention_heatmap", []),
        "computed_findings": [
            {k: f[k] for k in ("kind", "area", "title", "detail", "amount", "where", "sure")}
            for f in review.get("findings", [])
            if f.get("source", "computed") == "computed"
        ],
    }
    if transcripts:
        # Findings name a session as "name (id prefix)" or by its id's first 8 characters.
        prefixes = sorted(
            {
                label.rsplit("(", 1)[-1].rstrip(")")[:8]
                for f in review.get("findings", [])
                for label in f["where"]["sessions"]
            }
        )
        digest["transcripts"] = [
            p
            for (p,) in conn.execute(
                "SELECT DISTINCT source_path FROM usage_messages WHERE ts >= ? "
                "AND list_contains(?, left(claude_session_id, 8)) ORDER BY 1 LIMIT ?",
                [since, prefixes, TOP],
            ).fetchall()
        ]
    # Trim the longest lists until it fits (the daily split and the hours go first).
    for key in ("usd_by_weekday_hour", "daily", "attention_minutes_by_weekday_hour", "resets"):
        if len(json.dumps(digest)) <= MAX_BYTES:
            break
        digest[key] = digest[key][: max(1, len(digest[key]) // 4)]
    return digest
