"""The Training tab: teach the assistant new phrasings with a background LoRA job, then swap the adapter in.

Pure view over :class:`~.controller.JobsController` (which runs every runner call off the GUI thread):
dataset chooser (built-in corpus, or a JSONL file checked line by line), hyper-parameters, the training
device (asked from a job process: torch is never imported by the GUI), Start / Cancel / Resume, a live loss
plot, a progress bar with ETA, the job's log, the history of jobs with their scores, and the adapters with an
Activate button each.

When a job succeeds the tab compares its validation scores with the current adapter's (measured by the job on
the same rows); when the new one is not worse (and auto-activation is on) it emits ``activate_requested(name)``
and the window swaps it into the running engine. ``job_finished(title, body)`` feeds the tray notification.

Test hooks: ``set_dataset(path)``, ``start()``, ``cancel_selected()``, ``resume_selected()``, ``select_job(id)``,
``history_row(id)``, ``adapter_names()``, attributes ``controller``, ``plot``, ``progress_bar``, ``eta_label``,
``log_view``, ``history_table``, ``adapters_table``, ``device_label``, ``data_status``, ``current_job_id``.
"""

from __future__ import annotations

import re
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.jobs.adapters import Activation, AdapterInfo, not_worse
from jarvis_desktop.jobs.datasets import DatasetInfo
from jarvis_desktop.jobs.events import DeviceEvent, ErrorEvent, JobEvent, ProgressEvent, StartEvent, StatusEvent
from jarvis_desktop.jobs.spec import JobSpec
from jarvis_desktop.jobs.store import JobRecord
from jarvis_desktop.training.options import Option, find_option
from jarvis_desktop.ui.training_tab.controller import JobsController
from jarvis_desktop.ui.training_tab.plot import LossPlot

#: The :class:`~jarvis_desktop.jobs.spec.JobSpec` options the form shows (labels, defaults, ranges and
#: tooltips come from their declarations); the others keep their defaults (or ``spec_defaults``).
FORM_OPTIONS = ("epochs", "max_steps", "batch_size", "lr", "rank", "alpha", "max_len")
HISTORY_COLUMNS = ("#", "Status", "Adapter", "Steps", "Loss", "Exact % new / current", "Started")
ADAPTER_COLUMNS = ("Adapter", "Kind", "Exact %", "Intent %", "Steps", "")
JSONL_FILTER = "JSON lines (*.jsonl *.json);;All files (*)"


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


_CLI_RESUME = re.compile(r";?\s*resume it with: jarvis-desktop jobs resume \d+")


def for_this_tab(error: str) -> str:
    """A job's stored error as this tab says it: the command-line resume hint (written for ``jarvis-desktop jobs``)
    becomes a pointer to the tab's own Resume button."""
    return _CLI_RESUME.sub("; select it and press Resume to continue from its checkpoint", error)


def _pct(scores: dict | None, key: str = "exact_accuracy") -> str:
    return f"{scores[key]:.1f}" if scores and key in scores else "-"


