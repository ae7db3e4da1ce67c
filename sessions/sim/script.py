"""What the simulated agent says and does: directives, tool steps, answers, tokens, prices.

Everything random draws from one `random.Random` so a seeded run
(`PODIUM_SIM_SEED`) says and does the same things each time; ids that must be
unique across runs (messages, requests, tool uses) come from `secrets` instead.
"""

from __future__ import annotations

import os
import random
import re
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MODEL = "claude-sonnet-4-5-20250929"
MODEL_ALIASES = {
    "default": DEFAULT_MODEL,
    "sonnet": DEFAULT_MODEL,
    "opus": "claude-opus-4-5-20251101",
    "haiku": "claude-haiku-4-5-20251001",
}
CONTEXT_WINDOW = 200_000
_ALNUM = string.ascii_letters + string.digits


def env_float(name: str, default: float) -> float:
    """A positive float from the environment; anything unusable gives `default`."""
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


def speed() -> float:
    """`PODIUM_SIM_SPEED`: every simulated duration is divided by it (tests run at 100+)."""
    return env_float("PODIUM_SIM_SPEED", 1.0)


def make_rng() -> random.Random:
    seed = os.environ.get("PODIUM_SIM_SEED")
    return random.Random(seed) if seed else random.Random()


def work_seconds(rng: random.Random) -> float:
    """Simulated work per turn: `PODIUM_SIM_WORK_S` ("2-8" or "5"), default 2–8 s."""
    raw = os.environ.get("PODIUM_SIM_WORK_S", "2-8")
    try:
        low, _, high = raw.partition("-")
        lo = float(low)
        hi = float(high) if high else lo
    except ValueError:
        lo, hi = 2.0, 8.0
    return rng.uniform(min(lo, hi), max(lo, hi))


