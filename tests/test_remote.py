"""Remote offload against a real OpenAI-compatible server (llama_cpp.server on the embedded SmolLM2):
placement by memory, streaming, fallback to the local model when the remote dies mid-answer, retries on
500s and hangs within the timeouts, a wrong API key, the keyring, doctor and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from jarvis_desktop.config import ChatSettings, MonitorSettings, RemoteSettings, Settings
from jarvis_desktop.llm.chat import LocalChatModel
from jarvis_desktop.llm.remote import RemoteAuthError, RemoteChatModel, RemoteError
from jarvis_desktop.llm.router import ChatRouter
from jarvis_desktop.models import embedded_chat_gguf
from jarvis_desktop.monitor import ResourceMonitor
from tests.remote_helpers import API_KEY, FailingServer, LlamaServer, MemoryKeyring

pytestmark = pytest.mark.slow

QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
STORY = [{"role": "user", "content": "Write a long story about a dragon who learns to cook."}]
SHORT = MonitorSettings(buffer_gib=100_000.0)  # local memory always counts as short
PLENTY = MonitorSettings(buffer_gib=0.0, buffer_fraction=0.0)


@pytest.fixture(scope="module")
def cloud():
    server = LlamaServer(embedded_chat_gguf())
    yield server
    server.stop()


#: One llama.cpp thread: on a 2-core machine shared with other work, n_threads=2 makes llama.cpp's threads
#: wait for each other (measured here under load: 0.3 tokens/s with 2 threads vs 45 with 1).
LOCAL_OPTIONS = ChatSettings(n_threads=1)


@pytest.fixture(scope="module")
def local():
    chat = LocalChatModel(embedded_chat_gguf(), LOCAL_OPTIONS)
    chat.warm_up()
    return chat


@pytest.fixture()
def cli_home(tmp_path):
    """A JARVIS_DESKTOP_HOME for CLI subprocesses, with the one-thread chat setting."""
    (tmp_path / "settings.toml").write_text("[chat]\nn_threads = 1\n")
    return str(tmp_path)


def make_router(
    base_url: str | None, monitor_settings: MonitorSettings, local, key: str | None = API_KEY, **remote_fields
) -> ChatRouter:
    remote = RemoteSettings(base_url=base_url or "", model="smollm2", **remote_fields)
    settings = Settings(chat=LOCAL_OPTIONS, remote=remote, monitor=monitor_settings)
    backend = RemoteChatModel(remote, settings.chat, api_key=key) if base_url else None
    return ChatRouter(settings, monitor=ResourceMonitor(), local=local, remote=backend)


def test_memory_short_sends_the_request_to_the_remote_and_it_streams(cloud, local):
    router = make_router(cloud.base_url, SHORT, local)
    chunks = list(router.stream(QUESTION, temperature=0.0))
    assert len(chunks) >= 2 and "paris" in "".join(chunks).lower()
    info = router.last
    assert info.backend == "remote" and not info.fallback and info.notice == ""
    assert info.reason.startswith("not enough RAM") or info.reason.startswith("RAM pressure")
    assert info.stats.first_token_s > 0 and info.stats.total_s >= info.stats.first_token_s
    assert not local.loaded  # the policy unloaded the local model under pressure
    rec = router.registry.get(router.model_name)
    assert (rec.placement, rec.last_backend, rec.state) == ("remote", "remote", "unloaded")
    from jarvis_desktop.monitor.idle import remote_idle_minutes

    assert remote_idle_minutes() < 0.5  # remote activity recorded for the VM's idle script


def test_memory_plentiful_keeps_it_local_and_reloads_the_model(cloud, local):
    router = make_router(cloud.base_url, PLENTY, local)
    answer = "".join(router.stream(QUESTION, temperature=0.0))
    assert "paris" in answer.lower()
    assert router.last.backend == "local" and router.last.reason.startswith("fits")
    assert local.loaded
    rec = router.registry.get(router.model_name)
    assert rec.state == "loaded" and rec.footprint_mib is not None and rec.last_backend == "local"


def test_placement_override_per_request(cloud, local):
    router = make_router(cloud.base_url, PLENTY, local)
    router.stream(QUESTION, placement="remote", max_tokens=8).close()
    assert router.last.backend == "remote" and router.last.reason == "always remote (setting)"
    "".join(router.stream(QUESTION, placement="local", max_tokens=8))
    assert router.last.backend == "local" and router.last.reason == "always local (setting)"


def test_pressure_seen_by_the_monitor_thread_unloads_without_a_request(cloud, local):
    router = make_router(cloud.base_url, PLENTY, local)
    "".join(router.stream(QUESTION, max_tokens=4))
    assert local.loaded
    router.monitor.interval_s = 0.05
    router.watch()
    router.monitor.start()
    try:
        router.settings.monitor.buffer_gib = 100_000.0  # memory becomes short
        deadline = time.monotonic() + 10
        while local.loaded and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not local.loaded
        assert router.registry.get(router.model_name).placement == "remote"
        # pressure eases: the next request runs (and reloads) locally
        router.settings.monitor.buffer_gib = 0.0
        router.settings.monitor.buffer_fraction = 0.0
        time.sleep(0.2)
        "".join(router.stream(QUESTION, max_tokens=4))
        assert router.last.backend == "local" and local.loaded
    finally:
        router.unwatch()
        assert router.monitor.stop()


def test_remote_killed_mid_stream_the_local_model_finishes_the_answer(local):
    doomed = LlamaServer(embedded_chat_gguf())
    notices: list[str] = []
    try:
        router = make_router(doomed.base_url, SHORT, local, first_token_timeout_s=5.0)
        stream = router.stream(STORY, max_tokens=120, on_notice=notices.append)
        received = [next(stream)]
        for piece in stream:
            received.append(piece)
            if len(received) == 3:
                doomed.stop()  # the cloud VM goes away mid-answer
            if notices:
                break
        received.extend(stream)
    finally:
        doomed.stop()
    info = router.last
    assert info.fallback and info.backend == "local"
    assert notices and notices[0] == info.notice
    assert "failed mid-answer" in info.notice and "local model finished" in info.notice
    answer = "".join(received)
    assert len(answer.split()) > 5  # the answer went on after the notice
    assert local.loaded


def test_a_dead_endpoint_falls_back_locally_before_streaming(local):
    port_owner = FailingServer("500")
    url = port_owner.base_url
    port_owner.stop()  # nothing listens there any more
    router = make_router(url, SHORT, local, retries=1, backoff_s=0.05)
    noticed: list[float] = []
    t0 = time.perf_counter()
    answer = "".join(router.stream(QUESTION, max_tokens=16, on_notice=lambda _: noticed.append(time.perf_counter())))
    assert answer
    assert router.last.backend == "local" and router.last.fallback
    assert "unreachable" in router.last.notice and "answered locally" in router.last.notice
    assert router.remote.attempts == 2
    assert noticed[0] - t0 < 2.0  # refused connections: no waiting for timeouts


def test_http_500_is_retried_with_backoff_then_abandoned(local):
    server = FailingServer("500")
    try:
        router = make_router(server.base_url, SHORT, local, retries=2, backoff_s=0.1)
        t0 = time.perf_counter()
        answer = "".join(router.stream(QUESTION, max_tokens=16))
        elapsed = time.perf_counter() - t0
        assert server.requests == 3  # 1 + 2 retries
        assert answer and router.last.backend == "local"
        assert "HTTP 500" in router.last.notice and "gave up after 3 attempts" in router.last.notice
        assert elapsed >= 0.3  # backoff 0.1 + 0.2 s
        strict = make_router(server.base_url, SHORT, local, retries=1, backoff_s=0.0, fallback_local=False)
        with pytest.raises(RemoteError, match="HTTP 500"):
            strict.stream(QUESTION)
    finally:
        server.stop()


def test_a_hanging_endpoint_is_abandoned_within_the_first_token_timeout(local):
    server = FailingServer("hang")
    try:
        router = make_router(server.base_url, SHORT, local, retries=1, backoff_s=0.1, first_token_timeout_s=1.0)
        noticed: list[float] = []
        t0 = time.perf_counter()
        answer = "".join(
            router.stream(QUESTION, max_tokens=16, on_notice=lambda _: noticed.append(time.perf_counter()))
        )
        waited = noticed[0] - t0
        assert server.requests == 2
        assert "timed out" in router.last.notice
        assert answer and router.last.backend == "local"
        assert 2.0 <= waited < 2 * 1.0 + 0.1 + 1.5  # two 1 s first-token timeouts + 0.1 s backoff
    finally:
        server.stop()


def test_a_wrong_api_key_gives_a_clear_message_and_is_not_retried(cloud, local):
    remote = RemoteChatModel(RemoteSettings(base_url=cloud.base_url, model="smollm2", retries=3), api_key="wrong")
    with pytest.raises(RemoteAuthError) as err:
        remote.stream(QUESTION)
    assert "rejected the API key (HTTP 401)" in err.value.user_message()
    assert "keyring" in err.value.user_message()
    assert "wrong" not in err.value.user_message() and "wrong" not in repr(remote)
    assert remote.attempts == 1
    with pytest.raises(RemoteAuthError):
        remote.models()
    router = make_router(cloud.base_url, SHORT, local, key="wrong")
    assert "".join(router.stream(QUESTION, max_tokens=8))
    assert "rejected the API key" in router.last.notice and router.last.backend == "local"


def test_the_key_comes_from_the_keyring_or_the_environment(cloud, monkeypatch):
    from jarvis_desktop.llm import keys

    backend, restore = MemoryKeyring.install()
    monkeypatch.delenv(keys.ENV_KEY, raising=False)
    try:
        assert keys.get_api_key() is None and keys.key_source() == "none"
        keys.set_api_key(API_KEY)
        assert keys.get_api_key() == API_KEY and keys.key_source() == "keyring"
        assert backend.store == {("jarvis-desktop", "remote-api-key"): API_KEY}
        remote = RemoteChatModel(RemoteSettings(base_url=cloud.base_url, model="smollm2"))
        assert remote.models()  # the keyring's key is accepted
        monkeypatch.setenv(keys.ENV_KEY, "from-env")
        assert keys.get_api_key() == "from-env" and keys.key_source() == "env"
        monkeypatch.delenv(keys.ENV_KEY)
        keys.set_api_key(None)
        assert keys.get_api_key() is None
        keys.set_api_key(None)  # deleting a missing key is fine
    finally:
        restore()
    settings_file = __import__("jarvis_desktop.config", fromlist=["x"]).settings_path()
    assert not settings_file.exists() or API_KEY not in settings_file.read_text()


def _cli(args, home, **env_extra):
    # the fail backend: CLI subprocesses never read or write the user's real keyring
    env = dict(
        os.environ, JARVIS_DESKTOP_HOME=home, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", **env_extra
    )
    return subprocess.run(
        [sys.executable, "-m", "jarvis_desktop", *args], capture_output=True, text=True, timeout=180, env=env
    )


def test_cli_chat_json_says_where_it_ran_and_why(cloud, cli_home):
    env = {"JARVIS_REMOTE_BASE_URL": cloud.base_url, "JARVIS_REMOTE_MODEL": "smollm2", "JARVIS_REMOTE_API_KEY": API_KEY}
    out = _cli(
        ["chat", "--json", "--placement", "remote", "What is the capital of France? Answer in one word."],
        cli_home,
        **env,
    )
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)
    assert row["backend"] == "remote" and row["reason"] == "always remote (setting)" and not row["fallback"]
    assert row["timings_ms"]["first_token"] > 0 and row["timings_ms"]["total"] >= row["timings_ms"]["first_token"]
    assert "paris" in row["reply"].lower()
    out = _cli(["chat", "--json", "--placement", "local", "Say hi."], cli_home, **env)
    row = json.loads(out.stdout)
    assert row["backend"] == "local" and row["reason"] == "always local (setting)"
    out = _cli(["chat", "--placement", "remote", "Say hi."], cli_home, **dict(env, JARVIS_REMOTE_API_KEY="wrong"))
    assert out.returncode == 0
    assert "note: the remote endpoint" in out.stderr and "rejected the API key" in out.stderr
    assert "wrong" not in out.stderr


def test_doctor_reports_the_endpoint(cloud, cli_home):
    env = {"JARVIS_REMOTE_BASE_URL": cloud.base_url, "JARVIS_REMOTE_MODEL": "smollm2", "JARVIS_REMOTE_API_KEY": API_KEY}
    out = _cli(["doctor", "--json"], cli_home, **env)
    checks = {c["name"]: c for c in json.loads(out.stdout)}
    assert checks["remote endpoint"]["status"] == "ok"
    assert "SmolLM2" in checks["remote endpoint"]["detail"] and "key from env" in checks["remote endpoint"]["detail"]
    dead = _cli(["doctor", "--json"], cli_home, JARVIS_REMOTE_BASE_URL="http://127.0.0.1:9/v1")
    checks = {c["name"]: c for c in json.loads(dead.stdout)}
    assert checks["remote endpoint"]["status"] == "warn" and "unreachable" in checks["remote endpoint"]["detail"]


def test_without_a_keyring_storing_a_key_says_what_to_do_instead():
    import keyring
    from keyring.backends.fail import Keyring as FailKeyring

    from jarvis_desktop.errors import JarvisError
    from jarvis_desktop.llm import keys

    old = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    try:
        with pytest.raises(JarvisError) as err:
            keys.set_api_key("sk-abc")
        assert keys.ENV_KEY in err.value.user_message() and "sk-abc" not in err.value.user_message()
        assert keys.get_api_key() is None or os.environ.get(keys.ENV_KEY)
    finally:
        keyring.set_keyring(old)