class TrainingTab(QWidget):
    """See the module docstring. ``auto_activate`` None = the ``[training] auto_activate`` setting;
    ``spec_defaults``: :class:`~jarvis_desktop.jobs.spec.JobSpec` fields the form does not show (``first_layer``,
    ``eval_rows``, ``checkpoint_every``, ``gguf`` ...)."""

    activate_requested = Signal(str)
    job_finished = Signal(str, str)

    def __init__(
        self,
        controller: JobsController | None = None,
        parent: QWidget | None = None,
        auto_activate: bool | None = None,
        spec_defaults: dict | None = None,
    ) -> None:
        super().__init__(parent)
        self.spec_defaults = dict(spec_defaults or {})
        self.setObjectName("trainingTab")
        self.controller = controller or JobsController(parent=self)
        self.auto_activate = auto_activate
        self.current_job_id: int | None = None
        self._jobs: dict[int, JobRecord] = {}
        self._adapters: list[AdapterInfo] = []
        self._dataset_path: str = ""
        self._dataset_ok = True
        self._device_asked = False
        self._build()
        c = self.controller
        c.jobs_changed.connect(self._on_jobs)
        c.adapters_changed.connect(self._on_adapters)
        c.job_event.connect(self._on_event)
        c.dataset_checked.connect(self._on_dataset_checked)
        c.device_found.connect(self._on_device)
        c.submitted.connect(self._on_submitted)
        c.failed.connect(self._on_failed)
        c.refresh()

    # ---- layout ---------------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 8, 4, 4)
        top = QHBoxLayout()
        top.addWidget(self._build_form(), 0)
        right = QVBoxLayout()
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("trainingProgress")
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("no job running")
        right.addWidget(self.progress_bar)
        self.eta_label = QLabel("Start a job to teach Jarvis new phrasings.")
        self.eta_label.setObjectName("trainingEta")
        right.addWidget(self.eta_label)
        self.plot = LossPlot()
        right.addWidget(self.plot, 1)
        self.log_view = QPlainTextEdit()
        self.log_view.setObjectName("trainingLog")
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(2000)
        self.log_view.setPlaceholderText("The job's log appears here.")
        right.addWidget(self.log_view, 1)
        holder = QWidget()
        holder.setLayout(right)
        top.addWidget(holder, 1)
        top_widget = QWidget()
        top_widget.setLayout(top)

        lists = QTabWidget()
        lists.setDocumentMode(True)
        self.history_table = self._table(HISTORY_COLUMNS)
        self.history_table.itemSelectionChanged.connect(self._update_buttons)
        lists.addTab(self.history_table, "Jobs")
        self.adapters_table = self._table(ADAPTER_COLUMNS)
        lists.addTab(self.adapters_table, "Adapters")
        self.lists = lists
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top_widget)
        split.addWidget(lists)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        outer.addWidget(split)
        self._update_buttons()

    @staticmethod
    def _table(columns: tuple[str, ...]) -> QTableWidget:
        table = QTableWidget(0, len(columns))
        table.setHorizontalHeaderLabels(list(columns))
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    def _build_form(self) -> QWidget:
        box = QGroupBox("New training job")
        form = QFormLayout(box)
        data_row = QHBoxLayout()
        self.data_choice = QComboBox()
        self.data_choice.addItems(["Built-in corpus", "My JSONL file"])
        self.data_choice.currentIndexChanged.connect(self._on_data_choice)
        data_row.addWidget(self.data_choice, 1)
        self.choose_button = QPushButton("Choose…")
        self.choose_button.clicked.connect(self._choose_file)
        data_row.addWidget(self.choose_button)
        form.addRow("Data", data_row)
        self.data_status = QLabel("the generated training corpus (models/nlu/corpus.train.jsonl)")
        self.data_status.setObjectName("dataStatus")
        self.data_status.setWordWrap(True)
        form.addRow("", self.data_status)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("job-<id>")
        form.addRow("Adapter name", self.name_edit)
        self.inputs: dict[str, QSpinBox | QDoubleSpinBox] = {}
        for name in FORM_OPTIONS:
            opt = find_option(JobSpec, name)
            self.inputs[name] = self._input(opt)
            form.addRow(opt.label, self.inputs[name])
        self.epochs, self.max_steps = self.inputs["epochs"], self.inputs["max_steps"]
        self.batch_size, self.lr = self.inputs["batch_size"], self.inputs["lr"]
        self.rank, self.alpha, self.max_len = self.inputs["rank"], self.inputs["alpha"], self.inputs["max_len"]
        self.device_label = QLabel("Device: checking…")
        self.device_label.setObjectName("deviceLabel")
        form.addRow(self.device_label)
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Train")
        self.start_button.setObjectName("trainStart")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.resume_button = QPushButton("Resume")
        self.resume_button.clicked.connect(self.resume_selected)
        for b in (self.start_button, self.cancel_button, self.resume_button):
            buttons.addWidget(b)
        form.addRow(buttons)
        return box

    @staticmethod
    def _input(opt: Option) -> QSpinBox | QDoubleSpinBox:
        """A spin box for option ``opt``: its range, step, decimals, default, and its help as tooltip."""
        info = opt.info
        box: QSpinBox | QDoubleSpinBox
        if opt.type is float:
            box = QDoubleSpinBox()
            box.setDecimals(info.decimals if info.decimals is not None else 2)
            box.setRange(info.minimum if info.minimum is not None else 0.0, info.maximum or 1e9)
            box.setSingleStep(info.step or 1.0)
            box.setValue(float(opt.default))  # type: ignore[arg-type]  # a float option's default is a float
        else:
            box = QSpinBox()
            box.setRange(int(info.minimum or 0), int(info.maximum or 2_147_483_647))
            box.setSingleStep(int(info.step or 1))
            box.setValue(int(opt.default))  # type: ignore[call-overload]  # an int option's default is an int
        if info.special:
            box.setSpecialValueText(info.special)
        box.setToolTip(opt.help_text)
        return box

    # ---- dataset ----------------------------------------------------------------------------------------
    def _on_data_choice(self, index: int) -> None:
        if index == 0:
            self._dataset_path, self._dataset_ok = "", True
            self.data_status.setText("the generated training corpus (models/nlu/corpus.train.jsonl)")
            self.data_status.setProperty("state", "")
        elif not self._dataset_path:
            self._choose_file()
        self._update_buttons()

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Training data (JSON lines)", "", JSONL_FILTER)
        if path:
            self.set_dataset(path)
        elif not self._dataset_path:
            self.data_choice.setCurrentIndex(0)

    def set_dataset(self, path: str) -> None:
        """Use the JSONL file ``path``; it is checked line by line in the background."""
        self._dataset_path = str(path)
        self._dataset_ok = False
        self.data_choice.blockSignals(True)
        self.data_choice.setCurrentIndex(1)
        self.data_choice.blockSignals(False)
        self.data_status.setText(f"Checking {path}…")
        self._update_buttons()
        self.controller.check_dataset(str(path))

    def _on_dataset_checked(self, path: str, info: DatasetInfo | None, error: str) -> None:
        if path != self._dataset_path:
            return
        self._dataset_ok = info is not None
        if info is not None:
            self.data_status.setText(f"{info.rows} rows, {len(info.intents)} intents · {path}")
        else:
            self.data_status.setText(error)
        self.data_status.setStyleSheet("" if info is not None else "color: #d64545;")
        self._update_buttons()

    # ---- actions ----------------------------------------------------------------------------------------
    def spec(self) -> JobSpec:
        """The :class:`~jarvis_desktop.jobs.spec.JobSpec` the form describes (``spec_defaults`` for the rest)."""
        form: dict[str, object] = {name: box.value() for name, box in self.inputs.items()}
        form["data"] = self._dataset_path if self.data_choice.currentIndex() == 1 else ""
        form["name"] = self.name_edit.text().strip()
        return replace(JobSpec(), **{**self.spec_defaults, **form})

    def start(self) -> bool:
        """Queue a job with the form's settings; False (and why, in the log) when the data is not usable."""
        if self.data_choice.currentIndex() == 1 and not self._dataset_ok:
            self._log("Choose a valid JSONL file first: " + self.data_status.text())
            return False
        try:
            spec = self.spec().check()
        except (BadInputError, TypeError) as exc:  # bad values, or a spec_defaults key JobSpec lacks: shown
            self._log(str(exc))
            return False
        self.start_button.setEnabled(False)
        self.controller.start(spec)
        return True

    def _selected_id(self) -> int | None:
        rows = self.history_table.selectionModel().selectedRows()
        item = self.history_table.item(rows[0].row(), 0) if rows else None
        return int(item.text()) if item else None

    def selected_job(self) -> JobRecord | None:
        """The job selected in the history, else the one the tab follows (None when neither)."""
        job_id = self._selected_id()
        if job_id is None:
            job_id = self.current_job_id
        return self._jobs.get(job_id) if job_id is not None else None

    def select_job(self, job_id: int) -> None:
        for row in range(self.history_table.rowCount()):
            if self._cell(row, 0) == str(job_id):
                self.history_table.selectRow(row)
                return

    def cancel_selected(self) -> None:
        job = self.selected_job()
        if job is not None and not job.final:
            self._log(f"Cancelling job #{job.id}…")
            self.controller.cancel(job.id)

    def resume_selected(self) -> None:
        job = self.selected_job()
        if job is not None and job.status in ("failed", "cancelled", "interrupted"):
            self.current_job_id = job.id
            self._log(f"Resuming job #{job.id} from its last checkpoint…")
            self.controller.resume(job.id)

    def _update_buttons(self) -> None:
        job = self.selected_job()
        busy = any(not j.final for j in self._jobs.values())
        self.start_button.setEnabled(self._dataset_ok or self.data_choice.currentIndex() == 0)
        self.start_button.setText("Queue" if busy else "Train")
        self.cancel_button.setEnabled(job is not None and not job.final)
        self.resume_button.setEnabled(job is not None and job.status in ("failed", "cancelled", "interrupted"))

    # ---- controller signals -------------------------------------------------------------------------------
    def _on_submitted(self, job: JobRecord) -> None:
        self.current_job_id = job.id
        self.history_table.clearSelection()  # the buttons follow the new job
        self._jobs[job.id] = job
        self.plot.clear(int(job.params.get("steps") or 0))
        self.progress_bar.setRange(0, max(1, int(job.params.get("steps") or 1)))
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(f"job #{job.id}: starting…")
        self._log(
            f"Job #{job.id} queued: adapter {job.name}, {job.params.get('steps')} steps on "
            f"{job.params.get('rows')} rows."
        )
        self._update_buttons()

    def _on_failed(self, message: str) -> None:
        self._log(message)
        self._update_buttons()

    def _on_event(self, job_id: int, ev: JobEvent) -> None:
        if isinstance(ev, StatusEvent):
            self._on_status(ev.job)
            return
        if job_id != self.current_job_id:
            return
        if isinstance(ev, ProgressEvent):
            self._show_progress(ev)
        elif isinstance(ev, StartEvent) and ev.resumed_from_step:
            self.progress_bar.setValue(ev.resumed_from_step)
        text = ev.human()
        if text and "it/s]" not in text:
            self._log(text)

    def _show_progress(self, ev: ProgressEvent) -> None:
        self.plot.add_point(ev.step, ev.loss, ev.max_steps)
        self.progress_bar.setRange(0, ev.max_steps)
        self.progress_bar.setValue(ev.step)
        self.progress_bar.setFormat(f"step {ev.step}/{ev.max_steps} (%p %)")
        self.eta_label.setText(f"loss {ev.loss:.3f} · {ev.tokens_per_s:.0f} tokens/s · ETA {_eta(ev.eta_s)}")

    def _on_status(self, job: JobRecord) -> None:
        self._jobs[job.id] = job
        if not job.final:
            self._update_buttons()
            return
        title = f"Training job #{job.id} {job.status}"
        if job.status == "succeeded":
            body = self._on_succeeded(job)
        else:
            body = for_this_tab(job.error or job.status).splitlines()[0]
            if job.id == self.current_job_id:
                self.progress_bar.setFormat(f"job #{job.id} {job.status}")
                self.eta_label.setText(body)
                self._log(f"Job #{job.id} {job.status}: {for_this_tab(job.error)}")
        self.job_finished.emit(title, body)
        self._update_buttons()

    def _on_succeeded(self, job: JobRecord) -> str:
        valid = job.result.get("validation") or {}
        new, current = valid.get("new"), valid.get("baseline")
        text = f"adapter {job.name}: exact {_pct(new)} % (intent {_pct(new, 'intent_accuracy')} %)"
        text += f" vs current {_pct(current)} %" if current else " (nothing to compare with)"
        if job.id == self.current_job_id:
            self.progress_bar.setValue(self.progress_bar.maximum())
            self.progress_bar.setFormat(f"job #{job.id} done")
            self.eta_label.setText(text)
        auto = self.auto_activate
        if auto is None:
            settings = self.controller.settings
            auto = bool(settings.training.auto_activate) if settings is not None else True
        if auto and not_worse(new, current):
            self._log(f"Job #{job.id} succeeded: {text}. Swapping it in.")
            self.activate_requested.emit(job.name)
            return text + " · swapped in"
        self._log(
            f"Job #{job.id} succeeded: {text}. Kept the current adapter; activate the new one from the "
            "Adapters list to use it anyway."
        )
        return text + " · kept the current adapter"

    def _on_jobs(self, jobs: list[JobRecord]) -> None:
        selected = self._selected_id()
        self._jobs = {j.id: j for j in jobs}
        table = self.history_table
        table.setRowCount(len(jobs))
        for row, job in enumerate(jobs):
            valid = job.result.get("validation") or {}
            prog = job.progress
            cells = (
                str(job.id),
                job.status,
                job.name,
                f"{prog.get('step', 0)}/{job.params.get('steps', '?')}",
                f"{prog['loss']:.3f}" if "loss" in prog else "-",
                f"{_pct(valid.get('new'))} / {_pct(valid.get('baseline'))}" if valid else "-",
                job.created_at.astimezone().strftime("%d %b %H:%M"),
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 1 and job.error:
                    item.setToolTip(for_this_tab(job.error))
                table.setItem(row, col, item)
        if selected is not None:
            self.select_job(selected)
        self._update_buttons()

    def _on_adapters(self, adapters: list[AdapterInfo]) -> None:
        self._adapters = adapters
        table = self.adapters_table
        table.setRowCount(len(adapters))
        for row, a in enumerate(adapters):
            kind = "built-in" if a.builtin else (f"job #{a.job_id}" if a.job_id else "trained")
            cells = (
                a.name,
                kind if a.present else kind + " (missing)",
                _pct(a.scores),
                _pct(a.scores, "intent_accuracy"),
                str(a.steps or "-"),
            )
            for col, text in enumerate(cells):
                table.setItem(row, col, QTableWidgetItem(text))
            if a.active:
                table.setCellWidget(row, 5, QLabel("  active"))
            else:
                button = QPushButton("Activate")
                button.setEnabled(a.present)
                button.clicked.connect(lambda _=False, name=a.name: self.request_activate(name))
                table.setCellWidget(row, 5, button)

    def request_activate(self, name: str) -> None:
        """Ask the window to swap adapter ``name`` into the running engine (the user's explicit choice)."""
        self._log(f"Activating adapter {name}…")
        self.activate_requested.emit(name)

    def adapter_names(self) -> list[str]:
        return [a.name for a in self._adapters]

    def on_activated(self, result: Activation) -> None:
        """The window's answer: the adapter is live."""
        self._log(f"Adapter {result.info.name} is active (swapped in {(result.swap_s or 0.0) * 1000:.0f} ms).")
        self.controller.refresh()

    def on_activate_failed(self, message: str) -> None:
        self._log(f"Could not activate the adapter: {message}. The current one stays.")

    def _on_device(self, found: DeviceEvent | ErrorEvent) -> None:
        if isinstance(found, ErrorEvent):
            self.device_label.setText(f"Device: unknown ({found.message})")
        else:
            self.device_label.setText(
                f"Device: {found.device.upper()} · {found.name} · {found.threads} threads · torch {found.torch}"
            )

    def showEvent(self, event: QShowEvent) -> None:  # Qt override
        super().showEvent(event)
        if not self._device_asked:  # lazily: the probe starts a process that imports torch
            self._device_asked = True
            self.controller.probe_device()

    # ---- helpers ------------------------------------------------------------------------------------
    def history_row(self, job_id: int) -> dict[str, str] | None:
        """The history table's cells of job ``job_id`` by column name (None when not listed)."""
        for row in range(self.history_table.rowCount()):
            if self._cell(row, 0) == str(job_id):
                return {name: self._cell(row, col) for col, name in enumerate(HISTORY_COLUMNS)}
        return None

    def _cell(self, row: int, col: int) -> str:
        item = self.history_table.item(row, col)
        return item.text() if item is not None else ""

    def _log(self, text: str) -> None:
        self.log_view.appendPlainText(text)
