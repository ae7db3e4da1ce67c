"""Screen profiles against real screens, and users' rules from config."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors.settings import SettingsError, load_settings
from sessions.profiles import BUILTIN, Profile, Rule, build_profiles
from sessions.state import State

SCREENS = Path(__file__).parent / "screens"


def screen(name: str) -> str:
    return (SCREENS / f"{name}.txt").read_text(encoding="utf-8")


def verdict(agent: str, text: str, profiles: dict[str, Profile] | None = None) -> State | None:
    profile = (profiles or BUILTIN)[agent]
    seen = profile.observe(profile.tail(text))
    return seen.state if seen else None


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
        # podium's sim, captured
        ("sim_start", State.WAITING),
        ("sim_busy", State.BUSY),
        ("sim_done", State.WAITING),
        ("sim_permission", State.PERMISSION),
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
    assert verdict(agent, screen(name)) is expected


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
    assert verdict("claude", text) is State.WAITING


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
    assert seen is not None and (seen.state, seen.detail) == (State.IDLE, "lambda prompt")
    asks = shell.observe(shell.tail("Continue? [y/N]"))
    assert asks is not None and asks.state is State.PERMISSION
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
