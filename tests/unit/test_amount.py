"""Amounts a person gives a task (`sessions.fill.amount`): every form reads and writes
back the same; garbage, zero, negatives, nan, inf and absurd sizes are one-line errors."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from collectors.windows import FIVE_HOUR, SEVEN_DAY, SEVEN_DAY_OPUS, SEVEN_DAY_SONNET
from sessions.fill.amount import Amount, parse_amount, parse_duration

CAPACITY = {FIVE_HOUR: 1_000_000.0, SEVEN_DAY: 8_000_000.0, SEVEN_DAY_SONNET: 6_000_000.0}


@pytest.mark.parametrize(
    ("text", "amount", "canonical"),
    [
        ("5%5h", Amount("pct", 5.0, FIVE_HOUR), "5%5h"),
        ("30%week", Amount("pct", 30.0, SEVEN_DAY), "30%week"),
        ("10%sonnet-week", Amount("pct", 10.0, SEVEN_DAY_SONNET), "10%sonnet-week"),
        ("10%opus-week", Amount("pct", 10.0, SEVEN_DAY_OPUS), "10%opus-week"),
        (" 2.5 % WEEK ", Amount("pct", 2.5, SEVEN_DAY), "2.5%week"),
        ("1%five_hour", Amount("pct", 1.0, FIVE_HOUR), "1%5h"),
        ("100%seven_day", Amount("pct", 100.0, SEVEN_DAY), "100%week"),
        ("200k", Amount("tokens", 200_000.0), "200k"),
        ("1.5M", Amount("tokens", 1_500_000.0), "1.5M"),
        ("20000", Amount("tokens", 20_000.0), "20k"),
        ("20001", Amount("tokens", 20_001.0), "20001"),
        ("20000 tokens", Amount("tokens", 20_000.0), "20k"),
        ("2k tokens", Amount("tokens", 2_000.0), "2k"),
        ("1 token", Amount("tokens", 1.0), "1"),
        ("$2", Amount("usd", 2.0), "$2"),
        ("$1.50", Amount("usd", 1.5), "$1.5"),
        ("2usd", Amount("usd", 2.0), "$2"),
        ("0.25 USD", Amount("usd", 0.25), "$0.25"),
    ],
)
def test_each_form_reads_and_writes_back(text: str, amount: Amount, canonical: str) -> None:
    assert parse_amount(text) == amount
    assert str(amount) == canonical
    assert parse_amount(canonical) == amount  # the canonical text reads back the same


def test_units_are_weighted_tokens() -> None:
    assert parse_amount("5%5h").units(CAPACITY.__getitem__) == 50_000
    assert parse_amount("10%sonnet-week").units(CAPACITY.__getitem__) == 600_000
    assert parse_amount("200k").units(CAPACITY.__getitem__) == 200_000
    assert parse_amount("$2").units(CAPACITY.__getitem__) is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", ""),
        ("   ", ""),
        ("five", ""),
        ("0", "at least 1"),
        ("0k", "at least 1"),
        ("-5", ""),
        ("-5%5h", ""),
        ("$-2", ""),
        ("$0", "more than $0"),
        ("0%5h", "more than 0%"),
        ("101%week", "at most 100%"),
        ("5%", "say which window"),
        ("5%month", "no window 'month'"),
        ("nan", ""),
        ("inf", ""),
        ("$inf", ""),
        ("1e9", ""),
        ("1" * 40, "at most"),
        ("9" * 70, ""),
        ("2.5", "whole number"),
        ("$2000000", "at most"),
        ("5%5h; rm -rf /", ""),
        ("5%5h\n30%week", ""),
        ("\x00", ""),
        ("２００k", ""),  # full-width digits are not what anyone typed
        ("$$2", ""),
        ("2kk", ""),
    ],
)
def test_garbage_is_a_one_line_error_naming_the_forms(text: str, why: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_amount(text)
    message = str(caught.value)
    assert "\n" not in message
    assert "5%5h" in message and "200k" in message and "$2" in message
    assert why in message


def test_not_a_string_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_amount(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("45m", 2700), ("2h", 7200), ("1h30m", 5400), ("120", 120), (" 5S ", 5)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "0", "-5m", "5 minutes", "1d", "nan", "m", "9" * 20])
def test_bad_durations_are_one_line_errors(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert "\n" not in str(caught.value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
@example("1" * 64)
@example("9" * 15 + "M")
@example(".5%5h")
@example("33.333333333333333%5h")
@example("$1234567.5")
@example("$0.0000001")
def test_any_text_is_an_amount_that_reads_back_or_a_one_line_error(text: str) -> None:
    try:
        amount = parse_amount(text)
    except ValueError as exc:
        assert "\n" not in str(exc)
        return
    assert math.isfinite(amount.value) and amount.value > 0
    assert parse_amount(str(amount)) == amount


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_a_duration_or_a_one_line_error(text: str) -> None:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        assert "\n" not in str(exc)
        return
    assert 0 < seconds <= 2**31 - 1
