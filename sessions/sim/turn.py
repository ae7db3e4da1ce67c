"""One simulated session and its turns, shared by the interactive and headless modes.

A turn is a few "API responses" (tool calls, then the answer). Each response
is written to the transcript, charged to the shared account and announced to
the hooks exactly where Claude Code would; the mode-specific parts (spinner,
permission dialog, stream-json lines) go through a small UI object.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import account
from .hooks import Hooks, Settings
from .script import (
    TokenModel,
    ToolStep,
    answer_text,
    cost_usd,
    env_float,
    make_rng,
    parse_directives,
    plan_steps,
    signature,
    speed,
    thinking_text,
    work_seconds,
)
from .scripted import scripted_directives
from .status import USAGE_KEYS, statusline_payload
from .transcript import REJECTED, Transcript

NOT_GRANTED = "Claude requested permissions to use {tool}, but you haven't granted it yet."


class Interrupted(Exception):
    """The human interrupted the turn (Esc or Ctrl-C while working)."""


class UI(Protocol):
    def working(self, seconds: float) -> None: ...  # block for `seconds` (already scaled)
    def tool_call(self, step: ToolStep) -> None: ...
    def tool_done(self, step: ToolStep, ok: bool) -> None: ...
    def permission(self, step: ToolStep) -> int: ...  # 1 yes, 2 yes + remember, 3 no
    def answer(self, text: str) -> None: ...
    def limit(self, text: str) -> None: ...
    def record(self, record: dict[str, Any]) -> None: ...  # every transcript record written


@dataclass
class TurnResult:
    # completed | rejected | limit | interrupted | max_turns | max_budget
    status: str
    text: str = ""
    num_turns: int = 0
    usage: dict[str, int] = field(default_factory=lambda: dict.fromkeys(USAGE_KEYS, 0))
    cost_usd: float = 0.0
    api_ms: int = 0
    denials: list[dict[str, Any]] = field(default_factory=list)


class Session:
    def __init__(
        self,
        *,
        session_id: str,
        cwd: str,
        model: str,
        entrypoint: str,
        settings: Settings,
        permission_mode: str = "default",
        interactive: bool = True,
        max_turns: int | None = None,
        max_budget_usd: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.session_id = session_id
        self.cwd = cwd
        self.model = model
        self.entrypoint = entrypoint
        self.permission_mode = permission_mode
        self.interactive = interactive
        self.max_turns = max_turns
        self.max_budget_usd = max_budget_usd
        self.rng = rng or make_rng()
        self.speed = speed()
        self.permission_rate = min(1.0, env_float("PODIUM_SIM_PERMISSION_RATE", 0.25))
        self.hooks = Hooks(settings, cwd)
        self.transcript = Transcript(session_id, cwd, entrypoint)
        self.tokens = TokenModel(self.rng)
        self.started = time.monotonic()
        self.total_cost = 0.0
        self.api_ms = 0
        self.lines_added = self.lines_removed = 0
        self.total_in = self.total_out = 0
        self.last_usage: dict[str, int] | None = None
        self.snapshot: dict[str, Any] | None = None  # the account after our last response
        self.status_text: str | None = None
        self.allowed_commands: set[str] = set()
        self.prompt_id: str | None = None
        self.turn_started = time.monotonic()  # the spinner counts from here
        self.ended = False

    # ------------------------------------------------------------ hooks
    def payload(self, event: str, **fields: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "session_id": self.session_id,
            "transcript_path": str(self.transcript.path),
            "cwd": self.cwd,
            "hook_event_name": event,
            "permission_mode": self.permission_mode,
        }
        if self.prompt_id:
            base["prompt_id"] = self.prompt_id
        base.update(fields)
        return base

    def hook(self, event: str, **fields: Any) -> None:
        self.hooks.fire(event, self.payload(event, **fields))

    def start(self, source: str) -> None:
        self.hook("SessionStart", source=source, model=self.model)

    def end(self, reason: str) -> None:
        if not self.ended:
            self.ended = True
            self.hook("SessionEnd", reason=reason)

    def clear(self) -> None:
        """`/clear`: a new session id and transcript, as Claude Code does."""
        self.end("clear")
        self.session_id = str(uuid.uuid4())
        self.transcript = Transcript(self.session_id, self.cwd, self.entrypoint)
        self.tokens = TokenModel(self.rng)
        self.last_usage, self.prompt_id, self.ended = None, None, False
        self.start("clear")

    # ------------------------------------------------------------ statusline
    def refresh_status(self) -> None:
        line = self.hooks.statusline(statusline_payload(self))
        if line is not None:
            self.status_text = line

    # ------------------------------------------------------------ a turn
    def _work(self, ui: UI, seconds: float, result: TurnResult) -> None:
        begun = time.monotonic()
        ui.working(seconds / self.speed)
        spent = int((time.monotonic() - begun) * 1000)
        self.api_ms += spent
        result.api_ms += spent

    def _respond(
        self, ui: UI, blocks: list[dict[str, Any]], final: bool, result: TurnResult
    ) -> None:
        usage = self.tokens.next(final)
        stop = "end_turn" if final else "tool_use"
        for record in self.transcript.assistant_response(self.model, blocks, usage, stop):
            ui.record(record)
        self.snapshot = account.add_usage(usage)
        cost = cost_usd(self.model, usage)
        self.total_cost += cost
        self.last_usage = usage
        self.total_in += usage["input_tokens"] + usage["cache_creation_input_tokens"]
        self.total_in += usage["cache_read_input_tokens"]
        self.total_out += usage["output_tokens"]
        result.num_turns += 1
        result.cost_usd += cost
        for key in USAGE_KEYS:
            result.usage[key] += usage[key]
        if self.interactive:
            self.refresh_status()

    def _blocked(self, ui: UI, forced_limit: bool, result: TurnResult) -> TurnResult | None:
        """The result that ends the turn before the next API call, if any."""
        if self.max_turns and result.num_turns >= self.max_turns:
            result.status = "max_turns"
            return result
        if self.max_budget_usd and self.total_cost >= self.max_budget_usd:
            result.status = "max_budget"
            return result
        snapshot = account.account_snapshot()
        hit = account.limit_hit(snapshot)
        if hit is None and forced_limit:
            window = snapshot[account.FIVE_HOUR]
            resets = window["resets_at"] or int(
                time.time() + account.WINDOW_SECONDS[account.FIVE_HOUR]
            )
            hit = (account.FIVE_HOUR, resets)
        if hit is None:
            return None
        self.snapshot = snapshot
        text = account.limit_message(*hit)
        ui.limit(text)
        ui.record(self.transcript.api_error(text))
        self.hook("StopFailure", error="rate_limit", last_assistant_message=text)
        result.status, result.text = "limit", text
        return result

    def _asks(self, forced: bool | None) -> bool:
        if self.permission_mode == "bypassPermissions":
            return False
        if forced is not None:
            return forced
        # Headless runs only meet a denial when asked to: random ones would just be noise.
        return self.interactive and self.rng.random() < self.permission_rate

    def run_turn(self, prompt: str, ui: UI) -> TurnResult:
        """Play one turn for `prompt`; the hooks see UserPromptSubmit … Stop/StopFailure."""
        # Scripted first: directives typed into the prompt itself override them.
        directives = parse_directives(f"{scripted_directives(prompt)} {prompt}")
        self.prompt_id = str(uuid.uuid4())
        self.turn_started = time.monotonic()
        result = TurnResult(status="completed")
        self.hook("UserPromptSubmit", prompt=prompt)
        ui.record(self.transcript.user_prompt(prompt, self.permission_mode))
        work = directives.work if directives.work is not None else work_seconds(self.rng)
        count = directives.tools if directives.tools is not None else self.rng.randint(1, 3)
        asks = self._asks(directives.permission)
        steps = plan_steps(self.rng, self.cwd, count, need_bash=asks)
        ask_step = next((s for s in steps if s.name == "Bash"), None) if asks else None
        segment = work / (len(steps) + 1)
        try:
            for step in steps:
                if self._blocked(ui, directives.limit, result):
                    return result
                self._work(ui, segment, result)
                blocks = [
                    {"type": "text", "text": step.intro},
                    {"type": "tool_use", "id": step.tool_use_id, "name": step.name,
                     "input": step.input},
                ]  # fmt: skip
                self._respond(ui, blocks, final=False, result=result)
                ui.tool_call(step)
                tool = {"tool_name": step.name, "tool_input": step.input}
                self.hook("PreToolUse", **tool, tool_use_id=step.tool_use_id)
                command = str(step.input.get("command"))
                if step is ask_step and command not in self.allowed_commands:
                    if not self.interactive or self.permission_mode == "dontAsk":
                        # Nobody to ask: the call is denied and the turn goes on.
                        result.denials.append({**tool, "tool_use_id": step.tool_use_id})
                        denied = NOT_GRANTED.format(tool=step.name)
                        ui.record(self.transcript.tool_result(step.tool_use_id, denied, True))
                        ui.tool_done(step, False)
                        continue
                    rule = {"toolName": step.name, "ruleContent": command}
                    suggestion = {"type": "addRules", "rules": [rule], "behavior": "allow",
                                  "destination": "localSettings"}  # fmt: skip
                    self.hook("PermissionRequest", **tool, permission_suggestions=[suggestion])
                    choice = ui.permission(step)
                    if choice == 2:
                        self.allowed_commands.add(command)
                    elif choice == 3:
                        ui.record(self.transcript.tool_result(step.tool_use_id, REJECTED, True))
                        ui.tool_done(step, False)
                        self.hook("Stop", last_assistant_message=step.intro)
                        result.status, result.text = "rejected", step.intro
                        return result
                ui.record(self.transcript.tool_result(step.tool_use_id, step.result))
                self.lines_added += step.lines_added
                self.lines_removed += step.lines_removed
                response = {"stdout": step.result, "stderr": "", "interrupted": False}
                self.hook("PostToolUse", **tool, tool_response=response,
                          tool_use_id=step.tool_use_id)  # fmt: skip
                ui.tool_done(step, True)
            if self._blocked(ui, directives.limit, result):
                return result
            self._work(ui, segment, result)
            text = answer_text(self.rng, prompt)
            thinking = {"type": "thinking", "thinking": thinking_text(self.rng, prompt),
                        "signature": signature()}  # fmt: skip
            self._respond(ui, [thinking, {"type": "text", "text": text}], True, result)
        except (Interrupted, KeyboardInterrupt):
            # Claude Code fires no Stop hook for an interrupt: the pane shows it.
            ui.record(self.transcript.interrupted())
            result.status = "interrupted"
            return result
        ui.answer(text)
        self.hook("Stop", last_assistant_message=text)
        result.text = text
        return result
