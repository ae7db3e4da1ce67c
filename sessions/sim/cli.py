"""Command line of the sim: the subset of `claude`'s flags podium and the tests use."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import uuid
from types import FrameType

from .headless import run_headless
from .hooks import load_settings
from .script import make_rng, resolve_model
from .transcript import VERSION, find_transcript, latest_session
from .turn import Session

PERMISSION_MODES = ("default", "acceptEdits", "plan", "auto", "dontAsk", "bypassPermissions")


class Terminated(BaseException):
    """A terminating signal arrived; a BaseException so no `except Exception` swallows it."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    # Ignore repeats while shutting down, so cleanup (SessionEnd) is not cut short.
    signal.signal(signum, signal.SIG_IGN)
    raise Terminated(128 + signum)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="claude", description="podium's stand-in for the Claude Code CLI (no account needed)"
    )
    p.add_argument("prompt", nargs="?", help="the first prompt (with -p: the only one)")
    p.add_argument("-p", "--print", action="store_true", help="headless: answer and exit")
    p.add_argument("--output-format", choices=("text", "json", "stream-json"), default="text")
    p.add_argument("--input-format", choices=("text", "stream-json"), default="text")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--settings", help="settings file or JSON (hooks, statusLine)")
    p.add_argument("-r", "--resume", nargs="?", const="", help="session id to continue")
    p.add_argument("-c", "--continue", dest="cont", action="store_true")
    p.add_argument("--session-id")
    p.add_argument("--model")
    p.add_argument("--fallback-model")
    p.add_argument("--max-turns", type=int)
    p.add_argument("--max-budget-usd", type=float)
    p.add_argument("--permission-mode", choices=PERMISSION_MODES, default="default")
    p.add_argument("--dangerously-skip-permissions", action="store_true")
    for name in ("--allowedTools", "--allowed-tools", "--disallowedTools", "--disallowed-tools",
                 "--add-dir", "--mcp-config"):  # fmt: skip
        p.add_argument(name, nargs="*", action="extend", default=None)  # repeatable, as claude
    for name in ("--append-system-prompt", "--system-prompt", "--name", "-n"):
        p.add_argument(name)
    p.add_argument("-v", "--version", action="version", version=f"{VERSION} (Claude Code)")
    return p


def _session_id(args: argparse.Namespace, cwd: str) -> tuple[str | None, bool, str | None]:
    """(session id, resumed?, error message)."""
    if args.resume is not None or args.cont:
        sid = args.resume or latest_session(cwd)
        if not sid:
            return None, False, "No conversation found to continue"
        if find_transcript(sid, cwd) is None:
            return None, False, f"No conversation found with session ID: {sid}"
        return sid, True, None
    if args.session_id:
        try:
            sid = str(uuid.UUID(args.session_id))
        except ValueError:
            return None, False, "Error: Invalid session ID. Must be a valid UUID."
        if find_transcript(sid, cwd) is not None:
            return None, False, f"Error: Session ID {sid} is already in use."
        return sid, False, None
    return str(uuid.uuid4()), False, None


def main(argv: list[str] | None = None) -> int:
    """Run the sim; returns the process exit code (143 after SIGTERM)."""
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    session: Session | None = None
    try:
        args = build_parser().parse_args(argv)
        cwd = os.getcwd()
        sid, resumed, error = _session_id(args, cwd)
        if error or sid is None:
            print(error, file=sys.stderr)
            return 1
        prompt = args.prompt
        if args.print and not prompt and not sys.stdin.isatty():
            prompt = sys.stdin.read()
        mode = "bypassPermissions" if args.dangerously_skip_permissions else args.permission_mode
        session = Session(
            session_id=sid,
            cwd=cwd,
            model=resolve_model(args.model),
            entrypoint="sdk-cli" if args.print else "cli",
            settings=load_settings(args.settings),
            permission_mode=mode,
            interactive=not args.print,
            max_turns=args.max_turns if args.print else None,
            max_budget_usd=args.max_budget_usd if args.print else None,
            rng=make_rng(),
        )
        if args.print:
            return run_headless(session, prompt, args.output_format, args.verbose, resumed)
        from .interactive import run_interactive  # the terminal code only when needed

        return run_interactive(session, prompt, resumed)
    except Terminated as stop:
        if session is not None:
            session.hooks.max_timeout = 2.0  # whoever signalled wants us gone soon
            session.end("other")
        return stop.code
    except KeyboardInterrupt:
        if session is not None:
            session.end("other")
        return 130
