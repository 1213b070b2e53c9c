"""The model catalogue and its downloads, against a real hub-shaped HTTP server on 127.0.0.1 serving real model
files (the embedded SmolLM2 GGUF and Whisper tiny.en directory, under catalogue repo names); the downloaded files
are then loaded by llama.cpp and faster-whisper, and the CLI is run as a user would."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cli_helpers import run_cli
from helpers_hub import FakeHub, SilentServer, closed_port, file_digests

from jarvis_desktop import catalog
from jarvis_desktop.catalog.download import DownloadProgress, check_disk_space, free_disk_bytes
from jarvis_desktop.catalog.installed import MARKER, PART_SUFFIX
from jarvis_desktop.config import Settings, load_settings
from jarvis_desktop.errors import BadInputError, Cancelled
from jarvis_desktop.models import embedded_chat_gguf, embedded_whisper_path

CHAT = catalog.get_entry("qwen2.5-0.5b")  # served with the embedded SmolLM2 GGUF's bytes
STT = catalog.get_entry("whisper-base.en")  # served with the embedded tiny.en directory
STT_SLOW = catalog.get_entry("whisper-small.en")  # the same directory again, for the Ctrl-C test
CHAT_KEY = f"{CHAT.repo_id}/{CHAT.filename}"
GGUF_SIZE = embedded_chat_gguf().stat().st_size


@pytest.fixture(scope="module")
def hub_server():
    with FakeHub() as hub:
        hub.add_file(CHAT.repo_id, CHAT.filename, embedded_chat_gguf())
        hub.add_dir(STT.repo_id, embedded_whisper_path())
        hub.add_dir(STT_SLOW.repo_id, embedded_whisper_path())
        yield hub


@pytest.fixture
def hub(hub_server, monkeypatch):
    """The hub with fresh counters, and downloads allowed (the test session sets HF_HUB_OFFLINE=1 globally).

    ``huggingface_hub.constants.HF_HUB_OFFLINE`` (read once from the environment at that library's import) is set
    True, as in an app process where huggingface_hub was imported while the variable was set: only the environment
    at download time may decide, so every download test here also checks that the catalogue ignores it."""
    import huggingface_hub.constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    hub_server.reset()
    yield hub_server
    hub_server.reset()


@pytest.fixture
def settings(hub, tmp_path) -> Settings:
    s = Settings()
    s.downloads.hub_url = hub.url
    s.downloads.models_dir = str(tmp_path / "models")
    s.downloads.timeout_s = 5.0
    return s


def _gets(hub: FakeHub) -> list[tuple[str, str, str | None]]:
    return [r for r in hub.requests if r[0] == "GET"]


# ---- the catalogue -----------------------------------------------------------------------------------------------
def test_catalogue_entries_are_complete_and_consistent():
    ids = [e.id for e in catalog.CATALOG]
    assert len(ids) == len(set(ids))
    for entry in catalog.CATALOG:
        assert entry.kind in catalog.KINDS and entry.name and entry.description and entry.licence
        assert entry.size_bytes > 10_000_000 and entry.ram_mib >= 100
        assert "/" in entry.repo_id and entry.revision == "main"
        assert entry.sha256 is None  # none verified against the hub yet: never a made-up value
        if entry.kind == "chat":
            assert entry.single_file and entry.filename.endswith(".gguf")
        if entry.kind == "stt":
            assert {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"} <= set(entry.files)
    embedded = {e.id for e in catalog.CATALOG if e.embedded}
    assert embedded == {"smollm2-135m", "whisper-tiny.en", "whisper-base", "all-minilm-l6-v2"}
    assert catalog.get_entry("qwen2.5-3b").licence == "Qwen Research License"
    assert catalog.get_entry("llama-3.2-1b").licence == "Llama 3.2 Community License"
    assert {e.kind for e in catalog.entries()} == set(catalog.KINDS)
    with pytest.raises(BadInputError, match="no model 'gpt-5'"):
        catalog.get_entry("gpt-5")
    with pytest.raises(ValueError, match="sha256"):
        dataclasses.replace(CHAT, sha256="not-a-hash")


def test_embedded_models_are_installed_without_download(tmp_path):
    s = Settings()
    s.downloads.models_dir = str(tmp_path)
    chat = catalog.state(catalog.get_entry("smollm2-135m"), s)
    assert chat.installed and chat.path == embedded_chat_gguf()
    assert chat.footprint_mib == pytest.approx(GGUF_SIZE / 2**20)
    assert catalog.installed_path(catalog.get_entry("whisper-tiny.en"), s) == embedded_whisper_path()
    assert catalog.is_active(catalog.get_entry("smollm2-135m"), s)  # the defaults
    assert catalog.is_active(catalog.get_entry("whisper-tiny.en"), s)
    with pytest.raises(BadInputError, match="nothing to download"):
        catalog.download(catalog.get_entry("smollm2-135m"), s)


# ---- downloads ---------------------------------------------------------------------------------------------------
def test_download_reports_progress_verifies_and_installs(hub, settings):
    import huggingface_hub

    assert huggingface_hub.is_offline_mode()  # huggingface_hub's own switch says offline: the catalogue ignores it
    seen: list[DownloadProgress] = []
    path = catalog.download(CHAT, settings, progress=seen.append)

    assert path == Path(settings.downloads.models_dir) / CHAT.id / CHAT.filename
    assert file_digests(path) == file_digests(embedded_chat_gguf())
    assert seen and seen[-1].phase == "done" and seen[-1].done_bytes == seen[-1].total_bytes == GGUF_SIZE
    assert [p.done_bytes for p in seen] == sorted(p.done_bytes for p in seen)
    assert any(p.phase == "verify" for p in seen)
    # The hub's shape: HEAD on resolve (a 302 to the CDN), one GET of the whole file from the CDN.
    assert hub.requests[0][:2] == ("HEAD", f"/{CHAT.repo_id}/resolve/main/{CHAT.filename}")
    assert [g[1].startswith("/cdn/") for g in _gets(hub)] == [True]
    assert hub.served[CHAT_KEY] == GGUF_SIZE
    marker = json.loads((path.parent / MARKER).read_text())
    assert marker["files"] == [{"name": CHAT.filename, "size": GGUF_SIZE, "sha256": file_digests(path)[0]}]

    state = catalog.state(CHAT, settings)
    assert state.installed and state.path == path and state.partial_bytes == 0
    assert state.footprint_mib == pytest.approx(GGUF_SIZE / 2**20)
    hub.reset()
    assert catalog.download(CHAT, settings) == path
    assert hub.requests == []  # installed: the hub is not asked again


def test_whisper_directory_downloads_with_git_and_lfs_checksums(hub, settings):
    path = catalog.download(STT, settings)
    assert path == Path(settings.downloads.models_dir) / STT.id
    for name in STT.files:
        assert file_digests(path / name) == file_digests(embedded_whisper_path() / name)
    records = {f["name"]: f for f in json.loads((path / MARKER).read_text())["files"]}
    assert "sha256" in records["model.bin"]  # LFS: the hub's X-Linked-Etag
    assert "git-sha1" in records["config.json"]  # stored in git: the hub's ETag is the blob id
    assert not list(path.rglob("*" + PART_SUFFIX))


def test_interrupted_download_resumes_with_a_range_request(hub, settings):
    hub.drop_after[CHAT_KEY] = GGUF_SIZE // 2 + 12345  # the server closes the connection half-way
    with pytest.raises(catalog.DownloadError, match="resume"):
        catalog.download(CHAT, settings)
    part = catalog.entry_dir(CHAT, settings) / (CHAT.filename + PART_SUFFIX)
    first = hub.served[CHAT_KEY]
    assert part.stat().st_size == first == GGUF_SIZE // 2 + 12345
    assert not catalog.is_installed(CHAT, settings)
    assert catalog.state(CHAT, settings).partial_bytes == first

    hub.reset()
    seen: list[DownloadProgress] = []
    path = catalog.download(CHAT, settings, progress=seen.append)
    assert hub.served[CHAT_KEY] == GGUF_SIZE - first  # only the rest was fetched
    assert _gets(hub)[-1][2] == f"bytes={first}-"
    assert seen[0].resumed_bytes == first
    assert file_digests(path) == file_digests(embedded_chat_gguf())
    assert not part.exists()


def test_cancel_stops_within_half_a_second_and_the_next_run_resumes(hub, settings):
    hub.chunk_delay_s = 0.01  # about 6 MB/s: the whole file would take 15 s
    cancel = threading.Event()
    set_at: list[float] = []

    def press_stop() -> None:
        set_at.append(time.monotonic())
        cancel.set()

    timer = threading.Timer(0.5, press_stop)  # the Stop button, pressed on another thread once bytes flow

    def on_progress(p: DownloadProgress) -> None:
        if not timer.is_alive() and not set_at:
            timer.start()

    with pytest.raises(Cancelled, match="resume"):
        catalog.download(CHAT, settings, progress=on_progress, cancel=cancel)
    stopped_after = time.monotonic() - set_at[0]
    assert stopped_after < 0.5
    part = catalog.entry_dir(CHAT, settings) / (CHAT.filename + PART_SUFFIX)
    kept = part.stat().st_size
    assert 0 < kept < GGUF_SIZE

    hub.reset()
    path = catalog.download(CHAT, settings)
    assert [(r["range"], r["sent"]) for r in hub.responses] == [(f"bytes={kept}-", GGUF_SIZE - kept)]
    assert file_digests(path) == file_digests(embedded_chat_gguf())


def test_cancel_cuts_a_stalled_transfer_at_once(hub, settings):
    settings.downloads.timeout_s = 30.0  # the stall alone would take this long to give up
    hub.stall_after[CHAT_KEY] = 5 * 2**20
    part = catalog.entry_dir(CHAT, settings) / (CHAT.filename + PART_SUFFIX)
    cancel = threading.Event()
    result: list[BaseException] = []

    def run() -> None:
        try:
            catalog.download(CHAT, settings, cancel=cancel)
        except BaseException as exc:
            result.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 20
    while not (hub.responses and hub.responses[-1]["sent"] == 5 * 2**20) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # the server has gone silent
    pressed = time.monotonic()
    cancel.set()
    worker.join(5)
    assert not worker.is_alive() and time.monotonic() - pressed < 0.5
    assert isinstance(result[0], Cancelled) and "resume" in str(result[0])
    assert part.stat().st_size == 5 * 2**20


def test_corrupt_file_is_rejected_and_deleted(hub, settings):
    hub.corrupt.add(CHAT_KEY)  # one byte flipped, the original sha256 in the headers
    with pytest.raises(catalog.ChecksumMismatchError, match="corrupt.*deleted"):
        catalog.download(CHAT, settings)
    directory = catalog.entry_dir(CHAT, settings)
    assert not (directory / CHAT.filename).exists() and not (directory / (CHAT.filename + PART_SUFFIX)).exists()
    assert not catalog.is_installed(CHAT, settings)
    # A file stored in git (checked by its git blob SHA-1) is rejected the same way.
    hub.corrupt.add(f"{STT.repo_id}/tokenizer.json")
    with pytest.raises(catalog.ChecksumMismatchError, match="tokenizer.json is corrupt .git-sha1"):
        catalog.download(STT, settings)
    assert not catalog.is_installed(STT, settings)


def test_the_catalogue_sha256_wins_over_the_hub(hub, settings):
    real = file_digests(embedded_chat_gguf())[0]
    other = dataclasses.replace(CHAT, sha256="0" * 64)
    with pytest.raises(catalog.DownloadError, match="not the catalogue's file"):
        catalog.download(other, settings)
    assert _gets(hub) == []  # refused before any byte was fetched
    pinned = dataclasses.replace(CHAT, sha256=real)
    path = catalog.download(pinned, settings)
    assert json.loads((path.parent / MARKER).read_text())["files"][0]["sha256"] == real


def test_missing_repo_or_file_is_a_clear_error(hub, settings):
    with pytest.raises(catalog.DownloadError, match="nobody/nothing/x.gguf .main. was not found on http://127"):
        catalog.download(dataclasses.replace(CHAT, repo_id="nobody/nothing", filename="x.gguf"), settings)
    with pytest.raises(catalog.DownloadError, match="was not found"):
        catalog.download(dataclasses.replace(CHAT, filename="missing.gguf"), settings)


def test_unreachable_hub_fails_fast_with_a_clear_error(hub, settings):
    port = closed_port()
    settings.downloads.hub_url = f"http://127.0.0.1:{port}"
    start = time.monotonic()
    with pytest.raises(catalog.HubUnreachableError, match=f"cannot reach the model hub at http://127.0.0.1:{port}"):
        catalog.download(CHAT, settings)
    assert time.monotonic() - start < 2.0
    assert not Path(settings.downloads.models_dir).exists()  # nothing written


def test_hung_hub_gives_up_after_the_timeout(hub, settings):
    settings.downloads.timeout_s = 1.0
    with SilentServer() as silent:
        settings.downloads.hub_url = silent.url
        start = time.monotonic()
        with pytest.raises(catalog.HubUnreachableError, match="did not answer within 1 s"):
            catalog.download(CHAT, settings)
        elapsed = time.monotonic() - start
    assert 0.9 < elapsed < 2.5


def test_offline_mode_gives_a_clear_message(hub, settings, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(catalog.HubUnreachableError, match="model downloads are off: HF_HUB_OFFLINE is set"):
        catalog.download(CHAT, settings)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")  # huggingface_hub's other offline switch
    with pytest.raises(catalog.HubUnreachableError, match="model downloads are off: TRANSFORMERS_OFFLINE is set"):
        catalog.download(CHAT, settings)
    assert hub.requests == []


def test_not_enough_disk_is_refused_before_writing(hub, settings, tmp_path):
    free = shutil.disk_usage(tmp_path).free  # a real statvfs of the real directory
    with pytest.raises(catalog.NotEnoughDiskError, match=r"needs .* GB .*free"):
        check_disk_space(free, free, tmp_path)
    check_disk_space(10_000_000, free, tmp_path)  # a small download passes
    assert free_disk_bytes(tmp_path / "not" / "yet") == pytest.approx(free, rel=0.01)

    hub.size_override[CHAT_KEY] = free + 1  # the hub announces a file bigger than the free space
    with pytest.raises(catalog.NotEnoughDiskError, match="not enough disk space"):
        catalog.download(CHAT, settings)
    assert not Path(settings.downloads.models_dir).exists()
    assert _gets(hub) == []


def test_use_is_active_and_remove(hub, settings):
    with pytest.raises(BadInputError, match="not installed"):
        catalog.use(CHAT, settings)
    path = catalog.download(CHAT, settings)
    assert catalog.use(CHAT, settings) == path
    assert settings.chat.model_path == str(path) and settings.chat.model_id == CHAT.id
    assert catalog.is_active(CHAT, settings)
    assert not catalog.is_active(catalog.get_entry("smollm2-135m"), settings)
    with pytest.raises(BadInputError, match="in use"):
        catalog.remove(CHAT, settings)

    catalog.use(catalog.get_entry("smollm2-135m"), settings)
    assert settings.chat.model_path == "" and settings.chat.model_id == "smollm2-135m"
    freed = catalog.remove(CHAT, settings)
    assert freed >= GGUF_SIZE and not catalog.entry_dir(CHAT, settings).exists()
    with pytest.raises(BadInputError, match="cannot be removed"):
        catalog.remove(catalog.get_entry("whisper-tiny.en"), settings)

    stt_path = catalog.download(STT, settings)
    catalog.use(STT, settings)
    assert settings.stt.model_path == str(stt_path) and settings.stt.language == "en"
    assert catalog.is_active(STT, settings) and not catalog.is_active(catalog.get_entry("whisper-tiny.en"), settings)
    catalog.use(catalog.get_entry("whisper-base"), settings)
    assert settings.stt.model_path == "" and settings.stt.model == "base"
    assert catalog.model_footprint_mib(stt_path) == pytest.approx(
        sum(f.stat().st_size for f in embedded_whisper_path().iterdir()) / 2**20
    )


# ---- the downloaded models run ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_downloaded_gguf_answers_through_llama_cpp(hub, settings):
    from jarvis_desktop.llm.chat import LocalChatModel

    path = catalog.download(CHAT, settings)
    catalog.use(CHAT, settings)
    settings.chat.n_threads, settings.chat.max_tokens, settings.chat.temperature = 1, 24, 0.0
    model = LocalChatModel.from_settings(settings)
    assert model.model_path == path
    reply = model.complete([{"role": "user", "content": "What is the capital of France? Answer in one word."}])
    assert "paris" in reply.lower()


@pytest.mark.slow
def test_downloaded_whisper_directory_transcribes_speech(hub, settings, tmp_path):
    from speech import speak

    from jarvis_desktop.stt.whisper import SpeechToText

    path = catalog.download(STT, settings)
    catalog.use(STT, settings)
    stt = SpeechToText.from_settings(settings)
    assert stt.model_path == path
    text = stt.transcribe(speak("set a timer for ten minutes", tmp_path / "timer.wav")).text.lower()
    assert "timer" in text and ("ten minutes" in text or "10 minutes" in text)


# ---- downloads in a process whose speech models are loaded (the GUI's) ----------------------------------------------
_AFTER_SPEECH_MODELS = r"""
import json, os, socket, sys

resolved = []  # every host name the process looks up (the real lookup runs)
_getaddrinfo = socket.getaddrinfo


def _recording_getaddrinfo(host, *args, **kwargs):
    resolved.append(str(host))
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _recording_getaddrinfo

import numpy as np

from jarvis_desktop import catalog
from jarvis_desktop.audio.wav import resample
from jarvis_desktop.config import Settings
from jarvis_desktop.errors import JarvisError
from jarvis_desktop.stt.whisper import SpeechToText
from jarvis_desktop.tts.hibari_voice import SAMPLE_RATE_HZ, HibariSynthesizer
from jarvis_desktop.voice.wake_verify import WhisperWakeVerifier

hub_url, models_dir, entry_id = sys.argv[1:4]
stt = SpeechToText()  # the embedded tiny.en
stt.warm_up()
speech = HibariSynthesizer().synthesize("Set a timer for ten minutes.")
out = {"heard": stt.transcribe(resample(speech, SAMPLE_RATE_HZ)).text}
out["wake"] = WhisperWakeVerifier().verify(np.zeros(16000, dtype=np.float32)).reason  # loads its own Whisper
out["env_after_load"] = os.environ.get("HF_HUB_OFFLINE")
settings = Settings()
settings.downloads.hub_url = hub_url
settings.downloads.models_dir = models_dir
settings.downloads.timeout_s = 10.0
try:
    out["path"] = str(catalog.download(catalog.get_entry(entry_id), settings))
except JarvisError as exc:
    out["error"] = exc.user_message()
out["resolved"] = sorted(set(resolved))
print(json.dumps(out))
"""


def _download_after_speech_models(hub: FakeHub, tmp_path: Path, offline: str | None) -> dict:
    """Run :data:`_AFTER_SPEECH_MODELS` in a fresh interpreter (real import order: the speech modules and
    huggingface_hub are imported there for the first time) with ``HF_HUB_OFFLINE`` as the user set it (None =
    unset); returns its JSON report."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT")}
    env.update({"JARVIS_DESKTOP_HOME": str(tmp_path / "home"), "HF_HOME": str(tmp_path / "hf-home")})
    if offline is not None:
        env["HF_HUB_OFFLINE"] = offline
    models = tmp_path / "models"
    done = subprocess.run(
        [sys.executable, "-c", _AFTER_SPEECH_MODELS, hub.url, str(models), CHAT.id],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_download_works_in_a_process_that_loaded_the_speech_models(hub, tmp_path):
    report = _download_after_speech_models(hub, tmp_path, offline=None)

    assert "timer" in report["heard"].lower()  # tiny.en heard hibari's voice: both really loaded
    assert report["wake"]  # the wake verifier loaded its own Whisper and answered
    assert report["env_after_load"] is None  # none of them switched the hub off for the whole process
    assert "error" not in report, report["error"]
    path = Path(report["path"])
    assert path == tmp_path / "models" / CHAT.id / CHAT.filename
    assert file_digests(path) == file_digests(embedded_chat_gguf())
    assert [g[1].startswith("/cdn/") for g in _gets(hub)] == [True]
    # Only the loopback hub (127.0.0.1) and its "CDN" (localhost) were looked up: never huggingface.co, not even
    # for huggingface_hub's user-agent telemetry.
    assert set(report["resolved"]) <= {"127.0.0.1", "localhost"}, report["resolved"]


@pytest.mark.slow
def test_hf_hub_offline_set_by_the_user_still_refuses_after_the_speech_models(hub, tmp_path):
    report = _download_after_speech_models(hub, tmp_path, offline="1")

    assert "timer" in report["heard"].lower()
    assert report["error"].startswith("model downloads are off: HF_HUB_OFFLINE is set")
    assert "unset HF_HUB_OFFLINE" in report["error"]
    assert "path" not in report and hub.requests == []  # refused before asking the hub
    assert not (tmp_path / "models").exists()


def test_speech_models_without_a_tokenizer_are_refused_not_fetched(tmp_path):
    from jarvis_desktop.errors import ModelNotFoundError
    from jarvis_desktop.stt.whisper import SpeechToText
    from jarvis_desktop.voice.wake_verify import WhisperWakeVerifier

    # A Whisper directory without tokenizer.json: faster-whisper would fetch the tokenizer from the hub.
    for name in ("model.bin", "config.json", "vocabulary.txt"):
        (tmp_path / name).symlink_to(embedded_whisper_path() / name)
    with pytest.raises(ModelNotFoundError, match="has no tokenizer.json"):
        WhisperWakeVerifier(model_path=tmp_path)
    with pytest.raises(ModelNotFoundError, match="missing tokenizer.json"):
        SpeechToText(tmp_path).warm_up()


# ---- the command line --------------------------------------------------------------------------------------------
def _cli_env(hub: FakeHub, home: Path) -> dict[str, str]:
    return {
        "JARVIS_DESKTOP_HOME": str(home),
        "HF_ENDPOINT": hub.url,
        "HF_HUB_OFFLINE": "0",
        "TRANSFORMERS_OFFLINE": "0",
    }


def _rows(out: str) -> dict[str, dict]:
    return {row["id"]: row for row in json.loads(out)}


@pytest.mark.slow
def test_cli_models_list_download_use_remove(hub, tmp_path):
    env = _cli_env(hub, tmp_path)
    listed = run_cli("models", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = _rows(listed.stdout)
    assert set(rows) == {e.id for e in catalog.CATALOG}
    assert rows["smollm2-135m"]["installed"] and rows["smollm2-135m"]["active"]
    assert not rows[CHAT.id]["installed"] and rows[CHAT.id]["licence"] == "Apache-2.0"

    got = run_cli("models", "download", CHAT.id, env=env)
    assert got.returncode == 0, got.stderr
    path = Path(got.stdout.strip())
    assert path == tmp_path / "models" / CHAT.id / CHAT.filename and path.stat().st_size == GGUF_SIZE
    assert "(100%)" in got.stderr and f"models use {CHAT.id}" in got.stderr

    used = run_cli("models", "use", CHAT.id, env=env)
    assert used.returncode == 0, used.stderr
    saved = load_settings(tmp_path / "settings.toml")
    assert saved.chat.model_path == str(path) and saved.chat.model_id == CHAT.id
    rows = _rows(run_cli("models", "list", "--json", env=env).stdout)
    assert rows[CHAT.id]["installed"] and rows[CHAT.id]["active"] and not rows["smollm2-135m"]["active"]
    text = run_cli("models", "list", env=env).stdout
    assert f"* {CHAT.id}" in text

    refused = run_cli("models", "remove", CHAT.id, env=env)
    assert refused.returncode == 2 and "in use" in refused.stderr
    assert run_cli("models", "use", "smollm2-135m", env=env).returncode == 0
    removed = run_cli("models", "remove", CHAT.id, env=env)
    assert removed.returncode == 0 and "freed" in removed.stdout and not path.exists()
    unknown = run_cli("models", "download", "gpt-5", env=env)
    assert unknown.returncode == 2 and "no model 'gpt-5'" in unknown.stderr


@pytest.mark.slow
def test_cli_ctrl_c_cancels_cleanly_and_the_next_run_resumes(hub, tmp_path):
    env = _cli_env(hub, tmp_path)
    hub.chunk_delay_s = 0.02
    part = tmp_path / "models" / STT_SLOW.id / ("model.bin" + PART_SUFFIX)
    proc = subprocess.Popen(
        [sys.executable, "-m", "jarvis_desktop", "models", "download", STT_SLOW.id],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (part.exists() and part.stat().st_size > 1_000_000) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "download cancelled" in err and "resume" in err
    kept = part.stat().st_size
    bin_key = f"{STT_SLOW.repo_id}/model.bin"
    model_bin = (embedded_whisper_path() / "model.bin").stat().st_size
    assert 0 < kept < model_bin

    hub.reset()
    again = run_cli("models", "download", STT_SLOW.id, env=env)
    assert again.returncode == 0, again.stderr
    assert "resuming" in again.stderr
    assert [(r["range"], r["sent"]) for r in hub.responses if r["key"] == bin_key] == [
        (f"bytes={kept}-", model_bin - kept)
    ]
    assert file_digests(Path(again.stdout.strip()) / "model.bin") == file_digests(embedded_whisper_path() / "model.bin")
