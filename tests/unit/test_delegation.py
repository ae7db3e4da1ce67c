"""The caps on subtasks an agent queues: depth, fan-out, and a budget out of the parent's."""

from __future__ import annotations

import pytest

from sessions.fill.delegation import Child, Refused, Spent, check_depth, check_fan_out, child_budget


def capacity(window: str) -> float:
    return {"five_hour": 100_000.0, "seven_day": 1_000_000.0}[window]


def test_depth_and_fan_out_are_capped_in_words() -> None:
    check_depth(2)
    with pytest.raises(Refused, match="at most 3 levels"):
        check_depth(3)
    check_fan_out(9)
    with pytest.raises(Refused, match="already has 10 subtasks"):
        check_fan_out(10)


def test_a_parent_without_a_budget_leaves_the_childs_as_asked() -> None:
    assert child_budget(None, Spent(), [], "50k", capacity) == "50k"
    assert child_budget(None, Spent(), [], None, capacity) is None


def test_a_share_budget_is_counted_in_weighted_tokens() -> None:
    # 10% of the 5-hour window: 10,000 weighted tokens; the parent spent 2,000, an open
    # child may spend 3k, a finished one spent 1,000 of its 4k.
    children = [Child("3k", False, Spent()), Child("4k", True, Spent(units=1_000))]
    left = 10_000 - 2_000 - 3_000 - 1_000
    assert child_budget("10%5h", Spent(units=2_000), children, None, capacity) == "4k"
    assert child_budget("10%5h", Spent(units=2_000), children, "2%5h", capacity) == "2%5h"
    with pytest.raises(Refused, match=f"{left:,.0f} of 10%5h"):
        child_budget("10%5h", Spent(units=2_000), children, "5k", capacity)
    with pytest.raises(Refused, match="give the subtask's budget that way too"):
        child_budget("10%5h", Spent(), [], "$1", capacity)
    with pytest.raises(Refused, match="is spent"):
        child_budget("2k", Spent(units=2_000), [], None, capacity)
    # What is left, given whole, reads at a glance and is never more than is left.
    assert child_budget("300k", Spent(units=53), [], None, capacity, 0.5) == "149k"
    assert child_budget("3M", Spent(units=88_000), [], None, capacity) == "2.9M"
    assert child_budget("9999", Spent(units=0.5), [], None, capacity) == "9998"


def test_a_dollar_budget_counts_open_childrens_budgets_and_finished_ones_spend() -> None:
    children = [Child("$0.5", False, Spent()), Child("$1", True, Spent(usd=0.25))]
    assert child_budget("$2", Spent(usd=0.25), children, None, capacity) == "$1"
    with pytest.raises(Refused, match=r"\$1.00 of \$2"):
        child_budget("$2", Spent(usd=0.25), children, "$1.5", capacity)
