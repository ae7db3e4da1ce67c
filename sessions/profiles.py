"""Screen profiles: what an agent's visible screen says about its state, as data.

A profile belongs to one agent (`claude`, `sim`, `codex`, `aider`, `shell`) and
holds ordered rules. A rule is a regular expression searched in the last
`lines` non-blank lines of the pane's visible screen (trailing blank lines
dropped; the engine captures with `capture-pane -N`, so the last line keeps the
space after a shell prompt) and the word for what a match shows (a key of
`sessions.state.SCREEN_EVENTS`); the first matching rule wins. `waiting` in a
rule means "the agent's input prompt": the state table turns it into `waiting`
after a turn and `idle` before any; `interrupted` means the person took the
prompt over (Esc, No, typed text).

When no rule matches, a profile may let process activity decide
(`sessions.activity`): busy while the pane's process tree uses CPU (or, for a
shell, while it has child processes), else its `quiet` state.

For claude and sim the hooks are the better source: their screens are read
whole when a session runs without podium's hooks, or when no hook event came
within `hooks_silent_after` seconds of its launch; otherwise only by the
watchdog, while a state waits on an event (`sessions.engine.watch`).

Users add rules in config (`[profiles.<agent>]`, see `collectors.settings`);
their rules come before the built-in ones unless `replace = true`.

The built-in patterns were checked against screens of the real programs
(`tests/unit/screens/`): Claude Code 2.1.328 and podium's sim captured here,
Codex CLI and Aider from their published screens and sources.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from collectors.settings import ProfileSettings
from sessions.state import SCREEN_EVENTS, State

# Horizontal white space (Claude Code pads its prompt with a no-break space), and the same
# with the side of a box drawn around it.
_H = r"[^\S\n]"
_BOX = r"[│ \t\u00a0]"


@dataclass(frozen=True)
class Rule:
    """One line of a profile: a pattern and what its match means."""

    pattern: re.Pattern[str]
    # A word of `sessions.state.SCREEN_EVENTS`: what the screen shows.
    shows: str
    detail: str

    @classmethod
    def of(cls, pattern: str, shows: str, detail: str = "") -> Rule:
        if shows not in SCREEN_EVENTS:
            raise ValueError(f"a screen cannot show {shows!r}")
        return cls(re.compile(pattern, re.MULTILINE), shows, detail or f"{shows}: {pattern}")

    def observe(self, tail: str) -> Observation | None:
        """This rule's verdict on `tail`, or None when it does not match.

        A pattern's `detail` group (e.g. the retry line, the limit notice) is added to
        the rule's detail: the reset time of a limit is read from it."""
        match = self.pattern.search(tail)
        if match is None:
            return None
        said = match.groupdict().get("detail")
        if not said:
            return Observation(self.shows, self.detail)
        return Observation(self.shows, f"{self.detail}: {_one_line(said)}")


def _one_line(text: str, limit: int = 200) -> str:
    """Screen text as a short printable line (it came from whatever runs in the pane)."""
    words = "".join(ch if ch.isprintable() else " " for ch in text).split()
    line = " ".join(words).lstrip("✻✶✳✢·*⎿●◐ ")
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass(frozen=True)
class Observation:
    """A profile's verdict on one screen: a word of `SCREEN_EVENTS` and why."""

    shows: str
    detail: str


@dataclass(frozen=True)
class Profile:
    agent: str
    rules: tuple[Rule, ...]
    lines: int = 20
    # No rule matched: let the pane's process tree decide (busy / `quiet`).
    process: bool = False
    # Child processes alone mean busy (a shell running a command).
    children_busy: bool = False
    quiet: State = State.WAITING
    # Hooked agents: read the screen only without hooks, or after this long without one.
    hooks_silent_after: float | None = None

    def tail(self, screen: str) -> str:
        """The part of `screen` the rules look at: from its `lines`-th last non-blank line on.

        Blank lines do not count: Claude Code pads the space between the conversation
        and its input box with them, and the last thing said must stay in view.
        """
        rows = screen.split("\n")
        while rows and not rows[-1].strip():
            rows.pop()
        seen = 0
        for start in range(len(rows) - 1, -1, -1):
            if rows[start].strip():
                seen += 1
                if seen == self.lines:
                    return "\n".join(rows[start:])
        return "\n".join(rows)

    def observe(self, tail: str) -> Observation | None:
        """The first rule that matches `tail` (from `Profile.tail`), or None."""
        for rule in self.rules:
            found = rule.observe(tail)
            if found is not None:
                return found
        return None


