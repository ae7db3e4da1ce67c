"""The environment an agent pane gets: what a coding agent needs, not the caller's whole.

`podium new` runs in the person's shell, whose environment can hold anything:
database passwords, cloud tokens, a CI's secrets. An agent reads its own
environment (`env`, `printenv`, a stray `set` in a transcript), so podium passes
on only the names below, plus those of `[agents] pass_env`. The client filters
before it sends (`podium new`, `podium resume`, the tower), with the config it
reads then; the engine filters its own environment the same way where no caller
sent one (background runs, a request without `env`).

Stdlib only.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping

# Exact names: the session's shell and terminal, and what tools read from them.
PASS_NAMES = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        # An exported prompt: a `--agent shell` session looks like the person's own
        # shell, and its screen profile reads that prompt.
        "PS1",
        "LANG",
        "LANGUAGE",
        "TERM",  # tmux sets its own only when the launcher does not replace it
        "COLORTERM",
        "TZ",
        "TMPDIR",
        "TMUX_TMPDIR",
        "EDITOR",
        "VISUAL",
        "PAGER",
        "SSH_AUTH_SOCK",
        "DISPLAY",
        "WAYLAND_DISPLAY",
        # Network: proxies and the CA bundles that go with them.
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "all_proxy",
        "NODE_EXTRA_CA_CERTS",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        # The project's tool chain.
        "VIRTUAL_ENV",
        # Claude Code's documented knobs without a prefix of their own.
        "MAX_THINKING_TOKENS",
        "MAX_MCP_OUTPUT_TOKENS",
        "USE_BUILTIN_RIPGREP",
        "CLOUD_ML_REGION",
    }
)

# Prefixes: the locale, XDG dirs, the agents' own keys and settings (Anthropic,
# Claude Code, OpenAI/Codex, Bedrock and Vertex credentials), Claude Code's
# DISABLE_*, MCP_*, BASH_*, VERTEX_REGION_*, OTEL_* knobs, and podium's own.
PASS_PREFIXES = (
    "LC_",
    "XDG_",
    "ANTHROPIC_",
    "CLAUDE_",
    "OPENAI_",
    "CODEX_",
    "AIDER_",
    "AWS_",
    "GOOGLE_",
    "GCLOUD_",
    "CLOUDSDK_",
    "VERTEX_",
    "DISABLE_",
    "MCP_",
    "BASH_",
    "OTEL_",
    "PODIUM_",
)

# Never passed, whatever the config says: they name the caller's own tmux pane
# (the launcher passes on the ones tmux gives the new pane).
DROP_NAMES = frozenset({"TMUX", "TMUX_PANE"})


def passes(name: str, extra: Iterable[str] = ()) -> bool:
    """Whether variable `name` reaches an agent; `extra` are names or shell-style
    patterns (`MY_TOOL_*`) from `[agents] pass_env`."""
    if name in DROP_NAMES:
        return False
    if name in PASS_NAMES or name.startswith(PASS_PREFIXES):
        return True
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in extra)


def agent_env(environ: Mapping[str, object], extra: Iterable[str] = ()) -> dict[str, str]:
    """The part of `environ` an agent gets (strings only)."""
    extra = tuple(extra)
    return {
        str(k): str(v)
        for k, v in environ.items()
        if isinstance(k, str) and isinstance(v, str) and passes(k, extra)
    }
