from datetime import UTC, datetime

import pytest

from collectors.limit_text import limit_window, parse_reset

SEEN = datetime(2026, 11, 28, 17, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("You've hit your 5-hour limit · resets 6pm (UTC)", datetime(2026, 11, 28, 18, 0)),
        ("You've hit your session limit · resets 9:50am (UTC)", datetime(2026, 11, 29, 9, 50)),
        # Asia/Saigon is UTC+7: 9:50pm there is 14:50 UTC, already past at 17:30 → tomorrow.
        (
            "You've hit your session limit · resets 9:50pm (Asia/Saigon)",
            datetime(2026, 11, 29, 14, 50),
        ),
        (
            "You've hit your weekly limit · resets Dec 2, 6pm (Europe/Paris)",
            datetime(2026, 12, 2, 17, 0),
        ),
        ("You've hit your weekly limit · resets Jan 3, 8am (UTC)", datetime(2027, 1, 3, 8, 0)),
        ("Claude AI usage limit reached|1785985200", datetime(2026, 8, 6, 3, 0)),
        ("resets 12am (UTC)", datetime(2026, 11, 29, 0, 0)),
        ("resets 12pm (UTC)", datetime(2026, 11, 29, 12, 0)),
        # Shown to the minute, cut short: 17:30:xx seen at 17:30 resets by 17:31, not tomorrow.
        ("You've hit your 5-hour limit · resets 5:30pm (UTC)", datetime(2026, 11, 28, 17, 31)),
    ],
)
def test_reset_times(text: str, expected: datetime) -> None:
    assert parse_reset(text, SEEN) == expected.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "API Error: Request rejected (429) · rate limited",
        "resets 13pm (UTC)",
        "resets 6pm (Not/AZone)",
        "",
    ],
)
def test_no_reset_time(text: str) -> None:
    assert parse_reset(text, SEEN) is None


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("You've hit your 5-hour limit · resets 7pm (UTC)", "five_hour"),
        ("You've hit your session limit · resets 9:50pm (Asia/Saigon)", "five_hour"),
        ("5-hour limit reached ∙ resets 3pm", "five_hour"),
        ("Claude AI usage limit reached|1785985200", "five_hour"),
        ("You've hit your weekly limit · resets 7pm (UTC)", "seven_day"),
        ("You've hit your Opus limit · resets 7pm (UTC)", "seven_day_opus"),
        ("You've hit your Sonnet limit · resets 7pm (UTC)", "seven_day_sonnet"),
        ("You've hit your limit · resets 7pm (UTC)", None),  # overage
        ("API Error: Request rejected (429) · rate limited", None),
    ],
)
def test_limit_window(text: str, window: str | None) -> None:
    assert limit_window(text) == window