def _rand_id(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def new_message_id() -> str:
    return _rand_id("msg_01", 22)


def new_request_id() -> str:
    return _rand_id("req_011C", 20)


def new_tool_use_id() -> str:
    return _rand_id("toolu_01", 22)


# ---------------------------------------------------------------- directives
_DIRECTIVE = re.compile(
    r"\[(permission|nopermission|limit|work=(\d+(?:\.\d+)?)|tools=(\d+))\]", re.IGNORECASE
)


@dataclass
class Directives:
    """Bracketed words in a prompt that make a turn deterministic for tests and demos."""

    permission: bool | None = None
    work: float | None = None
    limit: bool = False
    tools: int | None = None


def parse_directives(prompt: str) -> Directives:
    found = Directives()
    for match in _DIRECTIVE.finditer(prompt):
        word = match.group(1).lower()
        if word == "permission":
            found.permission = True
        elif word == "nopermission":
            found.permission = False
        elif word == "limit":
            found.limit = True
        elif match.group(2) is not None:
            found.work = float(match.group(2))
        elif match.group(3) is not None:
            found.tools = min(int(match.group(3)), 10)
    return found


def strip_directives(prompt: str) -> str:
    return " ".join(_DIRECTIVE.sub(" ", prompt).split())


# ---------------------------------------------------------------- tool steps
@dataclass
class ToolStep:
    """One tool call of a turn, with the shapes Claude Code's tools really take."""

    name: str
    input: dict[str, Any]
    intro: str  # the assistant's text before the call
    result: str  # what the tool returned
    label: str  # shown as `⏺ Name(label)`
    lines_added: int = 0
    lines_removed: int = 0
    tool_use_id: str = field(default_factory=new_tool_use_id)


_FILES = (
    "src/app.py",
    "src/models.py",
    "src/utils/io.py",
    "tests/test_app.py",
    "README.md",
    "pyproject.toml",
)
_BASH = (
    ("git status", "Show working tree status", "On branch main\nnothing to commit"),
    ("pytest -q", "Run the test suite", "........ [100%]\n8 passed in 0.42s"),
    ("ls -la src", "List source files", "total 24\n-rw-r--r-- 1 u u 2048 app.py"),
    ("npm run build", "Build the project", "> build\n> tsc -p .\n\nDone in 2.1s"),
    ("rm -rf build && make", "Clean and rebuild", "cc -O2 -o build/app src/main.c\nbuild ok"),
    ("git diff --stat", "Show the size of the changes", " src/app.py | 4 ++--\n 1 file changed"),
)
_INTROS = {
    "Read": "Let me read {path} first.",
    "Grep": "I'll search the code for `{pattern}`.",
    "Glob": "Let me find the relevant files.",
    "Bash": "Now I'll run `{command}`.",
    "Edit": "I'll make the change in {path}.",
}


def _tool_step(rng: random.Random, kind: str, cwd: str) -> ToolStep:
    path = f"{cwd.rstrip('/')}/{rng.choice(_FILES)}"
    if kind == "Read":
        lines = rng.randint(20, 400)
        return ToolStep(
            kind, {"file_path": path}, _INTROS[kind].format(path=path),
            f"Read {lines} lines", path,
        )  # fmt: skip
    if kind == "Grep":
        pattern = rng.choice(("def main", "TODO", "class .*Error", "import json"))
        found = rng.randint(1, 9)
        return ToolStep(
            kind, {"pattern": pattern, "path": cwd, "output_mode": "files_with_matches"},
            _INTROS[kind].format(pattern=pattern), f"Found {found} files", f'pattern: "{pattern}"',
        )  # fmt: skip
    if kind == "Glob":
        pattern = rng.choice(("**/*.py", "src/**/*.ts", "tests/**/test_*.py"))
        found = rng.randint(3, 60)
        return ToolStep(
            kind,
            {"pattern": pattern},
            _INTROS[kind],
            f"Found {found} files",
            f'pattern: "{pattern}"',
        )
    if kind == "Bash":
        command, description, output = rng.choice(_BASH)
        return ToolStep(
            kind, {"command": command, "description": description},
            _INTROS[kind].format(command=command), output, command,
        )  # fmt: skip
    added, removed = rng.randint(1, 30), rng.randint(0, 12)
    return ToolStep(
        "Edit",
        {
            "file_path": path,
            "old_string": "    return None\n",
            "new_string": "    return result\n",
            "replace_all": False,
        },
        _INTROS["Edit"].format(path=path),
        f"Updated {path} with {added} additions and {removed} removals",
        path,
        lines_added=added,
        lines_removed=removed,
    )


def plan_steps(rng: random.Random, cwd: str, count: int, need_bash: bool) -> list[ToolStep]:
    """`count` tool steps; with `need_bash` at least one is a Bash call (the one to ask about)."""
    if need_bash and count < 1:
        count = 1
    kinds = [rng.choice(("Read", "Grep", "Glob", "Bash", "Edit")) for _ in range(count)]
    if need_bash and "Bash" not in kinds:
        kinds[rng.randrange(count)] = "Bash"
    return [_tool_step(rng, kind, cwd) for kind in kinds]


_ANSWERS = (
    "Done. I looked into {topic} and made the change; the test suite passes (8 passed).",
    "I checked {topic}: the code path was missing a guard for empty input. "
    "I added it in `src/app.py` and a test for it.",
    "All set. {topic} is handled now, and `git diff --stat` shows a small, focused change.",
    "Here's what I found about {topic}: nothing is broken, but the helper in "
    "`src/utils/io.py` was doing redundant work. I simplified it.",
)


def answer_text(rng: random.Random, prompt: str) -> str:
    topic = strip_directives(prompt) or "your request"
    if len(topic) > 60:
        topic = topic[:57] + "…"
    return rng.choice(_ANSWERS).format(topic=f"“{topic}”")


def thinking_text(rng: random.Random, prompt: str) -> str:
    topic = strip_directives(prompt)[:80] or "the request"
    return rng.choice(
        (
            f"The user asked about {topic}. I have what I need; let me summarise.",
            f"I've gathered enough context on {topic} to answer.",
        )
    )


def signature() -> str:
    """An opaque thinking signature, base64-looking like the real ones."""
    return "Eq" + secrets.token_urlsafe(96)


# ---------------------------------------------------------------- tokens and prices
class TokenModel:
    """Token counts of successive responses with a growing, cached context."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.context = 0

    def next(self, final: bool) -> dict[str, int]:
        rng = self.rng
        if self.context == 0:
            # The first call of a session writes the system prompt and tools to the cache.
            creation, read = rng.randint(9_000, 18_000), 0
        else:
            creation, read = rng.randint(150, 4_000), self.context
        inp = rng.randint(1, 12)
        out = rng.randint(150, 1_200) if final else rng.randint(40, 400)
        self.context = read + creation + inp + out
        if self.context > 170_000:
            self.context = rng.randint(30_000, 45_000)  # as if auto-compacted
        return {
            "input_tokens": inp,
            "cache_creation_input_tokens": creation,
            "cache_read_input_tokens": read,
            "output_tokens": out,
        }


# $ per million tokens: input, output, cache write (5 min), cache read.
_PRICES = {
    "opus-4-5": (5.0, 25.0, 6.25, 0.50),
    "opus": (15.0, 75.0, 18.75, 1.50),
    "haiku": (1.0, 5.0, 1.25, 0.10),
    "sonnet": (3.0, 15.0, 3.75, 0.30),
}


def cost_usd(model: str, usage: dict[str, int]) -> float:
    key = next((k for k in _PRICES if k in model), "sonnet")
    p_in, p_out, p_write, p_read = _PRICES[key]
    return (
        usage.get("input_tokens", 0) * p_in
        + usage.get("output_tokens", 0) * p_out
        + usage.get("cache_creation_input_tokens", 0) * p_write
        + usage.get("cache_read_input_tokens", 0) * p_read
    ) / 1_000_000


def resolve_model(name: str | None) -> str:
    if not name:
        return DEFAULT_MODEL
    return MODEL_ALIASES.get(name.lower(), name)


def display_name(model: str) -> str:
    """`claude-sonnet-4-5-20250929` → `Sonnet 4.5`, as Claude Code's statusline shows it."""
    match = re.match(r"claude-(opus|sonnet|haiku)-(\d+)(?:-(\d{1,2}))?(?:-\d{8})?$", model)
    if not match:
        return model
    family, major, minor = match.groups()
    return f"{family.capitalize()} {major}{'.' + minor if minor else ''}"
