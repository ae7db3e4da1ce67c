"""Waste: windows that reset with capacity unused, when, and what fill could have taken.

A week that reset with share left is capacity the subscription gave and nobody used.
Where it went unused is read from the log's quiet stretches inside that week (hours
with no response at all), shown in the review's zone; the 5-hour windows that reset
mostly unused are grouped by weekday and hour to show a habit rather than one day.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime, timedelta

from collectors.reports import waste_report
from collectors.review.context import WEEKDAYS, Context
from collectors.review.finding import Amount, Finding, Where, sure_of
from collectors.windows import FIVE_HOUR, SEVEN_DAY, window_length

# A week that resets with at least this share unused is worth a finding.
WEEK_UNUSED_MIN_PCT = 10.0
# A quiet stretch this long inside a wasted week is named as where it went.
QUIET_MIN = timedelta(hours=8)
# 5-hour windows: one that resets at least half unused counts as wasted; a habit
# needs this many of them in the period.
FIVE_HOUR_UNUSED_PCT = 50.0
FIVE_HOUR_HABIT_MIN = 5


def quiet_stretches(
    ctx: Context, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Stretches of at least `QUIET_MIN` in [start, end) with no response logged."""
    rows = ctx.conn.execute(
        """
        SELECT ts FROM usage_messages WHERE ts >= ? AND ts < ? ORDER BY ts
        """,
        [start, end],
    ).fetchall()
    marks = [start, *(ts for (ts,) in rows), end]
    return [(a, b) for a, b in itertools.pairwise(marks) if b - a >= QUIET_MIN]


def watched_from(ctx: Context) -> datetime | None:
    """The first minute of the log's per-minute series: when podium began to watch."""
    row = ctx.conn.execute("SELECT min(minute) FROM limit_series").fetchone()
    return row[0] if row else None


def _hours_text(ctx: Context, stretch: tuple[datetime, datetime]) -> str:
    a, b = stretch
    hours = (b - a).total_seconds() / 3600
    return f"{ctx.span(a, b)} ({hours:.0f} h quiet)"


def week_findings(ctx: Context) -> list[Finding]:
    report = waste_report(ctx.conn, SEVEN_DAY, ctx.start, now=ctx.now)
    out: list[Finding] = []
    for row in report["windows"]:
        unused = row["unused_at_reset_pct"] or 0.0
        if unused < WEEK_UNUSED_MIN_PCT:
            continue
        resets_at = datetime.fromisoformat(row["resets_at"])
        # Quiet before podium watched is not known to be quiet: from its first minute.
        opened = max(resets_at - window_length(SEVEN_DAY), watched_from(ctx) or resets_at)
        quiet = sorted(
            quiet_stretches(ctx, opened, resets_at), key=lambda s: s[1] - s[0], reverse=True
        )
        quiet_hours = sum((b - a).total_seconds() for a, b in quiet) / 3600
        usd = ctx.usd_of(SEVEN_DAY, unused)
        coverage = row["coverage"] or 0.0
        confidence = 0.9 if coverage >= 0.9 else 0.6 if coverage >= 0.6 else 0.35
        weekdays = Counter(WEEKDAYS[ctx.local(a).weekday()] for a, _ in quiet)
        where_text = ", ".join(f"{d} ×{n}" for d, n in weekdays.most_common(3))
        out.append(
            Finding(
                kind="unused_week",
                area="waste",
                title=f"The week that reset {ctx.clock(resets_at)} left {unused:.0f}% unused",
                detail=(
                    f"{unused:.1f}% of the weekly limit was never used"
                    + (
                        f"; the log is quiet for {quiet_hours:.0f} h of that week"
                        + (f", mostly starting {where_text}" if where_text else "")
                        if quiet
                        else ""
                    )
                    + ". Background work queued for those hours would have taken it"
                    + (f" (about ${usd:,.2f} at list price)." if usd is not None else ".")
                ),
                amount=Amount(pct=round(unused, 1), window=SEVEN_DAY, usd=_round(usd)),
                where=Where(hours=[_hours_text(ctx, s) for s in quiet[:3]]),
                suggestion=(
                    "Queue long work for the quiet hours (`podium queue add --window night`, "
                    "or a schedule) and keep fill on; fill spends what the week has left "
                    "before it resets."
                ),
                confidence=confidence,
                sure=sure_of(confidence),
                evidence=[
                    ("unused at reset", f"{unused:.1f}%"),
                    ("minutes covered by the log", f"{row['covered_minutes']}"),
                    ("coverage", f"{coverage:.0%}"),
                    *((f"quiet {i + 1}", _hours_text(ctx, s)) for i, s in enumerate(quiet[:3])),
                ],
                weight=usd if usd is not None else unused,
            )
        )
    return out


def five_hour_findings(ctx: Context) -> list[Finding]:
    report = waste_report(ctx.conn, FIVE_HOUR, ctx.start, now=ctx.now)
    wasted = [
        row
        for row in report["windows"]
        if (row["unused_at_reset_pct"] or 0) >= FIVE_HOUR_UNUSED_PCT
    ]
    ended = len(report["windows"])
    if len(wasted) < FIVE_HOUR_HABIT_MIN or not ended:
        return []
    slots: Counter[str] = Counter()
    for row in wasted:
        opened = ctx.local(datetime.fromisoformat(row["resets_at"]) - window_length(FIVE_HOUR))
        slots[f"{WEEKDAYS[opened.weekday()]} {opened.hour:02d}:00"] += 1
    unused = sum(row["unused_at_reset_pct"] or 0.0 for row in wasted)
    usd = ctx.usd_of(FIVE_HOUR, unused)
    share = len(wasted) / ended
    confidence = min(0.9, 0.4 + share)
    return [
        Finding(
            kind="unused_five_hour",
            area="waste",
            title=f"{len(wasted)} of {ended} 5-hour windows reset at least half unused",
            detail=(
                f"Together {unused / 100:.1f} windows' worth went unused at their resets"
                + (f" (about ${usd:,.2f} at list price)" if usd is not None else "")
                + ". They opened most often at "
                + ", ".join(f"{slot} (×{n})" for slot, n in slots.most_common(3))
                + "."
            ),
            # The mean share each of them left, and how many: "71% of five_hour ×11".
            amount=Amount(
                pct=round(unused / len(wasted), 1),
                window=FIVE_HOUR,
                usd=_round(usd),
                count=len(wasted),
            ),
            where=Where(hours=[slot for slot, _ in slots.most_common(5)]),
            suggestion=(
                "A window opened by one short question runs five hours: queue a task with "
                "`--on turn-end:NAME` or keep a backlog in the queue so fill uses the rest."
            ),
            confidence=confidence,
            sure=sure_of(confidence),
            evidence=[
                ("windows ended", str(ended)),
                ("reset ≥ half unused", str(len(wasted))),
                *((f"opened {slot}", f"×{n}") for slot, n in slots.most_common(5)),
            ],
            weight=usd if usd is not None else unused / 10,
        )
    ]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def findings(ctx: Context) -> list[Finding]:
    return [*week_findings(ctx), *five_hour_findings(ctx)]
