"""Settings file: defaults, user overrides, and clear errors for a broken file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from jarvis_desktop import config, models
from jarvis_desktop.config import RemoteSettings, Settings, load_settings, save_settings
from jarvis_desktop.errors import BadInputError, ModelNotFoundError


def test_home_env_puts_data_and_settings_in_one_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(tmp_path / "home"))
    assert config.data_dir() == tmp_path / "home"
    assert config.settings_path() == tmp_path / "home" / "settings.toml"
    assert config.database_path().parent == tmp_path / "home"


def test_missing_file_gives_defaults(tmp_path):
    s = load_settings(tmp_path / "nope.toml")
    assert s.stt.compute_type == "int8" and s.chat.model_path == ""


def test_round_trip_keeps_user_values(tmp_path):
    s = Settings()
    s.chat.model_path = "/models/big.gguf"
    s.stt.beam_size = 3
    s.audio.vad_threshold_db = 9.5
    path = save_settings(s, tmp_path / "settings.toml")
    back = load_settings(path)
    assert back.chat.model_path == "/models/big.gguf"
    assert back.stt.beam_size == 3 and back.audio.vad_threshold_db == 9.5


@pytest.mark.parametrize(
    "text, needle",
    [
        ("[chat\nmodel_path = 1", "not a valid settings file"),
        ("[chat]\nmodle_path = 'x'", "unknown setting 'modle_path'"),
        ("[chat]\nn_ctx = 'big'", "must be int"),
        ("[voices]\nx = 1", "unknown section"),
    ],
)
def test_broken_settings_file_is_a_clear_error(tmp_path, text, needle):
    path = tmp_path / "settings.toml"
    path.write_text(text)
    with pytest.raises(BadInputError, match=needle):
        load_settings(path)


def test_configured_model_paths_that_do_not_exist_name_the_path(tmp_path):
    s = Settings()
    s.chat.model_path = str(tmp_path / "missing.gguf")
    s.stt.model_path = str(tmp_path / "no-whisper")
    with pytest.raises(ModelNotFoundError, match="missing.gguf"):
        models.chat_model_path(s)
    with pytest.raises(ModelNotFoundError, match="no-whisper"):
        models.whisper_model_path(s)


def test_embedded_defaults_are_found():
    s = Settings()
    assert models.chat_model_path(s).suffix == ".gguf"
    assert (models.whisper_model_path(s) / "model.bin").is_file()


def test_old_settings_file_with_removed_keys_still_loads(tmp_path, caplog):
    """``[audio] sample_rate`` and ``[training] remote_address`` were removed (nothing read them): a file written
    before still loads, the values are ignored with a warning, and the next save drops them."""
    path = tmp_path / "settings.toml"
    path.write_text("[audio]\nsample_rate = 16000\ndevice = 'mic'\n[training]\nremote_address = 'user@gpu'\nnice = 5\n")
    with caplog.at_level("WARNING", logger="jarvis_desktop.config"):
        s = load_settings(path)
    assert s.audio.device == "mic" and s.training.nice == 5
    assert "sample_rate" in caplog.text and "remote_address" in caplog.text
    saved = save_settings(s, tmp_path / "again.toml").read_text()
    assert "sample_rate" not in saved and "remote_address" not in saved
    assert not hasattr(s.audio, "sample_rate") and not hasattr(s.training, "remote_address")


@pytest.mark.parametrize(
    "text, needle",
    [
        ("[to_dict]\nx = 1", r"unknown section \[to_dict\]"),
        ("[remote]\nplacement = 'mars'", r"setting 'placement' = 'mars' is not allowed: choose one of 'auto', 'local'"),
        ("[remote]\nretries = -1", r"\[remote\]: setting 'retries' = -1 is out of range: allowed 0 to 10"),
        ("[remote]\nretries = 1000000\nbackoff_s = 0", r"'retries' = 1000000 is out of range: allowed 0 to 10"),
        ("[remote]\nbackoff_s = 1e9", r"'backoff_s' = 1000000000.0 is out of range: allowed 0 to 60"),
        ("[remote]\nbackoff_s = nan", r"'backoff_s' = nan is out of range"),
        ("[nlu]\ntimezone = 'Mars/Olympus'", r"\[nlu\]: setting 'timezone' = 'Mars/Olympus' is not a known time zone"),
        ("[chat]\nn_ctx = -5", r"\[chat\]: setting 'n_ctx' = -5 is out of range: allowed 64 to 1048576"),
        ("[chat]\nbackend = 'cuda'", r"'backend' = 'cuda' is not allowed"),
        ("[stt]\nmodel = 'large'", r"'model' = 'large' is not allowed: choose one of 'tiny.en', 'base'"),
        ("[stt]\nlanguage = 'klingon'", r"'language' = 'klingon' is not allowed: use 'auto'"),
        ("[speech]\nvolume = 3", r"'volume' = 3 is out of range: allowed 0 to 1"),
        ("[training]\nnice = 40", r"'nice' = 40 is out of range: allowed 0 to 19"),
    ],
)
def test_values_out_of_range_are_rejected_at_load_naming_section_key_and_range(tmp_path, text, needle):
    path = tmp_path / "settings.toml"
    path.write_text(text)
    with pytest.raises(BadInputError, match=needle) as info:
        load_settings(path)
    assert str(path) in str(info.value) and info.value.exit_code == 2


def test_values_at_the_edges_of_their_range_load(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text(
        "[remote]\nretries = 0\nbackoff_s = 60\nplacement = 'remote'\n[nlu]\ntimezone = 'Europe/Lisbon'\n"
        "[stt]\nlanguage = 'auto'\nmodel = 'base'\n[chat]\nn_ctx = 64\nbackend = 'llama.cpp'\n"
    )
    s = load_settings(path)
    assert s.remote.retries == 0 and s.remote.backoff_s == 60.0 and s.nlu.timezone == "Europe/Lisbon"
    assert s.chat.n_ctx == 64 and s.stt.language == "auto"


def test_every_limited_setting_has_a_default_inside_its_limits():
    defaults = Settings()
    for section, limits in config.LIMITS.items():
        for key, limit in limits.items():
            value = getattr(getattr(defaults, section), key)
            if isinstance(limit[0], str):
                assert value in limit, (section, key)
            else:
                assert limit[0] <= value <= limit[1], (section, key)


def test_deeply_nested_array_is_a_clear_error_not_a_recursion_error(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text("[chat]\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(BadInputError, match="nested too deeply"):
        load_settings(path)


def test_settings_file_that_is_a_directory_is_a_clear_error(tmp_path):
    path = tmp_path / "settings.toml"
    path.mkdir()
    with pytest.raises(BadInputError, match=f"{path}: cannot read the settings file"):
        load_settings(path)


def test_profile_directory_that_cannot_be_created_is_a_clear_error(tmp_path, monkeypatch):
    """A home under a file (NotADirectoryError; chmod does not stop root, so this stands in for a read-only dir)."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(blocker / "home"))
    with pytest.raises(BadInputError, match="cannot create the settings directory .*file/home") as info:
        load_settings()
    assert "JARVIS_DESKTOP_HOME" in info.value.user_message()
    with pytest.raises(BadInputError, match="cannot create the data directory"):
        config.database_path()


