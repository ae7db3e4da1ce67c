"""The human's own use, forecast from the log: the past only.

One model for the simulator and the live scheduler, so that what `podium
simulate` proves is what `podium fill` does. Use is a per-minute series in
any unit (the simulator's capacity shares, the engine's weighted tokens);
`five_hour` and `seven_day` say how many of those units fill each window. The
series reaches back before podium ran: Claude Code keeps about 30 days of
transcripts and the usage log ingests them on the first start, so the
forecast knows the person from the first day. `history_from` is the minute
the log begins (before it nothing is known, which is not the same as nothing
used).

- Next hours (the 5-hour reserve): the most the person used over the same
  span on past days of the same kind (weekday or weekend) in the last week,
  and on the same weekday in earlier weeks; the safe side for a reserve.
- Until the weekly reset: what they used over the same part of the week in
  past weeks, weighted to recent weeks (a week counts half as much as the
  one after it). With fewer than `SURE_WEEKS` such weeks the forecast is
  cautious: the most they used over that part of any week, or (under a week
  of history) their busiest day so far for every day left, plus
  `CAUTION`.
- Use that shows in the official figures and not in the local log (another
  machine, claude.ai) counts as the person's (`OfficialGap`).

Pure: no I/O, no clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sessions.fill.policy import HumanUse

MINUTE = timedelta(minutes=1)
DAY_MINUTES = 1440
WEEK_MINUTES = 7 * DAY_MINUTES
# The span "the next few hours" covers: a 5-hour window.
NEXT_SPAN_MINUTES = 300
# "Now" is the human's use over this many past minutes, as a rate per hour.
RECENT_MINUTES = 15
# Past weeks read for the weekly forecast (transcripts reach back about 30 days).
WEEKS_BACK = 4
# Full past weeks needed before the forecast trusts a weighted mean over a max.
SURE_WEEKS = 2
# What a cautious forecast adds on top of the most the person ever used.
CAUTION = 0.25


class OfficialGap:
    """Use the official figures show beyond the local log's, counted as the person's.

    Plan usage is shared with claude.ai and other machines; only the official
    figures see that. Fed, in order, a window's official use so far and the
    local log's use of the same window (both in the forecast's unit), it says
    how much new unexplained use appeared. Only the running maximum of the gap
    counts: rounding of the official figure makes it jitter both ways, and a
    jitter must not be read as use. A window's first figure sets the baseline:
    when its gap was used is unknown.
    """

    def __init__(self) -> None:
        self._window: object = None
        self._high = 0.0

    def unexplained(self, window: object, official: float, local: float) -> float:
        gap = official - local
        if window != self._window:
            # The first figure of a window: what it shows beyond the local log was
            # used at some time before, not in this hour. It is the baseline.
            self._window, self._high = window, gap
            return 0.0
        extra = max(0.0, gap - self._high)
        self._high = max(self._high, gap)
        return extra


class Forecast:
    """A minute series of the human's use from `start`, and what it says of the future."""

    def __init__(
        self,
        start: datetime,
        tz: tzinfo,
        five_hour: float,
        seven_day: float,
        history_from: int = 0,
    ) -> None:
        self.start = start
        self.tz = tz
        self.five_hour = five_hour
        self.seven_day = seven_day
        self.history_from = history_from  # the first minute the log knows
        self.prefix = [0.0]  # cumulative use, by minute
        self._week_cache: tuple[int, float] | None = None
        self._hours_cache: tuple[tuple[int, datetime], tuple[float, ...]] | None = None
        self._weekends: dict[int, bool] = {}
        self.week_start = 0  # minute the current weekly window began (or the series did)

    @property
    def minutes(self) -> int:
        """Minutes recorded so far: the next `record` is for this minute."""
        return len(self.prefix) - 1

    def record(self, units: float) -> None:
        """The human's use in the next minute of the series."""
        self.prefix.append(self.prefix[-1] + units)

    def add_recent(self, units: float, minutes: int = 60) -> None:
        """Spread `units` over the last `minutes` recorded (use the official figures
        revealed after the fact: `OfficialGap`)."""
        n = min(minutes, self.minutes)
        if n <= 0 or units <= 0:
            return
        for i in range(n):
            self.prefix[len(self.prefix) - n + i] += units * (i + 1) / n
        self._week_cache = self._hours_cache = None

    def _sum(self, a: int, b: int) -> float:
        a, b = max(0, a), min(len(self.prefix) - 1, b)
        return self.prefix[b] - self.prefix[a] if b > a else 0.0

    def _known(self, a: int, b: int) -> bool:
        """Whether the log covers [a, b) entirely (and it is over)."""
        return a >= self.history_from and b <= self.minutes

    def _weekend(self, minute: int) -> bool:
        if minute not in self._weekends:
            at = (self.start + minute * MINUTE).astimezone(self.tz)
            self._weekends[minute] = at.weekday() >= 5
        return self._weekends[minute]

    def _past_days(self, minute: int, span: int) -> list[int]:
        """Offsets (in days) of past copies of [minute, minute+span) the log covers:
        days of the same kind in the last week (any day while none is), and the same
        weekday in earlier weeks."""
        recent = [
            k
            for k in range(1, 8)
            if self._known(minute - k * DAY_MINUTES, minute - k * DAY_MINUTES + span)
        ]
        same = [
            k for k in recent if self._weekend(minute - k * DAY_MINUTES) == self._weekend(minute)
        ]
        weeks = [
            7 * w
            for w in range(2, WEEKS_BACK + 1)
            if self._known(minute - 7 * w * DAY_MINUTES, minute - 7 * w * DAY_MINUTES + span)
        ]
        return (same or recent) + weeks

    def human_use(self, m: int, now: datetime, active: int, week_reset: datetime) -> HumanUse:
        """What the policy may know at minute `m` (`now`): the minutes before it only."""
        recent = self._sum(m - RECENT_MINUTES, m) * (60 / RECENT_MINUTES)  # units per hour
        span = NEXT_SPAN_MINUTES
        ago = [m - k * DAY_MINUTES for k in self._past_days(m, span)]
        next5 = max((self._sum(a, a + span) for a in ago), default=0.0)
        return HumanUse(
            pct_per_hour_now=100 * recent / self.five_hour,
            forecast_pct_next_hours=100 * next5 / self.five_hour,
            active_sessions=active,
            forecast_week_pct=100 * self.week_rest(m, now, week_reset) / self.seven_day,
            week_used_pct=100 * self._sum(self.week_start, m) / self.seven_day,
            hours_ahead=self.hours_ahead(m, now, week_reset),
        )

    def hours_ahead(self, m: int, now: datetime, week_reset: datetime) -> tuple[float, ...]:
        """The most the person used in each coming hour until the weekly reset, in % of
        the 5-hour window: that hour of past weeks, else of past days of its kind (the
        safe side: what is left of each window for fill). Recomputed once an hour."""
        hour = m // 60
        if self._hours_cache and self._hours_cache[0] == (hour, week_reset):
            return self._hours_cache[1]
        left = max(0, int((week_reset - now) / MINUTE))
        out = []
        for start in range(m, m + left, 60):
            past = [
                self._sum(start - w * WEEK_MINUTES, start - w * WEEK_MINUTES + 60)
                for w in range(1, WEEKS_BACK + 1)
                if self._known(start - w * WEEK_MINUTES, start - w * WEEK_MINUTES + 60)
            ] or [
                self._sum(start - k * DAY_MINUTES, start - k * DAY_MINUTES + 60)
                for k in self._past_days(start, 60)
            ]
            out.append(100 * max(past, default=0.0) / self.five_hour)
        found = tuple(out)
        self._hours_cache = ((hour, week_reset), found)
        return found

    def week_rest(self, m: int, now: datetime, week_reset: datetime) -> float:
        """The person's expected use from minute `m` to the weekly reset (units).

        Recomputed once an hour: it moves slowly."""
        hour = m // 60
        if self._week_cache and self._week_cache[0] == hour:
            return self._week_cache[1]
        left = max(0, int((week_reset - now) / MINUTE))
        past = [
            self._sum(m - w * WEEK_MINUTES, m - w * WEEK_MINUTES + left)
            for w in range(1, WEEKS_BACK + 1)
            if self._known(m - w * WEEK_MINUTES, m - w * WEEK_MINUTES + left)
        ]
        if len(past) >= SURE_WEEKS:
            weights = [0.5**i for i in range(len(past))]
            total = sum(p * w for p, w in zip(past, weights, strict=True)) / sum(weights)
        elif past:
            total = max(past) * (1 + CAUTION)
        else:
            total = self._busiest_day() * (left / DAY_MINUTES) * (1 + CAUTION)
        self._week_cache = (hour, total)
        return total

    def _busiest_day(self) -> float:
        """The most used in any 24 hours the log covers (the whole log, scaled to a
        day, while it covers less)."""
        first, last = max(0, self.history_from), self.minutes
        covered = last - first
        if covered <= 0:
            return 0.0
        if covered < DAY_MINUTES:
            # Less than a day known: what was used so far stands for a whole day.
            return self._sum(first, last) * DAY_MINUTES / max(covered, 6 * 60)
        return max(self._sum(a, a + DAY_MINUTES) for a in range(first, last - DAY_MINUTES + 1, 60))
