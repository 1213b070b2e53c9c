"""Speech-to-text: :class:`SpeechToText` turns 16 kHz mono audio into a :class:`Transcript`
(faster-whisper on CTranslate2, int8 on the CPU). ``faster_whisper`` is imported lazily, on first use.
:class:`SpeechRecognizer` is the interface the assistant relies on.
"""

from jarvis_desktop.stt.transcript import Segment, SpeechRecognizer, Transcript
from jarvis_desktop.stt.whisper import SpeechToText

__all__ = ["Segment", "SpeechRecognizer", "SpeechToText", "Transcript"]
