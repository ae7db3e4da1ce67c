"""The human's own use, forecast from the log: the past only.

One model for the simulator and the live scheduler, so that what `podium
simulate` proves is what `podium fill` does. Use is a per-minute series in
any unit (the simulator's capacity shares, the engine's weighted tokens);
`five_hour` and `seven_day` say how many of those units fill each window.

Next hours: the most the human used over the same span on past days of the
same kind (weekday or weekend), up to a week back; the safe side for a
reserve. Until the weekly reset: the mean use of each remaining hour on past
days of its kind (long horizons average out). Days of the other kind stand in
while a kind has no history yet. Pure: no I/O, no clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sessions.fill.policy import HumanUse

MINUTE = timedelta(minutes=1)
DAY_MINUTES = 1440
# The span "the next few hours" covers: a 5-hour window.
NEXT_SPAN_MINUTES = 300
# "Now" is the human's use over this many past minutes, as a rate per hour.
RECENT_MINUTES = 15


class Forecast:
    """A minute series of the human's use from `start`, and what it says of the future."""

    def __init__(self, start: datetime, tz: tzinfo, five_hour: float, seven_day: float) -> None:
        self.start = start
        self.tz = tz
        self.five_hour = five_hour
        self.seven_day = seven_day
        self.prefix = [0.0]  # cumulative use, by minute
        self._week_cache: tuple[int, float] | None = None
        self._weekends: dict[int, bool] = {}
        self.week_start = 0  # minute the current weekly window began (or the series did)

    @property
    def minutes(self) -> int:
        """Minutes recorded so far: the next `record` is for this minute."""
        return len(self.prefix) - 1

    def record(self, units: float) -> None:
        """The human's use in the next minute of the series."""
        self.prefix.append(self.prefix[-1] + units)

    def _sum(self, a: int, b: int) -> float:
        a, b = max(0, a), min(len(self.prefix) - 1, b)
        return self.prefix[b] - self.prefix[a] if b > a else 0.0

    def _weekend(self, minute: int) -> bool:
        if minute not in self._weekends:
            at = (self.start + minute * MINUTE).astimezone(self.tz)
            self._weekends[minute] = at.weekday() >= 5
        return self._weekends[minute]

    def _past_days(self, minute: int, span: int) -> list[int]:
        """Offsets (in days) of past copies of [minute, minute+span) already over."""
        past = [k for k in range(1, 8) if minute - k * DAY_MINUTES >= 0]
        past = [k for k in past if minute - k * DAY_MINUTES + span <= len(self.prefix) - 1]
        same = [k for k in past if self._weekend(minute - k * DAY_MINUTES) == self._weekend(minute)]
        return same or past

    def human_use(self, m: int, now: datetime, active: int, week_reset: datetime) -> HumanUse:
        """What the policy may know at minute `m` (`now`): the minutes before it only."""
        recent = self._sum(m - RECENT_MINUTES, m) * (60 / RECENT_MINUTES)  # units per hour
        span = NEXT_SPAN_MINUTES
        days = self._past_days(m, span)
        ago = [m - k * DAY_MINUTES for k in days]
        next5 = max((self._sum(a, a + span) for a in ago), default=0.0)
        return HumanUse(
            pct_per_hour_now=100 * recent / self.five_hour,
            forecast_pct_next_hours=100 * next5 / self.five_hour,
            active_sessions=active,
            forecast_week_pct=100 * self._week_rest(m, now, week_reset) / self.seven_day,
            week_used_pct=100 * self._sum(self.week_start, m) / self.seven_day,
        )

    def _week_rest(self, m: int, now: datetime, week_reset: datetime) -> float:
        # Recomputed once an hour: it moves slowly and costs a pass over the week.
        hour = m // 60
        if self._week_cache and self._week_cache[0] == hour:
            return self._week_cache[1]
        left = int((week_reset - now) / MINUTE)
        total = 0.0
        for start in range(m, m + left, 60):
            width = min(60, m + left - start)
            days = self._past_days(start, width)
            if days:
                past = [
                    self._sum(start - k * DAY_MINUTES, start - k * DAY_MINUTES + width)
                    for k in days
                ]
                total += sum(past) / len(past)
        self._week_cache = (hour, total)
        return total
