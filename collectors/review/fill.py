"""Fill: was the reserve right, and do queued tasks fail again and again?

The person's share of each 5-hour window is the window's last figure times the share
of its dollars (list price) that came from sessions other than podium's background
runs. A reserve far above what the person ever used kept capacity from fill; a
person who hit the limit in a window fill had spent in was blocked by it. From the
person's own use by weekday and hour comes a reserve schedule that would have kept
enough for them, in the `[[fill.reserve]]` form.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from collectors.review.context import Context
from collectors.review.finding import Amount, Finding, Where, sure_of
from collectors.review.robust import quantile
from collectors.windows import FIVE_HOUR, FIVE_HOURS

ReserveAt = Callable[[datetime], float]

# A reserve is too high when the person used less than this share of it in nearly
# every window (`RESERVE_QUIET_SHARE` of them), over at least `RESERVE_MIN_WINDOWS`.
RESERVE_USED_SHARE = 0.5
RESERVE_QUIET_SHARE = 0.9
RESERVE_MIN_WINDOWS = 10
# Blocked: fill spent at least this much of a 5-hour window the person was limited in.
BLOCKED_BG_PCT = 10.0
# The suggested schedule: the person's 90th percentile, plus a margin, in steps of 5.
SCHEDULE_Q = 0.9
SCHEDULE_MARGIN = 5.0
BLOCK_HOURS = 3
# A task (by its prompt) that failed this often is failing for a reason.
FAILING_MIN = 3


@dataclass(frozen=True)
class WindowUse:
    opened: datetime
    resets_at: datetime
    pct: float
    person_pct: float
    background_pct: float


def window_uses(ctx: Context) -> list[WindowUse]:
    rows = ctx.conn.execute(
        """
        SELECT resets_at, arg_max(used_pct, minute)
        FROM limit_series
        WHERE "window" = ? AND resets_at IS NOT NULL AND minute < resets_at
          AND resets_at >= ? AND resets_at <= ?
        GROUP BY resets_at ORDER BY resets_at
        """,
        [FIVE_HOUR, ctx.start, ctx.now],
    ).fetchall()
    background = list(ctx.background)
    out = []
    for resets_at, pct in rows:
        opened = resets_at - FIVE_HOURS
        total, bg = ctx.conn.execute(
            """
            SELECT coalesce(sum(cost_usd), 0),
                   coalesce(sum(cost_usd) FILTER (WHERE list_contains(?, claude_session_id)), 0)
            FROM usage_messages WHERE ts >= ? AND ts < ?
            """,
            [background, opened, resets_at],
        ).fetchone() or (0.0, 0.0)
        share = float(bg) / float(total) if total else 0.0
        out.append(WindowUse(opened, resets_at, pct, pct * (1 - share), pct * share))
    return out


def schedule_rules(ctx: Context, uses: list[WindowUse]) -> list[tuple[str, str, str, float]]:
    """(days, from, to, five_hour_pct) rules from the person's own use by weekday/hour."""
    blocks: dict[tuple[str, int], list[float]] = defaultdict(list)
    for use in uses:
        local = ctx.local(use.opened)
        days = "sat,sun" if local.weekday() >= 5 else "mon-fri"
        blocks[(days, local.hour // BLOCK_HOURS)].append(use.person_pct)
    rules = []
    for days in ("mon-fri", "sat,sun"):
        merged: list[tuple[int, int, float]] = []
        for block in range(24 // BLOCK_HOURS):
            values = blocks.get((days, block))
            pct = quantile(values, SCHEDULE_Q) + SCHEDULE_MARGIN if values else SCHEDULE_MARGIN
            pct = min(80.0, max(5.0, 5.0 * round(pct / 5.0)))
            if merged and merged[-1][2] == pct:
                merged[-1] = (merged[-1][0], block + 1, pct)
            else:
                merged.append((block, block + 1, pct))
        for a, b, pct in merged:
            end = "23:59" if b * BLOCK_HOURS == 24 else f"{b * BLOCK_HOURS:02d}:00"
            rules.append((days, f"{a * BLOCK_HOURS:02d}:00", end, pct))
    return rules


def schedule_toml(rules: list[tuple[str, str, str, float]]) -> str:
    return "\n".join(
        f'[[fill.reserve]]\ndays = "{d}"\nfrom = "{a}"\nto = "{b}"\nfive_hour_pct = {p:g}'
        for d, a, b, p in rules
    )


def reserve_findings(ctx: Context, reserve_at: ReserveAt) -> list[Finding]:
    uses = window_uses(ctx)
    out: list[Finding] = []
    limited = ctx.conn.execute(
        """
        SELECT a.opened_at, coalesce(s.name, a.session_id) FROM attention_items a
        LEFT JOIN sessions s ON s.id = a.session_id
        WHERE a.kind = 'limited' AND a.opened_at >= ? ORDER BY a.opened_at
        """,
        [ctx.start],
    ).fetchall()
    blocked = []
    for at, name in limited:
        use = next((u for u in uses if u.opened <= at < u.resets_at), None)
        if use is not None and use.background_pct >= BLOCKED_BG_PCT:
            blocked.append((at, name, use))
    rules = schedule_rules(ctx, uses) if len(uses) >= RESERVE_MIN_WINDOWS else []
    if blocked:
        bg = sum(u.background_pct for _a, _n, u in blocked)
        out.append(
            Finding(
                kind="person_blocked",
                area="fill",
                title=f"You hit the limit {len(blocked)} time{'s' if len(blocked) != 1 else ''} "
                "in windows fill had spent in",
                detail=(
                    "Background runs had used "
                    + "; ".join(
                        f"{u.background_pct:.0f}% of the window before {n} was limited at "
                        f"{ctx.clock(a)} (reserve {reserve_at(u.opened):.0f}%)"
                        for a, n, u in blocked[:4]
                    )
                    + "."
                ),
                amount=Amount(pct=round(bg, 1), window=FIVE_HOUR, count=len(blocked)),
                where=Where(
                    sessions=sorted({n for _a, n, _u in blocked}),
                    hours=[ctx.clock(a) for a, _n, _u in blocked[:6]],
                ),
                suggestion=(
                    "Keep a larger reserve at those hours; a schedule from your own use:\n"
                    + schedule_toml(rules)
                    if rules
                    else "Raise the reserve for those hours (`[[fill.reserve]]`)."
                ),
                confidence=0.85,
                sure="high",
                evidence=[
                    (
                        ctx.clock(a),
                        f"fill {u.background_pct:.0f}%, you {u.person_pct:.0f}%, "
                        f"reserve {reserve_at(u.opened):.0f}%",
                    )
                    for a, _n, u in blocked[:6]
                ],
                weight=bg,
            )
        )
    reserved = [u for u in uses if reserve_at(u.opened) >= 10.0]
    if len(reserved) >= RESERVE_MIN_WINDOWS and not blocked:
        quiet = [u for u in reserved if u.person_pct < RESERVE_USED_SHARE * reserve_at(u.opened)]
        if len(quiet) >= RESERVE_QUIET_SHARE * len(reserved):
            top = quantile([u.person_pct for u in reserved], 0.95)
            mean_reserve = sum(reserve_at(u.opened) for u in reserved) / len(reserved)
            confidence = min(0.9, 0.5 + len(reserved) / 100)
            out.append(
                Finding(
                    kind="reserve_high",
                    area="fill",
                    title=f"The reserve ({mean_reserve:.0f}%) was far above your own use",
                    detail=(
                        f"In {len(quiet)} of {len(reserved)} 5-hour windows with a reserve you "
                        f"used less than half of it; your 95th percentile was {top:.0f}% of a "
                        "window. The rest stayed unused by fill."
                    ),
                    amount=Amount(
                        pct=round(mean_reserve - top, 1), window=FIVE_HOUR, count=len(reserved)
                    ),
                    where=Where(hours=sorted({f"{d} {a}–{b}" for d, a, b, _p in rules})[:6]),
                    suggestion=(
                        "Lower the reserve; a schedule from your own use:\n" + schedule_toml(rules)
                        if rules
                        else "Lower `[fill] reserve_pct` or the `[[fill.reserve]]` rules."
                    ),
                    confidence=confidence,
                    sure=sure_of(confidence),
                    evidence=[
                        ("windows with a reserve", str(len(reserved))),
                        ("you used < half of it", str(len(quiet))),
                        ("your 95th percentile", f"{top:.0f}%"),
                        ("mean reserve", f"{mean_reserve:.0f}%"),
                    ],
                    weight=(mean_reserve - top) / 10,
                )
            )
    return out


def failing_findings(ctx: Context) -> list[Finding]:
    rows = ctx.conn.execute(
        """
        SELECT left(t.prompt, 200) AS head, list(DISTINCT t.id ORDER BY t.id), count(*),
               arg_max(coalesce(r.result, t.last_result, ''), r.started_at),
               sum(coalesce(r.total_cost_usd, 0))
        FROM queue_runs r JOIN queue_tasks t ON t.id = r.task_id
        WHERE r.started_at >= ? AND r.state = 'failed'
        GROUP BY head HAVING count(*) >= ? ORDER BY count(*) DESC
        """,
        [ctx.start, FAILING_MIN],
    ).fetchall()
    return [
        Finding(
            kind="failing_task",
            area="fill",
            title=f"A task failed {n} times: “{head[:60]}”",
            detail=f"Tasks {', '.join(f'#{t}' for t in ids[:8])}; the last failure: {last[:200]}",
            amount=Amount(count=int(n), usd=round(float(usd), 2)),
            where=Where(tasks=[int(t) for t in ids[:20]]),
            suggestion=(
                "Fix the cause before it runs again (`podium queue show ID` has each run's "
                "outcome), or cancel the recurring task."
            ),
            confidence=0.9,
            sure="high",
            evidence=[("runs failed", str(n)), ("last failure", last[:200])],
            weight=float(usd) + n,
        )
        for head, ids, n, last, usd in rows
    ]


def findings(ctx: Context, reserve_at: ReserveAt) -> list[Finding]:
    return [*reserve_findings(ctx, reserve_at), *failing_findings(ctx)]