# -- Claude Code (and the sim, which draws the same screens) ---------------------------
# The permission dialog: a "Do you want to …?" question (it may wrap in a narrow pane)
# directly followed by the numbered "1. Yes" choice. Requiring both keeps an answer that
# merely asks "Do you want to proceed? 1. Yes 2. No" from reading as a dialog.
CLAUDE_PERMISSION = rf"^{_BOX}*Do you want to [^?]{{1,400}}\?{_BOX}*\n{_BOX}*(?:[❯>›]{_H}*)?1\. Yes"
CLAUDE_TRUST = r"Do you trust the files in this folder\?|Yes, I trust this folder"
# A failed API call being retried: "429 Rate limited · retrying in 12s · attempt 3/10"
# (2.1.328; the spinner line, above the input box). Before the busy rule: the hint line
# still says "esc to interrupt" meanwhile.
CLAUDE_RETRYING = r"^(?P<detail>[^\n]*\bretrying in \d+\s*s\b[^\n]*\battempt \d+\s*/\s*\d+)"
# 2.1.x shows "esc to interrupt" in the hint line under the input box, older versions in
# the spinner line "(3s · esc to interrupt)"; both follow a "·" or "(" or start a line,
# which a prompt that merely mentions the words does not.
CLAUDE_BUSY = r"(?:^|[·(])\s*esc to interrupt\b"
# What may follow a notice's line while it is still the last thing said: anything but a
# prompt (❯/>), an answer (●) or a turn summary (✻), up to the input box's rule.
_UNTIL_BOX = rf"(?:(?!{_H}*[❯>●✻]{_H})[^\n]*\n)*?{_H}*[─━╭]{{8,}}"
# The limit notice counts while nothing newer was said.
CLAUDE_LIMIT = (
    rf"^{_H}*[⎿●]{_H}+(?P<detail>(?:You've hit your [^\n]*limit|Claude AI usage limit reached"
    rf"|[^\n]*limit reached|API Error: Request rejected \(429\))[^\n]*)\n" + _UNTIL_BOX
)
# The person stopped the turn or declined a dialog (Esc, "No"): Claude Code says so
# under the last tool call ("Interrupted · What should Claude do instead?", "Rejected
# write to x.txt") and waits at its prompt; no hook fires. A decline the turn went on
# from is followed by an answer (●), which ends the match.
CLAUDE_INTERRUPTED = (
    rf"^{_H}*⎿?{_H}*(?P<detail>Interrupted(?: by user| · What should Claude do instead\?)"
    rf"|(?<=⎿{_H}{_H})Rejected\b[^\n]*|User rejected\b[^\n]*)"
    rf"[^\n]*\n" + _UNTIL_BOX
)
# The rewind menu (Esc Esc at an empty prompt): its title alone on a line, then what it
# offers. Pressing Esc in a turn more than once opens it; the person is at the pane.
CLAUDE_REWIND = (
    rf"^{_H}*Rewind{_H}*\n(?:{_H}*\n){{0,3}}{_H}*"
    r"(?:Restore the code and/or conversation|Nothing to rewind to)"
)
# The input box: a rule, the prompt line, (wrapped input,) the closing rule. The closing
# rule matters: the sim redraws its spinner below the last submitted "> prompt" line, and
# a capture between two frames must not read that line as an empty box.
_BOX_AFTER_PROMPT = rf"[^\n]*\n(?:[^\n]*\n){{0,8}}?{_H}*[╰─━]{{8,}}"
CLAUDE_PROMPT = rf"^{_H}*[╭─━]{{8,}}[^\n]*\n{_BOX}*[❯>]" + _BOX_AFTER_PROMPT
# The box holds text while nothing runs: the person is typing, or Esc put an unanswered
# prompt back there. Either way they took the prompt over.
TYPED_DETAIL = "input box holds text"
CLAUDE_PROMPT_TYPED = rf"^{_H}*[╭─━]{{8,}}[^\n]*\n{_BOX}*[❯>]{_H}*[^\s│]" + _BOX_AFTER_PROMPT

