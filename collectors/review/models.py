"""Model mix: the dearest model spent on small turns, and model-scoped weeks run out.

"Small" is read from the response itself: few output tokens and little new input
(most of its input was cache). Such a turn is often an acknowledgement, a one-line
edit or a status check, which a cheaper model does as well; a turn's size says
little of its difficulty, so the finding is never more than medium sure.
"""

from __future__ import annotations

from collectors.review.context import Context
from collectors.review.finding import Amount, Finding, Where, sure_of
from collectors.windows import SEVEN_DAY

SMALL_OUTPUT = 300
SMALL_NEW_INPUT = 2_000
# Worth a finding: this much spent on small turns of the dear model, and this share of it.
SMALL_MIN_USD = 2.0
SMALL_MIN_SHARE = 0.25
# Sonnet's list price against Opus 4.5's (3/15 against 5/25 dollars per million).
SONNET_RATIO = 0.6
SCOPED_FULL_PCT = 95.0
SCOPED_GAP_PCT = 20.0


def small_turn_findings(ctx: Context) -> list[Finding]:
    row = ctx.conn.execute(
        """
        SELECT count(*) FILTER (WHERE small), coalesce(sum(cost_usd) FILTER (WHERE small), 0),
               coalesce(sum(cost_usd), 0), count(*),
               list(DISTINCT project) FILTER (WHERE small)
        FROM (
            SELECT cost_usd, project,
                   output_tokens < ? AND input_tokens + cache_creation_tokens < ? AS small
            FROM usage_messages
            WHERE ts >= ? AND model ILIKE '%opus%' AND cost_usd IS NOT NULL
        )
        """,
        [SMALL_OUTPUT, SMALL_NEW_INPUT, ctx.start],
    ).fetchone()
    if row is None:
        return []
    small_n, small_usd, opus_usd, opus_n, projects = row
    if not opus_usd or small_usd < SMALL_MIN_USD or small_usd < SMALL_MIN_SHARE * opus_usd:
        return []
    saving = float(small_usd) * (1 - SONNET_RATIO)
    confidence = 0.5
    return [
        Finding(
            kind="model_mix",
            area="models",
            title=f"{small_n:,} small Opus turns cost ${float(small_usd):,.2f}",
            detail=(
                f"{small_n:,} of {opus_n:,} Opus responses wrote under {SMALL_OUTPUT} tokens with "
                f"under {SMALL_NEW_INPUT:,} new input tokens: "
                f"{float(small_usd) / float(opus_usd):.0%} of the Opus spend. On Sonnet they "
                f"would have cost about ${saving:,.2f} less at list price."
            ),
            amount=Amount(usd=round(saving, 2), count=int(small_n)),
            where=Where(projects=sorted(p for p in (projects or []) if p)[:6]),
            suggestion=(
                "Use `opusplan` (Opus plans, Sonnet works) or `/model sonnet` for routine "
                "sessions, and `--model sonnet` for background tasks that do not need Opus."
            ),
            confidence=confidence,
            sure=sure_of(confidence),
            evidence=[
                ("small Opus turns", f"{small_n:,} of {opus_n:,}"),
                ("their cost", f"${float(small_usd):,.2f}"),
                ("all Opus", f"${float(opus_usd):,.2f}"),
            ],
            weight=saving,
        )
    ]


def scoped_week_findings(ctx: Context) -> list[Finding]:
    """A model's own week ran full while the week of all models had room."""
    rows = ctx.conn.execute(
        """
        SELECT s."window", s.minute, s.used_pct, w.used_pct
        FROM limit_series s JOIN limit_series w
          ON w.minute = s.minute AND w."window" = ?
        WHERE starts_with(s."window", ?) AND s.minute >= ? AND s.used_pct >= ?
          AND w.used_pct <= s.used_pct - ?
        ORDER BY s.minute
        """,
        [SEVEN_DAY, SEVEN_DAY + "_", ctx.start, SCOPED_FULL_PCT, SCOPED_GAP_PCT],
    ).fetchall()
    firsts: dict[str, tuple] = {}
    for window, minute, scoped, week in rows:
        firsts.setdefault(window, (minute, scoped, week))
    return [
        Finding(
            kind="scoped_week_full",
            area="models",
            title=f"{window.removeprefix('seven_day_').capitalize()}'s weekly limit ran out first",
            detail=(
                f"At {ctx.clock(minute)} {window} stood at {scoped:.0f}% while the week of all "
                f"models was at {week:.0f}%: the rest of the week could only go to other models."
            ),
            amount=Amount(pct=round(scoped - week, 1), window=SEVEN_DAY),
            where=Where(hours=[ctx.clock(minute)]),
            suggestion=(
                "Move routine work to another model before the scoped week runs out: "
                "`--model-fallback` on background tasks, `opusplan` for sessions."
            ),
            confidence=0.85,
            sure="high",
            evidence=[(window, f"{scoped:.0f}%"), (SEVEN_DAY, f"{week:.0f}%")],
            weight=scoped - week,
        )
        for window, (minute, scoped, week) in firsts.items()
    ]


def findings(ctx: Context) -> list[Finding]:
    return [*small_turn_findings(ctx), *scoped_week_findings(ctx)]
