"""The limit-message parser now lives in `collectors.limit_text` (the usage log records
limit texts too, and `collectors` must not import `sessions`). Re-exported here so the
state machine's imports, and branches written against this path, keep working."""

from collectors.limit_text import limit_window, parse_reset

__all__ = ["limit_window", "parse_reset"]