CLAUDE_RULES = (
    Rule.of(CLAUDE_PERMISSION, "permission", "permission dialog"),
    Rule.of(CLAUDE_TRUST, "permission", "trust dialog"),
    Rule.of(CLAUDE_RETRYING, "retrying", "retrying"),
    Rule.of(CLAUDE_BUSY, "busy", "esc to interrupt"),
    Rule.of(CLAUDE_LIMIT, "limited", "usage limit"),
    Rule.of(CLAUDE_INTERRUPTED, "interrupted", "interrupted"),
    Rule.of(CLAUDE_REWIND, "interrupted", "rewind menu"),
    Rule.of(CLAUDE_PROMPT_TYPED, "interrupted", TYPED_DETAIL),
    Rule.of(CLAUDE_PROMPT, "waiting", "input prompt"),
)

# -- Codex CLI (0.1xx, ratatui) ---------------------------------------------------------
CODEX_RULES = (
    Rule.of(
        r"(?i)Would you like to (?:run the following command|make the following edits"
        r"|grant these permissions)\?|Do you want to approve access to"
        r"|Press enter to confirm or esc to cancel|^\s*Allow command\?",
        State.PERMISSION,
        "approval dialog",
    ),
    Rule.of(r"(?i)(?:esc|ctrl\s*\+\s*c) to interrupt", State.BUSY, "esc to interrupt"),
    Rule.of(r"You've hit your usage limit", State.LIMITED, "usage limit"),
    # The composer: "› " (0.1xx) or "▌" (older) at a line start, or its footer.
    Rule.of(
        rf"^{_H}*[›▌](?:{_H}|$)|\? for shortcuts|\d+% context left",
        State.WAITING,
        "input prompt",
    ),
)

# -- Aider (prompt_toolkit; the prompt is the last line) --------------------------------
AIDER_RULES = (
    Rule.of(r"\(Y\)es/\(N\)o[^\n]*\[(?:Yes|No)\]:[^\n]*\Z", State.PERMISSION, "confirmation"),
    Rule.of(r"Waiting for [^\n]*\Z", State.BUSY, "waiting for the model"),
    # "> ", "diff> ", "architect multi> " … alone on the last line.
    Rule.of(rf"^[\w./ -]*>{_H}?\Z", State.WAITING, "input prompt"),
)

# -- a plain shell ----------------------------------------------------------------------
# A prompt is the last line ending in a prompt character and the space after it (kept by
# `capture-pane -N`); "50%" printed by a command has no such space.
SHELL_RULES = (Rule.of(rf"[$#%>❯»]{_H}\Z", State.IDLE, "shell prompt"),)

BUILTIN: dict[str, Profile] = {
    "claude": Profile("claude", CLAUDE_RULES, lines=24, hooks_silent_after=10.0),
    "sim": Profile("sim", CLAUDE_RULES, lines=24, hooks_silent_after=10.0),
    "codex": Profile("codex", CODEX_RULES, lines=20, process=True),
    "aider": Profile("aider", AIDER_RULES, lines=4, process=True),
    "shell": Profile(
        "shell", SHELL_RULES, lines=1, process=True, children_busy=True, quiet=State.IDLE
    ),
}


def build_profiles(config: Mapping[str, ProfileSettings] | None = None) -> dict[str, Profile]:
    """The built-in profiles with the user's `[profiles.<agent>]` tables applied.

    Patterns were validated when the settings were loaded, so this cannot fail on them.
    """
    profiles = dict(BUILTIN)
    for agent, extra in (config or {}).items():
        base = profiles.get(agent) or Profile(agent, ())
        mine = tuple(Rule.of(r.pattern, r.state, r.detail) for r in extra.rules)
        profiles[agent] = replace(
            base,
            rules=mine if extra.replace else mine + base.rules,
            lines=extra.lines or base.lines,
            hooks_silent_after=(
                base.hooks_silent_after
                if extra.hooks_silent_after is None
                else extra.hooks_silent_after
            ),
        )
    return profiles
