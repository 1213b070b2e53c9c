"""Drive the real GUI through a short, real exchange and save a screenshot (for docs and visual checks).

Usage (under a display, e.g. Xvfb)::

    Xvfb :99 -screen 0 1280x800x24 &
    DISPLAY=:99 QT_QPA_PLATFORM=xcb python bench/gui_demo.py resources/screenshots/main.png

It types "what is a transformer" and waits for the streamed answer, then speaks "remind me to call mom
tomorrow at three pm" with espeak-ng into a WAV and opens it in the window (real STT -> NLU -> reply), so
the understanding strip ends on the reminder's intent, date keys and resolved time. The
screenshot is taken with ImageMagick's ``import -window root`` when available (the whole X screen, as a
user sees it), else with ``QWidget.grab()``. Uses ``JARVIS_DESKTOP_HOME`` if set, else a temporary home.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer


def speak(text: str, out: Path) -> Path:
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True)
    return out


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "resources/screenshots/main.png").resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="jarvis-demo-"))
    os.environ.setdefault("JARVIS_DESKTOP_HOME", str(work / "home"))
    wav = speak("remind me to call mom tomorrow at three pm", work / "reminder.wav")
    question = os.environ.get("JARVIS_DEMO_QUESTION", "what is a transformer")

    from jarvis_desktop.ui.app import create_app
    from jarvis_desktop.ui.main_window import MainWindow

    app = create_app(argv[:1])
    window = MainWindow(icon=app.windowIcon())
    app.setQuitOnLastWindowClosed(window.tray is None)
    window.resize(980, 720)
    window.move(150, 40)
    window.show()
    steps = iter(["text", "audio", "shot"])
    result = {"code": 1}

    def next_step(*_args) -> None:
        step = next(steps, None)
        if step == "audio":
            window.open_audio_file(wav)
        elif step == "text":
            window.prompt.setText(question)
            window._on_send_clicked()
        elif step == "shot":
            QTimer.singleShot(600, shoot)  # let the last repaint land

    def shoot() -> None:
        if shutil.which("import") and os.environ.get("DISPLAY"):
            subprocess.run(["import", "-window", "root", str(out)], check=True)
        else:
            window.grab().save(str(out))
        print(f"screenshot: {out}")
        if window.last_turn is not None:
            print("last turn:", window.last_turn.to_dict())
        result["code"] = 0
        window.quit_app()

    def on_ready_or_turn(*_args) -> None:
        QTimer.singleShot(300, next_step)

    window.turn_finished.connect(on_ready_or_turn)
    window.error_shown.connect(lambda msg: print("error shown:", msg, file=sys.stderr))
    window.error_shown.connect(on_ready_or_turn)

    def wait_ready() -> None:
        if window.engine_ready:
            next_step()
        else:
            QTimer.singleShot(200, wait_ready)

    QTimer.singleShot(300, wait_ready)
    QTimer.singleShot(180_000, lambda: (print("timed out", file=sys.stderr), window.quit_app()))
    app.exec()
    return result["code"]


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
