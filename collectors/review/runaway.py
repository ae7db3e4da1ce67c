"""Runaway work: loops, cost outliers, context bloat, runs stopped by limits or budgets."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path

from collectors.review import loops
from collectors.review.context import Context
from collectors.review.finding import Amount, Finding, Where, sure_of
from collectors.review.robust import OUTLIER_Z, median, modified_z

# A loop: the same masked tool error this many times in one session.
LOOP_MIN = 6
# Outliers need a crowd to stand out from, and must be worth a look.
OUTLIER_MIN_GROUP = 6
OUTLIER_MIN_USD = 1.0
OUTLIER_MIN_RATIO = 3.0
# Context bloat: cache writes at least this share of a session's input side, over
# at least this many input-side tokens (a short session writes its cache once).
BLOAT_WRITE_SHARE = 0.4
BLOAT_MIN_TOKENS = 2_000_000


def loop_findings(ctx: Context, transcripts: Callable[[], Iterable[Path]]) -> list[Finding]:
    out: list[Finding] = []
    for run in loops.scan(transcripts(), ctx.start):
        if run.count < LOOP_MIN:
            continue
        first, last = min(run.times), max(run.times)
        tokens, usd = ctx.conn.execute(
            """
            SELECT coalesce(sum(input_tokens + output_tokens + cache_creation_tokens
                                + cache_read_tokens), 0), coalesce(sum(cost_usd), 0)
            FROM usage_messages WHERE claude_session_id = ? AND ts >= ? AND ts <= ?
            """,
            [run.session, first, last],
        ).fetchone() or (0, 0.0)
        confidence = 0.9 if run.count >= 2 * LOOP_MIN else 0.7
        tool = f" {run.tool}" if run.tool else " a tool"
        out.append(
            Finding(
                kind="loop",
                area="runaway",
                title=(
                    f"{ctx.session_label(run.session)} hit the same{tool} error {run.count} times"
                ),
                detail=(
                    f"Between {ctx.span(first, last)} the agent called{tool} and got the same "
                    f"error {run.count} times: “{run.error}”. The turns in between spent "
                    f"{int(tokens):,} tokens (${float(usd):,.2f} at list price)."
                ),
                amount=Amount(
                    tokens=int(tokens),
                    usd=round(float(usd), 2),
                    count=run.count,
                    minutes=round((last - first).total_seconds() / 60, 1),
                ),
                where=Where(
                    sessions=[ctx.session_label(run.session)],
                    projects=[run.project] if run.project else [],
                    hours=[ctx.span(first, last)],
                ),
                suggestion=(
                    "Fix what the tool keeps failing on, or say in the project's CLAUDE.md how "
                    "to avoid it; give background tasks a budget (`--budget`) so a loop stops."
                ),
                confidence=confidence,
                sure=sure_of(confidence),
                evidence=[
                    ("error", run.error),
                    ("tool", run.tool or "?"),
                    ("times", str(run.count)),
                    ("first", ctx.clock(first)),
                    ("last", ctx.clock(last)),
                ],
                weight=float(usd),
            )
        )
    return out


def _outliers(
    ctx: Context, what: str, rows: list[tuple[str, float, int]], where: Callable[[str], Where]
) -> list[Finding]:
    """rows: (key, dollars, tokens). Outliers on log dollars, by modified z-score."""
    rows = [r for r in rows if r[1] > 0]
    if len(rows) < OUTLIER_MIN_GROUP:
        return []
    scores = modified_z([math.log(r[1]) for r in rows])
    typical = median([r[1] for r in rows])
    out = []
    for (key, usd, tokens), z in zip(rows, scores, strict=True):
        if z <= OUTLIER_Z or usd < OUTLIER_MIN_USD or usd < OUTLIER_MIN_RATIO * typical:
            continue
        confidence = min(0.9, 0.5 + (z - OUTLIER_Z) / 10)
        out.append(
            Finding(
                kind=f"cost_outlier_{what}",
                area="runaway",
                title=f"{what.capitalize()} {key} cost {usd / typical:.0f}× the typical {what}",
                detail=(
                    f"${usd:,.2f} at list price ({tokens:,} tokens) against a median of "
                    f"${typical:,.2f} over {len(rows)} {what}s in the period "
                    f"(modified z-score {z:.1f})."
                ),
                amount=Amount(tokens=int(tokens), usd=round(usd, 2)),
                where=where(key),
                suggestion=(
                    f"Look at what this {what} did differently; if it was meant, give such "
                    "work a budget so it cannot grow unseen."
                ),
                confidence=confidence,
                sure=sure_of(confidence),
                evidence=[
                    ("cost", f"${usd:,.2f}"),
                    ("median", f"${typical:,.2f}"),
                    ("group", f"{len(rows)} {what}s"),
                    ("modified z", f"{z:.1f}"),
                ],
                weight=usd - typical,
            )
        )
    return out


def outlier_findings(ctx: Context) -> list[Finding]:
    tasks = ctx.conn.execute(
        """
        SELECT '#' || CAST(r.task_id AS VARCHAR), sum(coalesce(r.total_cost_usd, 0)),
               sum(coalesce(r.input_tokens, 0) + coalesce(r.output_tokens, 0)
                   + coalesce(r.cache_creation_tokens, 0) + coalesce(r.cache_read_tokens, 0))
        FROM queue_runs r WHERE r.started_at >= ? GROUP BY r.task_id
        """,
        [ctx.start],
    ).fetchall()
    tokens_sum = "sum(input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens)"
    sessions = ctx.conn.execute(
        f"""
        SELECT claude_session_id, coalesce(sum(cost_usd), 0), {tokens_sum}
        FROM usage_messages
        WHERE ts >= ? AND claude_session_id IS NOT NULL
          AND NOT list_contains(?, claude_session_id)
        GROUP BY claude_session_id
        """,
        [ctx.start, list(ctx.background)],
    ).fetchall()
    projects = ctx.conn.execute(
        f"""
        SELECT project, coalesce(sum(cost_usd), 0), {tokens_sum}
        FROM usage_messages WHERE ts >= ? AND project IS NOT NULL GROUP BY project
        """,
        [ctx.start],
    ).fetchall()
    return [
        *_outliers(
            ctx,
            "task",
            [(k, float(u), int(t)) for k, u, t in tasks],
            lambda k: Where(tasks=[int(k.lstrip("#"))]),
        ),
        *_outliers(
            ctx,
            "session",
            [(k, float(u), int(t)) for k, u, t in sessions],
            lambda k: Where(sessions=[ctx.session_label(k)]),
        ),
        *_outliers(
            ctx,
            "project",
            [(k, float(u), int(t)) for k, u, t in projects],
            lambda k: Where(projects=[k]),
        ),
    ]


def bloat_findings(ctx: Context) -> list[Finding]:
    rows = ctx.conn.execute(
        """
        SELECT claude_session_id, any_value(project), sum(cache_creation_tokens) AS writes,
               sum(input_tokens + cache_creation_tokens + cache_read_tokens) AS input_side,
               sum(cost_usd), count(*), min(ts), max(ts)
        FROM usage_messages WHERE ts >= ? AND claude_session_id IS NOT NULL
        GROUP BY claude_session_id
        HAVING sum(input_tokens + cache_creation_tokens + cache_read_tokens) >= ?
           AND sum(cache_creation_tokens) >= ? * sum(input_tokens + cache_creation_tokens
                                                     + cache_read_tokens)
        ORDER BY writes DESC LIMIT 5
        """,
        [ctx.start, BLOAT_MIN_TOKENS, BLOAT_WRITE_SHARE],
    ).fetchall()
    out = []
    for sid, project, writes, input_side, usd, messages, first, last in rows:
        share = float(writes) / float(input_side)
        confidence = 0.8 if share >= 0.6 else 0.6
        out.append(
            Finding(
                kind="context_bloat",
                area="runaway",
                title=f"{ctx.session_label(sid)} rewrote its cache: {share:.0%} of its input",
                detail=(
                    f"Cache writes were {int(writes):,} of {int(input_side):,} input tokens over "
                    f"{messages} responses ({ctx.span(first, last)}). A healthy long session "
                    "mostly reads its cache; writes this large mean the context kept changing "
                    "or expired between turns (the cache lives 5 minutes)."
                ),
                amount=Amount(tokens=int(writes), usd=round(float(usd or 0), 2)),
                where=Where(
                    sessions=[ctx.session_label(sid)], projects=[project] if project else []
                ),
                suggestion=(
                    "Use /compact or start a fresh session for new work; keep CLAUDE.md and the "
                    "tool list stable during a session; answer sooner than 5 minutes when you can."
                ),
                confidence=confidence,
                sure=sure_of(confidence),
                evidence=[
                    ("cache writes", f"{int(writes):,}"),
                    ("input side", f"{int(input_side):,}"),
                    ("write share", f"{share:.0%}"),
                ],
                weight=float(usd or 0) * share,
            )
        )
    return out


def stopped_findings(ctx: Context) -> list[Finding]:
    """Background runs stopped by a usage limit, their budget or their timeout."""
    rows = ctx.conn.execute(
        """
        SELECT CASE WHEN state = 'limited' THEN 'limit'
                    WHEN terminal_reason IN ('budget', 'timeout') THEN terminal_reason
                    WHEN subtype = 'error_max_budget_usd' THEN 'budget' END AS why,
               count(*), list(DISTINCT task_id ORDER BY task_id), sum(coalesce(total_cost_usd, 0))
        FROM queue_runs WHERE started_at >= ? GROUP BY why HAVING why IS NOT NULL
        """,
        [ctx.start],
    ).fetchall()
    words = {
        "limit": (
            "hit a usage limit",
            "Fill should stop before the limit: lower "
            "`[fill] weekly_margin_pct` pressure or check the reserve schedule.",
        ),
        "budget": (
            "were stopped at their budget",
            "Raise these tasks' budgets if the work "
            "was worth it, or split them (`--after`) into smaller steps.",
        ),
        "timeout": ("timed out", "Give these tasks a longer `--timeout` or smaller steps."),
    }
    out = []
    for why, count, task_ids, usd in rows:
        what, change = words[why]
        out.append(
            Finding(
                kind=f"stopped_{why}",
                area="runaway",
                title=f"{count} background run{'s' if count != 1 else ''} {what}",
                detail=(
                    f"Tasks {', '.join(f'#{t}' for t in task_ids[:8])} "
                    f"spent ${float(usd):,.2f} at list price in the runs that were stopped."
                ),
                amount=Amount(count=int(count), usd=round(float(usd), 2)),
                where=Where(tasks=[int(t) for t in task_ids[:20]]),
                suggestion=change,
                confidence=0.9,
                sure="high",
                evidence=[("runs", str(count)), ("tasks", ", ".join(f"#{t}" for t in task_ids))],
                weight=float(usd),
            )
        )
    return out


def findings(ctx: Context, transcripts: Callable[[], Iterable[Path]]) -> list[Finding]:
    return [
        *loop_findings(ctx, transcripts),
        *outlier_findings(ctx),
        *bloat_findings(ctx),
        *stopped_findings(ctx),
    ]


def period_transcripts(ctx: Context) -> list[Path]:
    """The transcripts that logged a response in the period."""
    return [
        Path(p)
        for (p,) in ctx.conn.execute(
            "SELECT DISTINCT source_path FROM usage_messages WHERE ts >= ?", [ctx.start]
        ).fetchall()
    ]
