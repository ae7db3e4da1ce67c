"""Capture the screen fixtures of `tests/unit/test_profiles.py` from the real programs.

    .venv/bin/python tests/unit/screens/capture.py [claude|interrupts|esc_more|sim|shell ...]

Runs the pinned Claude Code CLI against the loopback fake API (`tests/fakeapi/`), podium's
sim and bash in a private tmux server and writes what `capture-pane -p -N` shows (as the
engine captures: trailing spaces kept) to `tests/unit/screens/<agent>_<moment>.txt`.
Run it again when the pinned Claude Code version changes, and check the profile tests.
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TESTS = HERE.parents[1]
sys.path.insert(0, str(TESTS))

import libtmux  # noqa: E402
from claude_bed import find_claude_bin, make_bed  # noqa: E402
from fakeapi import FakeAnthropic  # noqa: E402


class Pane:
    def __init__(self, server: Any, name: str, command: str, cwd: Path, **env: str) -> None:
        session = server.new_session(
            session_name=name,
            window_command=command,
            start_directory=str(cwd),
            x=120,
            y=40,
            environment=env or None,
        )
        self.pane = session.active_window.active_pane

    def screen(self) -> str:
        return "\n".join(self.pane.cmd("capture-pane", "-p", "-N").stdout)

    def wait(self, check: Callable[[str], bool], timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if check(text):
                return text
            time.sleep(0.05)
        raise SystemExit(f"timed out; screen:\n{self.screen()}")

    def settle(self, seconds: float = 1.0) -> str:
        """The screen once it stopped changing for `seconds` (spinners excepted by callers)."""
        time.sleep(seconds)
        return self.screen()

    def resize(self, columns: int) -> None:
        """Make the window `columns` wide (the sim gets a SIGWINCH and redraws)."""
        self.pane.cmd("resize-window", "-x", str(columns))

    def submit(self, text: str) -> None:
        self.pane.send_keys(text, enter=False, literal=True)
        self.wait(lambda s: text[-15:] in s.replace("\n", ""))
        self.pane.send_keys("Enter", enter=False)

    def save(self, name: str, text: str | None = None) -> None:
        (HERE / f"{name}.txt").write_text((text if text is not None else self.screen()) + "\n")
        print("wrote", name)


def claude(server: Any, root: Path) -> None:
    with FakeAnthropic() as api:
        bed = make_bed(root / "bed", find_claude_bin(), api, auth="gateway")
        pane = Pane(
            server, "claude", str(bed.launcher("--permission-mode", "default")), bed.work_dir
        )
        pane.wait(lambda s: "? for shortcuts" in s)
        pane.save("claude_start", pane.settle())
        pane.submit("SLOW 6 hello")
        pane.wait(lambda s: "esc to interrupt" in s)
        pane.save("claude_busy", pane.settle(1.5))
        pane.wait(lambda s: "Hello from the fake API" in s and "? for shortcuts" in s)
        pane.save("claude_done", pane.settle())
        pane.submit(f"WRITE_FILE {bed.work_dir / 'x.txt'}")
        pane.wait(lambda s: "Do you want to" in s)
        pane.save("claude_permission_write", pane.settle())
        pane.pane.send_keys("1", enter=False)
        pane.wait(lambda s: "Done:" in s and "? for shortcuts" in s)
        pane.submit("RUN_BASH touch made-by-bash.txt")
        pane.wait(lambda s: "Do you want to proceed?" in s)
        pane.save("claude_permission_bash", pane.settle())
        pane.pane.send_keys("1", enter=False)
        pane.wait(lambda s: s.count("Done:") >= 2 and "? for shortcuts" in s)
        pane.submit("REPLY Shall I go on? Do you want to proceed? 1. Yes 2. No")
        pane.wait(lambda s: "● Shall I go on" in s and "? for shortcuts" in s)
        pane.save("claude_answer_asks", pane.settle())
        pane.submit("RATE_LIMIT")
        pane.wait(lambda s: "resets" in s)
        pane.save("claude_limit", pane.settle())
        pane.pane.send_keys("half typed prompt", enter=False, literal=True)
        pane.wait(lambda s: "half typed prompt" in s)
        pane.save("claude_typing", pane.settle())

        # API-key auth words a 429 differently; an untrusted folder opens the trust dialog.
        keyed = make_bed(root / "keyed", find_claude_bin(), api)
        untrusted = root / "untrusted"
        untrusted.mkdir()
        pane = Pane(
            server, "keyed", str(keyed.launcher("--permission-mode", "default")), keyed.work_dir
        )
        pane.wait(lambda s: "? for shortcuts" in s)
        pane.submit("RATE_LIMIT")
        pane.wait(lambda s: "429" in s)
        pane.save("claude_limit_api_key", pane.settle())
        pane = Pane(server, "trust", str(keyed.launcher(cwd=untrusted, name="t.sh")), untrusted)
        pane.wait(lambda s: "trust" in s)
        pane.save("claude_trust", pane.settle())


def interrupts(server: Any, root: Path) -> None:
    """What Claude Code shows when the person stops it (no hook fires) or it retries."""
    with FakeAnthropic() as api:
        bed = make_bed(root / "bed", find_claude_bin(), api)
        pane = Pane(server, "esc", str(bed.launcher("--permission-mode", "default")), bed.work_dir)
        pane.wait(lambda s: "? for shortcuts" in s)
        # Esc before anything was said: the prompt goes back into the input box.
        pane.submit("SLOW 30 first")
        pane.wait(lambda s: "esc to interrupt" in s)
        pane.pane.send_keys("Escape", enter=False)
        pane.wait(lambda s: "esc to interrupt" not in s)
        pane.save("claude_esc_restored", pane.settle())
        pane.pane.send_keys("C-u", enter=False)
        pane.wait(lambda s: "SLOW 30 first" not in s.split("────")[-2])
        # Esc at a permission dialog, then "No".
        manual = str(bed.launcher("--permission-mode", "default"))
        for key, name in (("Escape", "claude_dialog_esc"), ("3", "claude_dialog_no")):
            # A new session each: after one refusal Claude Code declines the next by itself.
            pane = Pane(server, name, manual, bed.work_dir)
            pane.wait(lambda s: "? for shortcuts" in s)
            pane.submit(f"WRITE_FILE {bed.work_dir / (name + '.txt')}")
            pane.wait(lambda s: "Do you want to" in s)
            pane.settle(0.5)  # a dialog takes keys only once it is drawn
            pane.pane.send_keys(key, enter=False)
            pane.wait(lambda s: "1. Yes" not in s and "esc to interrupt" not in s)
            pane.save(name, pane.settle())
        # Esc as the turn goes on after a tool. Bash fails at once in this bed, so the Esc
        # must land while Claude Code sends the result back: a race, tried a few times.
        for attempt in range(8):
            pane = Pane(server, f"tool{attempt}", manual, bed.work_dir)
            pane.wait(lambda s: "? for shortcuts" in s)
            pane.submit("RUN_BASH sleep 30")
            pane.wait(lambda s: "sleep 30" in s and "esc to interrupt" in s)
            pane.pane.send_keys("Escape", enter=False)
            shown = pane.wait(lambda s: "Interrupted" in s or "Done:" in s)
            if "Interrupted" in shown:
                pane.save("claude_esc_interrupted", pane.settle())
                break
        else:
            print("no Esc landed in time: claude_esc_interrupted.txt kept as it was")
        # An API error Claude Code retries.
        pane.submit("RETRY 529")
        pane.wait(lambda s: "retrying in" in s)
        pane.save("claude_retrying", pane.settle(0.5))
        pane.pane.send_keys("Escape", enter=False)


def esc_more(server: Any, root: Path) -> None:
    """Esc pressed more than once, as people do: no hook fires for any of it."""
    with FakeAnthropic() as api:
        bed = make_bed(root / "bed", find_claude_bin(), api)
        pane = Pane(server, "esc2", str(bed.launcher("--permission-mode", "default")), bed.work_dir)
        pane.wait(lambda s: "? for shortcuts" in s)
        # Esc, then Esc Esc: the second pair clears the prompt the first Esc put back.
        pane.submit("SLOW 30 first")
        pane.wait(lambda s: "esc to interrupt" in s)
        pane.pane.send_keys("Escape", enter=False)
        pane.wait(lambda s: "esc to interrupt" not in s)
        pane.settle(0.5)
        pane.pane.cmd("send-keys", "Escape", "Escape")
        pane.wait(lambda s: "SLOW 30 first" not in s)
        pane.save("claude_esc_cleared", pane.settle())


def sim(server: Any, root: Path) -> None:
    env = {
        "PODIUM_DATA_DIR": str(root / "data"),
        "PODIUM_SIM_CLAUDE_CONFIG_DIR": str(root / "claude"),
        "PODIUM_SIM_SPEED": "1",
        "PODIUM_SIM_SEED": "7",
    }
    work = root / "work"
    work.mkdir()
    pane = Pane(server, "sim", f"{sys.executable} -m sessions.sim", work, **env)

    def at_prompt(s: str) -> bool:
        return "esc to interrupt" not in s and any(x.strip() == ">" for x in s.splitlines())

    pane.wait(at_prompt)
    pane.save("sim_start", pane.settle(0.5))
    pane.submit("[nopermission] [work=8] hello")
    pane.wait(lambda s: "esc to interrupt" in s)
    pane.save("sim_busy", pane.settle(0.5))
    # Narrowed while it works: redrawn to fit, the spinner wrapped between its words.
    pane.resize(25)
    pane.save("sim_busy_narrow", pane.settle(0.5))
    pane.resize(120)
    pane.wait(at_prompt, 20)
    pane.save("sim_done", pane.settle(0.5))
    pane.submit("[permission] [work=1] [tools=1] go")
    pane.wait(lambda s: "Do you want to proceed?" in s)
    pane.save("sim_permission", pane.settle(0.5))
    pane.resize(22)  # the question wraps inside the dialog
    pane.save("sim_permission_narrow", pane.settle(0.5))
    pane.resize(120)
    pane.pane.send_keys("1", enter=False)
    pane.wait(lambda s: "Do you want to proceed?" not in s and at_prompt(s), 20)
    pane.submit("[limit] more please")
    pane.wait(lambda s: "/upgrade" in s)
    pane.save("sim_limit", pane.settle(0.5))


def shell(server: Any, root: Path) -> None:
    def bash(prompt: str) -> str:
        # PS1 through `env`: bash takes the prompt from its environment with --norc. An
        # empty HISTFILE: the commands typed here stay out of ~/.bash_history.
        return shlex.join(["env", f"PS1={prompt}", "HISTFILE=", "bash", "--norc", "--noprofile"])

    pane = Pane(server, "sh", bash("user@host:~/proj$ "), root)
    pane.wait(lambda s: "$" in s)
    pane.save("shell_prompt", pane.settle(0.3))
    pane.pane.send_keys("sleep 2", enter=True)
    pane.wait(lambda s: "sleep 2" in s)
    pane.save("shell_running", pane.settle(0.3))
    pane.wait(lambda s: s.rstrip("\n").endswith("$ "), 10)
    pane.save("shell_done", pane.settle(0.3))
    pane.pane.send_keys("printf 'progress 50%%\\n'; sleep 2", enter=True)
    pane.wait(lambda s: any(x.strip() == "progress 50%" for x in s.splitlines()))
    pane.save("shell_percent_output", pane.settle(0.3))
    root_pane = Pane(server, "root", bash("root@box:/srv# "), root)
    root_pane.wait(lambda s: "#" in s)
    root_pane.save("shell_root_prompt", root_pane.settle(0.3))


def main() -> None:
    wanted = sys.argv[1:] or ["claude", "interrupts", "esc_more", "sim", "shell"]
    os.chdir(TESTS.parent)  # `python -m sessions.sim` must find the package
    with tempfile.TemporaryDirectory(prefix="podium-screens-", ignore_cleanup_errors=True) as tmp:
        # The socket in the temp dir: tmux leaves its socket file behind when it exits.
        server = libtmux.Server(socket_path=str(Path(tmp) / "tmux"))
        try:
            for name in wanted:
                root = Path(tmp) / name
                root.mkdir()
                captures = {"claude": claude, "interrupts": interrupts, "esc_more": esc_more}
                captures |= {"sim": sim, "shell": shell}
                captures[name](server, root)
        finally:
            server.kill()


if __name__ == "__main__":
    main()
