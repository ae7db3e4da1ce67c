"""sim: a stand-in for the Claude Code CLI, for podium's demo and fast tests.

Run as `python -m sessions.sim [--settings FILE] [-p] [--output-format …] [PROMPT]`.
It writes Claude-format transcripts, fires Claude Code's hooks, runs the
statusline command and draws on a simulated subscription account shared by
all sims of one data dir. Stdlib only, so it starts fast; importing this
package loads only the account and script APIs below.
"""

from .account import (
    account_path,
    account_snapshot,
    add_usage,
    limit_hit,
    limit_message,
    reset_account,
    seed_account,
    weighted_tokens,
)
from .scripted import set_scripted

__all__ = [
    "account_path",
    "account_snapshot",
    "add_usage",
    "limit_hit",
    "limit_message",
    "reset_account",
    "seed_account",
    "set_scripted",
    "weighted_tokens",
]