GUI_PROBE = """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from jarvis_desktop.ui.app import run_gui
from jarvis_desktop.ui.main_window import MainWindow
app = QApplication(["jarvis"])
def look():
    window = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow)][0]
    print("SHOWN:", window.isVisible(), "ERROR:", window.last_error, flush=True)
    window.quit_app()
QTimer.singleShot(2000, look)
print("EXIT:", run_gui(["jarvis"]))
"""


def test_gui_opens_with_defaults_and_shows_the_error_when_the_settings_file_is_bad(tmp_path):
    """The real ``run_gui`` (offscreen) with ``placement = "mars"``: the window opens and says why."""
    (tmp_path / "settings.toml").write_text('[remote]\nplacement = "mars"\n')
    env = dict(os.environ, JARVIS_DESKTOP_HOME=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    res = subprocess.run([sys.executable, "-c", GUI_PROBE], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "SHOWN: True ERROR: Settings file not used, defaults in use:" in res.stdout
    assert "'placement' = 'mars' is not allowed" in res.stdout and "EXIT: 0" in res.stdout


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://gpu-box:8000/v1", "http://gpu-box:8000/v1"),
        ("https://bob:pa%40ss@host/v1", "https://bob:***@host/v1"),
        ("http://host/v1?api_key=abc&model=x", "http://host/v1?api_key=***&model=x"),
        ("http://host/v1?X-Auth-Token=abc", "http://host/v1?X-Auth-Token=***"),
        ("not a url", "not a url"),
        ("", ""),
    ],
)
def test_the_remote_url_is_shown_without_its_secrets(url, shown):
    assert RemoteSettings(base_url=url).shown_url == shown


def test_remote_cost_and_lifecycle_settings_round_trip_and_bad_commands_are_refused(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text(
        "[remote]\nprice_per_hour = 0.0638\nmonthly_budget_usd = 20\n"
        'start_command = ["gcloud", "compute", "instances", "start", "my-vm"]\nidle_stop_minutes = 15\n'
    )
    remote = load_settings(path).remote
    assert remote.price_per_hour == 0.0638 and remote.monthly_budget_usd == 20.0
    assert remote.start_command == ["gcloud", "compute", "instances", "start", "my-vm"] and remote.stop_command == []
    saved = save_settings(load_settings(path), tmp_path / "again.toml")
    assert load_settings(saved).remote.start_command == remote.start_command
    for line, needle in (
        ('start_command = "gcloud compute instances start my-vm"', "must be list"),  # never a shell string
        ('stop_command = ["gcloud", 3]', "list of non-empty strings"),
        ("price_per_hour = -0.5", "out of range"),
        ("budget_warn_fraction = 1.5", "out of range"),
    ):
        path.write_text(f"[remote]\n{line}\n")
        with pytest.raises(BadInputError, match=needle):
            load_settings(path)
