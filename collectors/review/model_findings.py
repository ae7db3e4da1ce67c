"""The agent's review, read back: its final message's JSON, checked, as findings.

The agent answers with `{"findings": [...]}` (in a code block or bare). Nothing it
says is trusted: each field is checked and bounded, unknown fields dropped, and the
findings are marked as the model's (`source = "model"`), never mixed up with the
computed ones.
"""

from __future__ import annotations

import json
from typing import Any

from collectors.review.finding import Amount, Finding, Where, sure_of

MAX_FINDINGS = 10
AREAS = ("waste", "runaway", "attention", "fill", "models", "habits")
LIMITS = {"title": 160, "detail": 1_500, "suggestion": 1_000}
MAX_EVIDENCE = 8
MAX_PLACES = 8

# What the agent is asked to answer: the review task's prompt quotes it.
ANSWER_SCHEMA = {
    "findings": [
        {
            "title": "one line: what you found",
            "area": "|".join(AREAS),
            "detail": "what the figures show, with the numbers",
            "suggestion": "one concrete change the person can make",
            "confidence": "0.0-1.0: how far the digest supports it",
            "evidence": [["label", "value from the digest"]],
            "where": {"projects": [], "sessions": [], "hours": []},
        }
    ]
}


class BadAnswer(ValueError):
    """The agent's answer holds no usable findings; the message says why."""


def _answer_object(text: str) -> dict[str, Any]:
    decoder = json.JSONDecoder()
    at = text.find("{")
    while at != -1:
        try:
            value, _end = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict) and isinstance(value.get("findings"), list):
            return value
        at = text.find("{", at + 1)
    raise BadAnswer("the agent's answer holds no JSON object with a findings list")


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadAnswer(f"a finding's {key} is missing or not text")
    return (
        " ".join(value.split())[: LIMITS[key]] if key == "title" else value.strip()[: LIMITS[key]]
    )


def _strings(value: Any, limit: int = MAX_PLACES) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(v)[:200] for v in value if isinstance(v, (str, int, float))][:limit]


def parse(text: str) -> list[Finding]:
    """The findings in the agent's final message; `BadAnswer` when there are none."""
    answer = _answer_object(text)
    out = []
    for item in answer["findings"][:MAX_FINDINGS]:
        if not isinstance(item, dict):
            continue
        try:
            title, detail = _text(item, "title"), _text(item, "detail")
            suggestion = _text(item, "suggestion")
        except BadAnswer:
            continue
        area = item.get("area") if item.get("area") in AREAS else "habits"
        raw = item.get("confidence")
        confidence = (
            min(1.0, max(0.0, float(raw)))
            if isinstance(raw, (int, float)) and not isinstance(raw, bool)
            else 0.3
        )
        evidence = [
            (str(row[0])[:80], str(row[1])[:200])
            for row in (item.get("evidence") or [])[:MAX_EVIDENCE]
            if isinstance(row, list) and len(row) == 2
        ]
        where = item.get("where") if isinstance(item.get("where"), dict) else {}
        out.append(
            Finding(
                kind="model",
                area=str(area),
                title=title,
                detail=detail,
                amount=Amount(),
                where=Where(
                    sessions=_strings(where.get("sessions")),
                    projects=_strings(where.get("projects")),
                    hours=_strings(where.get("hours")),
                ),
                suggestion=suggestion,
                confidence=confidence,
                sure=sure_of(confidence),
                evidence=evidence,
                source="model",
            )
        )
    if not out:
        raise BadAnswer("the agent's answer lists no finding with a title, detail and suggestion")
    return out
