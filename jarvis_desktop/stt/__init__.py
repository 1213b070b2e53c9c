"""Speech-to-text: :class:`SpeechToText` turns 16 kHz mono audio into a :class:`Transcript`
(faster-whisper on CTranslate2, int8 on the CPU). ``faster_whisper`` is imported lazily, on first use.
"""

from jarvis_desktop.stt.whisper import Segment, SpeechToText, Transcript

__all__ = ["Segment", "SpeechToText", "Transcript"]
