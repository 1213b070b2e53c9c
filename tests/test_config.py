"""Settings file: defaults, user overrides, and clear errors for a broken file."""

from __future__ import annotations

import pytest

from jarvis_desktop import config, models
from jarvis_desktop.config import Settings, load_settings, save_settings
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
