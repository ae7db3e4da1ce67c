"""A loopback stand-in for the Anthropic Messages API (see :mod:`.server`, :mod:`.script`)."""

from .script import Reply, Usage, last_user_text, plan_reply, rate_limit_headers, unified_headers
from .server import FakeAnthropic, Recorded, sse_events

__all__ = [
    "FakeAnthropic",
    "Recorded",
    "Reply",
    "Usage",
    "last_user_text",
    "plan_reply",
    "rate_limit_headers",
    "sse_events",
    "unified_headers",
]
