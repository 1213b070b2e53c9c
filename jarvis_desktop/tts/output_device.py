"""Finding and describing the audio output device for :class:`~jarvis_desktop.tts.output.AudioOutput`.

sounddevice (PortAudio) is imported inside :func:`sounddevice_module` only, so importing the speech package
never loads PortAudio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jarvis_desktop.errors import AudioDeviceError

NO_DEVICE_HINT = "start the sound server (PulseAudio/PipeWire) or plug in speakers; `say --wav` needs no device"


@dataclass(frozen=True)
class OutputFormat:
    """How the output stream is opened.

    Attributes:
        device: PortAudio device index, or ``None`` for the system default output.
        label: the device as the user named it, for messages (``"the default output"`` when unnamed).
        sample_rate_hz: rate the stream runs at, in Hz (the voice's rate when the device takes it, else the
            device's default rate and the audio is resampled).
        channels: 1, or 2 when the device refuses mono (the voice is then copied to both channels).
    """

    device: int | None
    label: str
    sample_rate_hz: int
    channels: int


def sounddevice_module() -> Any:
    """The ``sounddevice`` module (imported here, lazily).

    Raises:
        AudioDeviceError: the PortAudio library is missing.
    """
    try:
        import sounddevice as sd
    except OSError as exc:  # PortAudio shared library missing
        raise AudioDeviceError(
            f"no audio output device: the PortAudio library is not available ({exc})",
            hint="install it with: sudo apt install libportaudio2",
        ) from exc
    return sd


def _output_devices(sd: Any) -> list[tuple[int, str]]:
    try:
        devices = sd.query_devices()
    except Exception as exc:
        raise AudioDeviceError(f"no audio output device: cannot list audio devices: {exc}") from exc
    return [(i, str(d["name"])) for i, d in enumerate(devices) if int(d["max_output_channels"]) > 0]


def list_output_devices() -> list[str]:
    """Names of the output devices PortAudio sees (for the settings dialog and error messages).

    Raises:
        AudioDeviceError: PortAudio is missing or cannot list devices.
    """
    return [name for _, name in _output_devices(sounddevice_module())]


def _refresh(sd: Any) -> None:
    """Make PortAudio enumerate devices again (the sound server may have started since)."""
    try:
        sd._terminate()
        sd._initialize()
    except Exception as exc:
        raise AudioDeviceError(f"no audio output device: re-initialising PortAudio failed: {exc}") from exc


def resolve_device(sd: Any, device: str, *, may_refresh: bool = True) -> tuple[int | None, str]:
    """The PortAudio index for ``device`` (``""`` = the system default) and a label for messages.

    ``device`` is a device index as text (``"3"``) or a (part of a) device name as sounddevice matches it
    (``"pulse"``, ``"default"``).

    Raises:
        AudioDeviceError: no output device at all, or ``device`` names none (the message names it and lists
            the devices there are).
    """
    outputs = _output_devices(sd)
    if not outputs and may_refresh:
        _refresh(sd)
        outputs = _output_devices(sd)
    if not outputs:
        asked = f" (asked for {device!r})" if device.strip() else ""
        raise AudioDeviceError(f"no audio output device found{asked}", hint=NO_DEVICE_HINT)
    if not device.strip():
        return None, "the default output"
    names = ", ".join(repr(name) for _, name in outputs)
    if device.strip().isdigit():
        index = int(device)
        if index in {i for i, _ in outputs}:
            return index, f"output device {device!r}"
        raise AudioDeviceError(f"output device {device!r} not found (there are: {names})")
    try:
        info = sd.query_devices(device, "output")
    except ValueError as exc:
        raise AudioDeviceError(f"output device {device!r} not found (there are: {names})") from exc
    return int(info["index"]), f"output device {device!r}"


def pick_format(sd: Any, device: int | None, label: str, voice_rate_hz: int) -> OutputFormat:
    """Mono at the voice's rate when the device takes it; else stereo, else the device's default rate.

    Raises:
        AudioDeviceError: the device takes none of these.
    """
    try:
        default_rate = int(sd.query_devices(device, "output")["default_samplerate"])
    except Exception as exc:
        raise AudioDeviceError(f"cannot open {label}: {exc}", hint=NO_DEVICE_HINT) from exc
    last: Exception | None = None
    for rate in dict.fromkeys((voice_rate_hz, default_rate)):
        for channels in (1, 2):
            try:
                sd.check_output_settings(device=device, samplerate=rate, channels=channels, dtype="float32")
            except Exception as exc:
                last = exc
                continue
            return OutputFormat(device, label, rate, channels)
    raise AudioDeviceError(f"cannot open {label}: {last}", hint="choose another device in [speech] device")
