"""Attention: how long agents waited for the person, overnight waits, alert noise."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

from collectors.review.context import WEEKDAYS, Context
from collectors.review.finding import Amount, Finding, Where, sure_of

# Waiting worth a finding: on average this much a day, or one wait this long.
DAILY_WAIT_MIN = 30.0
LONG_WAIT_MIN = 60.0
# An overnight wait: open across the small hours, at least this long.
NIGHT_FROM, NIGHT_TO = time(0, 0), time(6, 0)
OVERNIGHT_MIN = timedelta(hours=3)
# Alerts in one hour beyond which the person is being interrupted, not helped.
ALERTS_PER_HOUR = 12


def _waits(ctx: Context) -> list[tuple[str, str, datetime, datetime]]:
    """(podium session name, kind, opened, closed or now) of every wait in the period."""
    return [
        (name or sid, kind, opened, closed or ctx.now)
        for sid, name, kind, opened, closed in ctx.conn.execute(
            """
            SELECT a.session_id, s.name, a.kind, a.opened_at, a.closed_at
            FROM attention_items a LEFT JOIN sessions s ON s.id = a.session_id
            WHERE a.kind IN ('waiting', 'permission') AND coalesce(a.closed_at, ?) >= ?
            ORDER BY a.opened_at
            """,
            [ctx.now, ctx.start],
        ).fetchall()
    ]


def heatmap(ctx: Context) -> list[list[float]]:
    """Minutes of waiting by local weekday (rows, Mon first) and hour (columns)."""
    grid = [[0.0] * 24 for _ in range(7)]
    for _name, _kind, opened, closed in _waits(ctx):
        at = max(opened, ctx.start)
        while at < closed:
            local = ctx.local(at)
            next_hour = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            step_end = min(closed, next_hour.astimezone(at.tzinfo))
            grid[local.weekday()][local.hour] += (step_end - at).total_seconds() / 60
            at = step_end
    return grid


def _overnight(ctx: Context, opened: datetime, closed: datetime) -> bool:
    if closed - opened < OVERNIGHT_MIN:
        return False
    day = ctx.local(opened).date()
    for offset in (0, 1):
        night_start = datetime.combine(day + timedelta(days=offset), NIGHT_FROM, ctx.tz)
        night_end = datetime.combine(day + timedelta(days=offset), NIGHT_TO, ctx.tz)
        if opened < night_end and closed > night_start:
            return True
    return False


def wait_findings(ctx: Context) -> list[Finding]:
    waits = _waits(ctx)
    if not waits:
        return []
    per_day: Counter[str] = Counter()
    for _name, _kind, opened, closed in waits:
        per_day[ctx.local(opened).strftime("%Y-%m-%d")] += (
            closed - max(opened, ctx.start)
        ).total_seconds() / 60
    days = max(1.0, (ctx.now - ctx.start).total_seconds() / 86400)
    total = sum(per_day.values())
    mean = total / days
    longest = sorted(waits, key=lambda w: w[3] - w[2], reverse=True)[:3]
    longest_min = (longest[0][3] - longest[0][2]).total_seconds() / 60
    out: list[Finding] = []
    if mean >= DAILY_WAIT_MIN or longest_min >= LONG_WAIT_MIN:
        confidence = 0.85
        out.append(
            Finding(
                kind="waiting",
                area="attention",
                title=f"Agents waited for you {mean:.0f} min a day",
                detail=(
                    f"{total:.0f} minutes over {len(waits)} waits in {days:.0f} days; the longest: "
                    + "; ".join(
                        f"{name} {(b - a).total_seconds() / 60:.0f} min from {ctx.clock(a)}"
                        for name, _k, a, b in longest
                    )
                    + "."
                ),
                amount=Amount(minutes=round(total, 1), count=len(waits)),
                where=Where(
                    sessions=sorted({w[0] for w in longest}),
                    hours=[ctx.span(a, b) for _n, _k, a, b in longest],
                ),
                suggestion=(
                    "Let podium's cue take you to the session that waited longest (the tower's "
                    "`n`); allow routine tools in the project's settings so permission waits "
                    "stop; give long sessions a next step before you leave them."
                ),
                confidence=confidence,
                sure=sure_of(confidence),
                evidence=[(day, f"{minutes:.0f} min") for day, minutes in sorted(per_day.items())],
                weight=total / 60,
            )
        )
    nights = [w for w in waits if _overnight(ctx, w[2], w[3])]
    if nights:
        hours = sum((b - a).total_seconds() for _n, _k, a, b in nights) / 3600
        out.append(
            Finding(
                kind="overnight_wait",
                area="attention",
                title=f"{len(nights)} session{'s' if len(nights) != 1 else ''} waited overnight",
                detail=(
                    f"{hours:.0f} hours in all of sessions standing idle through the night, "
                    "waiting for an answer: "
                    + "; ".join(f"{n} ({k}) {ctx.span(a, b)}" for n, k, a, b in nights[:4])
                    + "."
                ),
                amount=Amount(minutes=round(hours * 60, 1), count=len(nights)),
                where=Where(
                    sessions=sorted({n for n, *_ in nights}),
                    hours=[ctx.span(a, b) for _n, _k, a, b in nights[:4]],
                ),
                suggestion=(
                    "Before leaving, queue the next step as a background task, or add an "
                    "`--on idle:NAME:30` trigger so the night is used; answer permission "
                    "questions in advance with an allow rule."
                ),
                confidence=0.9,
                sure="high",
                evidence=[(n, ctx.span(a, b)) for n, _k, a, b in nights[:6]],
                weight=hours,
            )
        )
    return out


def alert_findings(ctx: Context) -> list[Finding]:
    rows = ctx.conn.execute(
        """
        SELECT date_trunc('hour', sent_at) AS hour, count(*) FROM alerts
        WHERE sent_at >= ? AND kind <> 'spared' GROUP BY hour ORDER BY count(*) DESC
        """,
        [ctx.start],
    ).fetchall()
    noisy = [(hour, n) for hour, n in rows if n >= ALERTS_PER_HOUR]
    if not noisy:
        return []
    worst_hour, worst = noisy[0]
    slots = Counter(
        f"{WEEKDAYS[ctx.local(h).weekday()]} {ctx.local(h).hour:02d}:00" for h, _ in noisy
    )
    return [
        Finding(
            kind="alert_noise",
            area="attention",
            title=f"{len(noisy)} hours with {ALERTS_PER_HOUR}+ alerts (up to {worst} an hour)",
            detail=(
                f"The busiest hour was {ctx.clock(worst_hour)} with {worst} alerts. So many "
                "interruptions cost more attention than the waits they save."
            ),
            amount=Amount(count=sum(n for _h, n in noisy)),
            where=Where(hours=[slot for slot, _ in slots.most_common(5)]),
            suggestion=(
                "Lower `[cues] alerts_per_minute`, raise `[cues] session_quiet_s` or "
                "`coalesce_s` so bursts become one alert, or set `[cues] bell = false`."
            ),
            confidence=0.8,
            sure="high",
            evidence=[(ctx.clock(h), f"{n} alerts") for h, n in noisy[:6]],
            weight=float(len(noisy)),
        )
    ]


def findings(ctx: Context) -> list[Finding]:
    return [*wait_findings(ctx), *alert_findings(ctx)]
