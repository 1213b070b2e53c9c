"""The PySide6 (Qt 6) GUI: a thin layer over :class:`jarvis_desktop.assistant.Assistant`.

Entry point: :func:`jarvis_desktop.ui.app.run_gui`. Engine calls run on a worker thread
(:mod:`.workers`); the widgets only react to signals, so the window stays responsive while models
load, transcribe or stream.
"""
