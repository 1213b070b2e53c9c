"""Audio input: files (:mod:`.wav`), frame-level VAD and endpointing (:mod:`.vad`), the live microphone
(:mod:`.capture`). Everything is float32 mono at :data:`SAMPLE_RATE` (16 kHz), the rate Whisper expects.

No Qt here; ``sounddevice`` (PortAudio) is imported only when the microphone is used.
"""

from jarvis_desktop.audio.wav import SAMPLE_RATE, load_audio

__all__ = ["SAMPLE_RATE", "load_audio"]
