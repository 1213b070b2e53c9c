"""Jarvis Desktop: an offline-first desktop voice assistant.

Engine packages (no Qt): ``audio``, ``stt``, ``nlu``, ``llm``, ``actions``, ``store``.
The Qt layer lives in ``jarvis_desktop.ui``; the CLI in ``jarvis_desktop.cli``.
"""

__version__ = "0.1.0"
