"""Screen profiles against real screens, users' rules from config, and the pieces of the
engine's watch that need no tmux (change detection, backoff, process activity)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collectors.settings import Settings, SettingsError, load_settings
from collectors.store import open_store
from sessions.activity import Activity, ActivityMeter
from sessions.engine import watch as watch_module
from sessions.engine.watch import Backoff, PaneWatch, Sighting, _due, _Seen
from sessions.profiles import BUILTIN, TYPED_DETAIL, Observation, Profile, Rule, build_profiles
from sessions.registry import SessionRecord
from sessions.retry import wait_for
from sessions.state import Source, State
from sessions.tmux import PaneInfo

SCREENS = Path(__file__).parent / "screens"


def screen(name: str) -> str:
    return (SCREENS / f"{name}.txt").read_text(encoding="utf-8")


def verdict(agent: str, text: str, profiles: dict[str, Profile] | None = None) -> State | None:
    profile = (profiles or BUILTIN)[agent]
    seen = profile.observe(profile.tail(text))
    return seen.shows if seen else None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # Claude Code 2.1.328, captured (tests/unit/screens/capture.py)
        ("claude_start", State.WAITING),
        ("claude_busy", State.BUSY),  # the input box shows while it works: busy wins
        ("claude_done", State.WAITING),
        ("claude_typing", State.LIMITED),  # typing under a limit notice: still limited
        ("claude_permission_write", State.PERMISSION),  # "Do you want to create x.txt?"
        ("claude_permission_bash", State.PERMISSION),  # "Do you want to proceed?"
        ("claude_answer_asks", State.WAITING),  # an answer quoting a dialog is no dialog
        ("claude_limit", State.LIMITED),  # "You've hit your 5-hour limit · resets 7pm"
        ("claude_limit_api_key", State.LIMITED),  # "API Error: Request rejected (429)"
        ("claude_trust", State.PERMISSION),
        # What the person's Esc or No leaves (no hook fires), and a retry loop.
        ("claude_esc_restored", "interrupted"),  # Esc before any output: prompt back in the box
        ("claude_esc_interrupted", "interrupted"),  # "Interrupted · What should Claude do…"
        ("claude_dialog_esc", "interrupted"),  # Esc at a dialog: "Rejected write to …"
        ("claude_dialog_no", "interrupted"),  # "No": the same
        ("claude_retrying", "retrying"),  # "API error · retrying in 1s · attempt 1/10"
        # Esc pressed more than once: the prompt cleared, the rewind menu.
        ("claude_esc_cleared", State.WAITING),  # the watchdog reads it as the person's
        ("claude_rewind", "interrupted"),  # "Restore the code and/or conversation …"
        ("claude_rewind_empty", "interrupted"),  # "Nothing to rewind to yet."
        # podium's sim, captured
        ("sim_start", State.WAITING),
        ("sim_busy", State.BUSY),
        ("sim_busy_narrow", State.BUSY),  # redrawn at 25 columns: "esc to interrupt" whole
        ("sim_done", State.WAITING),
        ("sim_permission", State.PERMISSION),
        ("sim_permission_narrow", State.PERMISSION),  # at 22 columns the question wraps
        ("sim_limit", State.LIMITED),
        # bash, captured with -N (the prompt keeps its trailing space)
        ("shell_prompt", State.IDLE),
        ("shell_root_prompt", State.IDLE),
        ("shell_done", State.IDLE),
        ("shell_running", None),  # no prompt: process activity decides
        ("shell_percent_output", None),  # "progress 50%" is output, not a prompt
        # Codex CLI and Aider, written from their texts
        ("codex_working", State.BUSY),
        ("codex_approval_command", State.PERMISSION),
        ("codex_approval_edits", State.PERMISSION),
        ("codex_done", State.WAITING),
        ("codex_limit", State.LIMITED),
        ("aider_prompt", State.WAITING),
        ("aider_confirm", State.PERMISSION),
        ("aider_waiting_llm", State.BUSY),
        ("aider_done", State.WAITING),
    ],
)
def test_builtin_profiles_read_real_screens(name: str, expected: State | None):
    agent = name.split("_")[0]
    assert verdict(agent, screen(name)) == expected


def test_every_fixture_is_checked():
    names = {p.stem for p in SCREENS.glob("*.txt")}
    params = test_builtin_profiles_read_real_screens.pytestmark[0].args[1]
    assert names == {name for name, _ in params}


def test_a_limit_further_up_is_no_longer_news():
    """A turn after the limit notice: the screen is at its prompt again."""
    text = screen("claude_limit_api_key").replace(
        "rate limit.\n",
        "rate limit.\n\n❯ REPLY back to work\n\n● back to work\n\n✻ Baked for 0s\n",
        1,
    )
    assert "● back to work" in text
    assert verdict("claude", text) == State.WAITING


def test_the_sim_between_two_spinner_frames_is_not_at_its_prompt():
    """The submitted "> prompt" line under a rule, without the closing rule, is no input box."""
    busy = screen("sim_busy")
    between_frames = "\n".join(x for x in busy.split("\n") if "esc to interrupt" not in x)
    assert verdict("sim", between_frames) is None


def test_tail_counts_non_blank_lines_and_drops_trailing_blanks():
    profile = Profile("x", (), lines=2)
    assert profile.tail("a\nb\n\n\nc\n\n  \n") == "b\n\n\nc"
    assert profile.tail("only\n\n") == "only"
    assert profile.tail("") == ""
    # The shell profile looks at the last line only, trailing space and all.
    assert BUILTIN["shell"].tail("$ ls\nfile\nu@h:~$ \n\n") == "u@h:~$ "


def test_a_rule_cannot_report_a_state_a_screen_cannot_show():
    with pytest.raises(ValueError):
        Rule.of("x", State.EXITED)


# -- users' profiles ------------------------------------------------------------------------
def _config(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "config.toml"
    file.write_text(text, encoding="utf-8")
    return file


def test_config_rules_come_before_the_builtin_ones(tmp_path: Path):
    file = _config(
        tmp_path,
        "[profiles.shell]\n"
        'rules = [{pattern = "^λ \\\\Z", state = "idle", detail = "lambda prompt"},\n'
        '         {pattern = "Continue\\\\? \\\\[y/N\\\\]", state = "permission"}]\n'
        "lines = 3\n",
    )
    profiles = build_profiles(load_settings(file, environ={}).profiles)
    shell = profiles["shell"]
    assert shell.lines == 3
    assert shell.rules[-1] == BUILTIN["shell"].rules[0]  # the built-in rule stays, last
    seen = shell.observe(shell.tail("make\nλ "))
    assert seen is not None and (seen.shows, seen.detail) == (State.IDLE, "lambda prompt")
    asks = shell.observe(shell.tail("Continue? [y/N]"))
    assert asks is not None and asks.shows == State.PERMISSION
    assert asks.detail.startswith("permission: ")
    assert shell.observe(shell.tail("u@h:~$ ")) is not None  # built-in still applies
    assert profiles["claude"] == BUILTIN["claude"]  # others untouched


def test_config_can_replace_rules_and_the_hook_silence(tmp_path: Path):
    file = _config(
        tmp_path,
        "[profiles.claude]\nreplace = true\nhooks_silent_after = 0\n"
        'rules = [{pattern = "READY", state = "waiting"}]\n',
    )
    claude = build_profiles(load_settings(file, environ={}).profiles)["claude"]
    assert len(claude.rules) == 1 and claude.hooks_silent_after == 0
    assert claude.lines == BUILTIN["claude"].lines
    assert claude.observe(claude.tail(screen("claude_busy"))) is None


def test_a_bad_regex_names_the_file_and_the_key(tmp_path: Path):
    file = _config(
        tmp_path, '[profiles.codex]\nrules = [{pattern = "(unclosed", state = "busy"}]\n'
    )
    with pytest.raises(SettingsError) as err:
        load_settings(file, environ={})
    message = str(err.value)
    assert str(file) in message
    assert "profiles.codex.rules.0.pattern" in message and "regular expression" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[profiles.shell]\nrules = [{pattern = "x", state = "exited"}]\n', "state"),
        ('[profiles.shell]\nrules = [{pattern = "x", state = "busy", colour = 1}]\n', "colour"),
        ("[profiles.vim]\nlines = 3\n", "profiles.vim"),
        ("[profiles.shell]\nlines = 0\n", "profiles.shell.lines"),
    ],
)
def test_bad_profile_keys_are_named(tmp_path: Path, text: str, key: str):
    with pytest.raises(SettingsError, match=key.replace(".", r"\.")):
        load_settings(_config(tmp_path, text), environ={})


# -- the watch's pieces -------------------------------------------------------------------
def _pane(activity: int) -> PaneInfo:
    return PaneInfo(
        "$0", "s", "@0", "w", 0, "%0", 1, False, None, "bash", True, True, False, activity, ""
    )


def test_a_pane_is_captured_when_its_window_showed_output_since():
    seen = _Seen()
    assert _due(seen, _pane(100), now=100.5)  # never captured
    seen.activity, seen.captured_at = 100, 100.2
    # Same second as the capture: output after it would leave the marker at 100.
    assert _due(seen, _pane(100), now=101.0)
    seen.captured_at = 101.05
    assert not _due(seen, _pane(100), now=105.0)  # a capture after that second: settled
    assert _due(seen, _pane(103), now=105.0)  # new output


def test_sightings_apply_the_time_rules():
    assert Sighting("s").change(State.BUSY) is None  # no verdict, no change
    at_prompt = Sighting("s", screen=Observation(State.WAITING, "input prompt"))
    change = at_prompt.change(State.BUSY)
    assert change is not None and change.state is State.WAITING
    assert change.source is Source.SCREEN and change.detail == "input prompt"
    assert at_prompt.change(State.STARTING).state is State.IDLE  # type: ignore[union-attr]
    quiet_shell = Sighting("s", busy=False, quiet=State.IDLE)
    change = quiet_shell.change(State.BUSY)
    assert change is not None and change.state is State.IDLE
    assert change.source is Source.PROCESS


def test_backoff_grows_while_quiet_and_snaps_back():
    backoff = Backoff(1.0, 5.0, 1.5)
    gaps = [backoff.next(lively=False) for _ in range(6)]
    assert gaps == [1.5, 2.25, 3.375, 5.0, 5.0, 5.0]
    assert backoff.next(lively=True) == 1.0
    assert Backoff(2.0, 1.0, 1.5).next(lively=False) == 2.0  # a max below the base is the base


def test_activity_sees_children_and_cpu():
    meter = ActivityMeter()
    shell = subprocess.Popen(
        [sys.executable, "-c", "import subprocess; subprocess.run(['sleep', '30'])"]
    )
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        assert wait_for(lambda: meter.sample([shell.pid])[shell.pid].children == 1, 10)
        first = meter.sample([burner.pid])[burner.pid]  # the shell was dropped: not asked
        assert first.cpu is None and first.busy(0.05) is None
        assert wait_for(lambda: meter.sample([burner.pid])[burner.pid].busy(0.05) is True, 10)
        quiet = meter.sample([shell.pid])
        assert meter.sample([shell.pid])[shell.pid].busy(0.5, children_busy=True) is True
        assert quiet[shell.pid].cpu is None  # first sample after a pause
        sleeper = meter.sample([shell.pid])[shell.pid]
        assert sleeper.busy(0.5) is False  # the sleep burns no CPU: quiet unless children count
    finally:
        shell.kill()
        burner.kill()
        shell.wait()
        burner.wait()
    assert meter.sample([burner.pid]) == {}  # gone


def test_activity_verdicts():
    assert Activity(cpu=None, children=0).busy(0.05) is None
    assert Activity(cpu=None, children=2).busy(0.05, children_busy=True) is True
    assert Activity(cpu=0.01, children=2).busy(0.05) is False
    assert Activity(cpu=0.2, children=0).busy(0.05) is True


# -- the watch with a stand-in engine (no tmux) -------------------------------------------
class _Tmux:
    def __init__(self, screens: dict[str, str]) -> None:
        self.screens = screens
        self.asked: list[list[str]] = []

    def capture_screens(self, pane_ids: list[str]) -> dict[str, str]:
        self.asked.append(list(pane_ids))
        return {p: self.screens[p] for p in pane_ids if p in self.screens}


class _Engine:
    def __init__(self, tmp_path: Path, screens: dict[str, str]) -> None:
        self.settings = Settings()
        self.tmux = _Tmux(screens)
        self.conn = open_store(tmp_path / "podium.duckdb")

    async def blocking(self, fn, *args):  # the real one runs fn in a worker thread
        return fn(*args)


def _watch(engine: _Engine) -> PaneWatch:
    s = engine.settings
    return PaneWatch(engine.tmux, engine.conn, engine.blocking, s.engine, s.profiles)  # type: ignore[arg-type]


def _rec(agent: str, pane: str, *, hooks: bool = False, age: float = 60.0) -> SessionRecord:
    return SessionRecord(
        id=f"id-{pane}",
        name=f"n-{pane}",
        agent=agent,
        argv=[],
        cwd="/",
        tmux_socket="x",
        pane_id=pane,
        pid=os.getpid(),
        settings_path="/settings.json" if hooks else None,
        created_at=datetime.now(UTC) - timedelta(seconds=age),
    )


def _live(rec: SessionRecord, activity: int) -> tuple[SessionRecord, PaneInfo]:
    pane = replace(_pane(activity), pane_id=rec.pane_id or "", pid=rec.pid)
    return rec, pane


def test_the_watch_captures_only_changed_panes_and_reports_new_verdicts(tmp_path: Path):
    engine = _Engine(tmp_path, {"%1": screen("shell_prompt"), "%2": screen("sim_busy")})
    watch = _watch(engine)
    shell, sim = _rec("shell", "%1"), _rec("sim", "%2")
    old = int(datetime.now(UTC).timestamp()) - 10  # output long before the first capture

    sightings, lively = asyncio.run(watch.look([_live(shell, old), _live(sim, old)]))
    assert engine.tmux.asked == [["%1", "%2"]]  # one tmux call for both
    assert {s.session_id: s.screen.shows for s in sightings if s.screen} == {
        shell.id: State.IDLE,
        sim.id: State.BUSY,
    }
    assert lively

    # Nothing printed since: no capture, no verdict, nothing moves.
    sightings, lively = asyncio.run(watch.look([_live(shell, old), _live(sim, old)]))
    assert engine.tmux.asked == [["%1", "%2"]]
    assert sightings == [] and not lively

    # The sim's window printed, but the screen's tail is the same: captured, not reported.
    sightings, lively = asyncio.run(watch.look([_live(shell, old), _live(sim, old + 5)]))
    assert engine.tmux.asked[-1] == ["%2"] and sightings == [] and not lively

    # The sim finished its turn.
    engine.tmux.screens["%2"] = screen("sim_done")
    sightings, _ = asyncio.run(watch.look([_live(shell, old), _live(sim, old + 6)]))
    [seen] = sightings
    assert seen.screen is not None and seen.screen.shows == State.WAITING
    assert seen.change(State.BUSY).state is State.WAITING  # type: ignore[union-attr]


def test_the_watch_asks_the_process_tree_when_the_screen_says_nothing(tmp_path: Path):
    engine = _Engine(tmp_path, {"%1": screen("shell_running")})
    watch = _watch(engine)
    shell = _rec("shell", "%1")  # its pid is this test process: a tree with no child… yet
    old = int(datetime.now(UTC).timestamp()) - 10
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        sightings, lively = asyncio.run(watch.look([_live(shell, old)]))
    finally:
        child.kill()
        child.wait()
    [seen] = sightings
    assert seen.screen is None and seen.busy is True and seen.quiet is State.IDLE
    assert lively and watch.stats.process_samples == 1
    assert seen.change(State.IDLE).source is Source.PROCESS  # type: ignore[union-attr]


def test_hooked_sessions_are_read_only_when_their_hooks_are_silent(tmp_path: Path):
    engine = _Engine(tmp_path, {})
    watch = _watch(engine)
    claude = BUILTIN["claude"]
    now = datetime.now(UTC).timestamp()
    assert not watch._hooks_work(_rec("claude", "%1"), claude, now)  # started with --no-hooks
    assert not watch._hooks_work(_rec("shell", "%1"), BUILTIN["shell"], now)
    assert watch._hooks_work(_rec("claude", "%2", hooks=True, age=2), claude, now)  # early days
    silent = _rec("claude", "%3", hooks=True, age=30)
    assert not watch._hooks_work(silent, claude, now)  # 30 s, no hook: read the screen
    watch.hook_seen(silent.id)
    assert watch._hooks_work(silent, claude, now) and watch.take_heard()
    assert not watch.take_heard()
    # An engine restarted after the hooks spoke finds them in the database.
    spoke = _rec("sim", "%4", hooks=True, age=300)
    engine.conn.execute(
        "INSERT INTO hook_events (ts, session_id, event) VALUES (now(), ?, 'Stop')", [spoke.id]
    )
    assert _watch(engine)._hooks_work(spoke, BUILTIN["sim"], now)


# -- the watchdog: a hooked session's screen, while its state waits on an event ----------
def _hooked(state: State, since_s_ago: float) -> SessionRecord:
    rec = _rec("claude", "%9", hooks=True)
    rec.state = state.value
    rec.state_since = datetime.now(UTC) - timedelta(seconds=since_s_ago)
    return rec


def test_the_watchdog_corrects_a_state_on_its_second_look(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(watch_module, "CONFIRM_AFTER", 0.0)  # two looks, no wait between
    engine = _Engine(tmp_path, {"%9": screen("claude_esc_interrupted")})
    watch = _watch(engine)
    rec = _hooked(State.BUSY, 5)
    watch.hook_seen(rec.id)
    now = int(datetime.now(UTC).timestamp())

    first, _ = asyncio.run(watch.look([_live(rec, now)]))
    assert first == [] and watch.recheck  # one look is a doubt, and asks for a second
    second, _ = asyncio.run(watch.look([_live(rec, now)]))
    [seen] = second
    change = seen.change(State.BUSY)
    assert change is not None and (change.state, change.source) == (State.IDLE, Source.WATCHDOG)
    assert "Interrupted" in change.detail


def test_the_watchdog_leaves_states_that_no_event_ends_and_agreeing_screens(
    tmp_path: Path, monkeypatch
):
    monkeypatch.setattr(watch_module, "CONFIRM_AFTER", 0.0)
    engine = _Engine(tmp_path, {"%9": screen("claude_done")})
    watch = _watch(engine)
    now = int(datetime.now(UTC).timestamp())
    waiting = _hooked(State.WAITING, 5)  # a hook (Stop) ended the turn: the screen is not read
    watch.hook_seen(waiting.id)
    for _ in range(2):
        assert asyncio.run(watch.look([_live(waiting, now)]))[0] == []
    assert engine.tmux.asked == []
    engine.tmux.screens["%9"] = screen("claude_busy")
    busy = _hooked(State.BUSY, 5)  # the screen agrees: nothing to say, nothing to recheck
    for _ in range(2):
        assert asyncio.run(watch.look([_live(busy, now + 1)]))[0] == []
        assert not watch.recheck


def test_the_watchdog_distrusts_a_screen_older_than_the_state(tmp_path: Path, monkeypatch):
    """UserPromptSubmit arrives while the prompt is still drawn: no correction from that."""
    monkeypatch.setattr(watch_module, "CONFIRM_AFTER", 0.0)
    engine = _Engine(tmp_path, {"%9": screen("claude_done")})
    watch = _watch(engine)
    rec = _hooked(State.BUSY, -3600)  # the state began after every capture of this test
    watch.hook_seen(rec.id)
    now = int(datetime.now(UTC).timestamp())
    for _ in range(3):
        assert asyncio.run(watch.look([_live(rec, now)]))[0] == []
        assert watch.recheck  # still in doubt: looks again soon
    # The screen caught up with the hook: the doubt is gone.
    engine.tmux.screens["%9"] = screen("claude_busy")
    assert asyncio.run(watch.look([_live(rec, now + 1)]))[0] == []
    assert not watch.recheck


def test_the_watchdog_waits_between_its_two_looks(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(watch_module, "CONFIRM_AFTER", 60.0)
    engine = _Engine(tmp_path, {"%9": screen("claude_dialog_esc")})
    watch = _watch(engine)
    rec = _hooked(State.PERMISSION, 5)
    watch.hook_seen(rec.id)
    now = int(datetime.now(UTC).timestamp())
    # Two looks less than CONFIRM_AFTER apart: a frame between two draws is no verdict.
    assert asyncio.run(watch.look([_live(rec, now)]))[0] == []
    assert asyncio.run(watch.look([_live(rec, now)]))[0] == []
    assert watch.recheck


def test_text_in_the_box_early_in_a_turn_is_the_prompt_just_sent(tmp_path: Path):
    # Seen live under load: podium typed a prompt, the session went busy, and the box
    # still showed the text for over CONFIRM_AFTER before Claude Code took it.
    watch = _watch(_Engine(tmp_path, {}))
    since = datetime.now(UTC)
    rec = replace(_rec("claude", "%1", hooks=True), state="busy", state_since=since)
    typed = Observation("interrupted", TYPED_DETAIL)
    seen = _Seen(observation=typed)
    t0 = since.timestamp()
    assert watch._doubt(rec, seen, captured=True, at=t0 + 0.1) is None
    assert watch._doubt(rec, seen, captured=True, at=t0 + 0.9) is None  # two looks: no
    assert watch._doubt(rec, seen, captured=True, at=t0 + 3.1) is None  # first after
    sighting = watch._doubt(rec, seen, captured=True, at=t0 + 3.5)
    assert sighting is not None and sighting.change(State.BUSY).state is State.IDLE  # type: ignore[union-attr]
    # Esc's own verdict ("Interrupted") is not held back.
    esc = _Seen(observation=Observation("interrupted", "interrupted"))
    assert watch._doubt(rec, esc, captured=True, at=t0 + 0.1) is None
    assert watch._doubt(rec, esc, captured=True, at=t0 + 0.5) is not None
