"""Settings: defaults, TOML, env overrides, and errors that name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors.settings import Settings, SettingsError, documented_keys, load_settings


def test_defaults_without_a_file(tmp_path: Path):
    settings = load_settings(tmp_path / "absent.toml", environ={})
    assert settings == Settings()
    assert settings.tmux.socket == "podium"


def test_file_and_env_overrides(tmp_path: Path):
    file = tmp_path / "config.toml"
    file.write_text('[tmux]\nsocket = "mine"\n[ui]\nstage_size = 4\n')
    settings = load_settings(file, environ={"PODIUM_UI__STAGE_SIZE": "5"})
    assert settings.tmux.socket == "mine"
    assert settings.ui.stage_size == 5
    settings = load_settings(file, environ={"PODIUM_TMUX_SOCKET": "env-sock"})
    assert settings.tmux.socket == "env-sock"


def test_unknown_key_names_file_and_key(tmp_path: Path):
    file = tmp_path / "config.toml"
    file.write_text("[engine]\nsweep_intervall = 2\n")
    with pytest.raises(SettingsError) as err:
        load_settings(file, environ={})
    message = str(err.value)
    assert str(file) in message and "engine.sweep_intervall" in message
    assert "\n" not in message


def test_wrong_type_names_the_key(tmp_path: Path):
    file = tmp_path / "config.toml"
    file.write_text('[ui]\nstage_size = "three"\n')
    with pytest.raises(SettingsError, match=r"ui\.stage_size"):
        load_settings(file, environ={})


@pytest.mark.parametrize("name", ["a.b", "a:b", "#(id)", "x;", "", "a b"])
def test_the_tmux_session_name_is_a_plain_word(tmp_path: Path, name: str):
    # tmux renames 'a.b' to 'a_b' (and `-t =a.b` means window b of a): podium
    # would never find its session again; '#' and ';' mean something to tmux.
    with pytest.raises(SettingsError, match=r"tmux\.session_name"):
        load_settings(tmp_path / "none.toml", environ={"PODIUM_TMUX__SESSION_NAME": name})


def test_invalid_toml(tmp_path: Path):
    file = tmp_path / "config.toml"
    file.write_text("[tmux\nsocket=1")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(file, environ={})


def test_bad_env_value_names_the_key(tmp_path: Path):
    with pytest.raises(SettingsError, match=r"engine\.sweep_interval"):
        load_settings(tmp_path / "none.toml", environ={"PODIUM_ENGINE__SWEEP_INTERVAL": "fast"})


def test_every_key_is_documented():
    rows = documented_keys()
    assert rows
    assert all(doc for _key, _default, doc in rows), [k for k, _, d in rows if not d]


def test_keys_section_remaps_and_rejects_blanks(tmp_path: Path):
    file = tmp_path / "config.toml"
    file.write_text('[keys]\nnext = "tab, n"\n')
    settings = load_settings(file, environ={"PODIUM_KEYS__QUIT": "ctrl+q"})
    assert settings.keys.next == "tab, n" and settings.keys.quit == "ctrl+q"
    assert settings.keys.up == "up,k"
    file.write_text('[keys]\nkill = "x y"\n')
    with pytest.raises(SettingsError, match=r"keys\.kill"):
        load_settings(file, environ={})


@pytest.mark.parametrize(
    "url", ["http://example.com/api/oauth/usage", "ftp://127.0.0.1/x", "api.anthropic.com"]
)
def test_an_endpoint_url_that_would_leak_the_token_is_refused(tmp_path: Path, url: str):
    file = tmp_path / "config.toml"
    file.write_text(f'[usage]\nendpoint_url = "{url}"\n')
    with pytest.raises(SettingsError) as err:
        load_settings(file, environ={})
    message = str(err.value)
    assert "usage.endpoint_url" in message and "https" in message and "\n" not in message
    file.write_text('[usage]\nendpoint_url = "http://127.0.0.1:8080/usage"\n')
    assert load_settings(file, environ={}).usage.endpoint_url.startswith("http://127.0.0.1")


def test_pass_env_takes_names_and_patterns(tmp_path: Path):
    file = tmp_path / "config.toml"
    file.write_text('[agents]\npass_env = ["MY_TOOL_*", "GOPATH"]\n')
    assert load_settings(file, environ={}).agents.pass_env == ["MY_TOOL_*", "GOPATH"]
    file.write_text('[agents]\npass_env = ["A B"]\n')
    with pytest.raises(SettingsError, match=r"agents\.pass_env"):
        load_settings(file, environ={})
