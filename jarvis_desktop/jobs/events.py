"""The events of a training job: typed on both sides of the JSON-lines pipe.

The job process (:mod:`.train_process`) writes each event as one JSON object per line, ``{"event": <kind>,
...fields}`` (:meth:`JobEvent.to_json`); the runner (:mod:`.runner`) reads them back with :func:`from_json`
and hands the same classes to its listeners (the Training tab, ``jobs start``), adding :class:`StatusEvent`
on each status change. Every event has a one-line human form (:meth:`JobEvent.human`), the job's log line.

A line that is not JSON at all (a library printing on stdout) becomes a :class:`TextEvent`; a JSON line
that is not a known event with the right fields becomes a :class:`ProtocolErrorEvent` naming the problem,
never an exception.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, ClassVar, TypeVar

from jarvis_desktop.jobs.store import JobRecord
from jarvis_desktop.training.lora import TrainProgress

if TYPE_CHECKING:  # typeshed's protocol of dataclass classes, for annotations only
    from _typeshed import DataclassInstance

#: Scores of an adapter: ``n`` rows, ``intent_accuracy``, ``date_keys_accuracy``, ``exact_accuracy`` (%),
#: ``loss`` (nats per completion token).
Scores = dict[str, float]
E = TypeVar("E", bound="DataclassInstance")


@dataclass(frozen=True)
class JobEvent:
    """Base of every event; ``kind`` is the ``"event"`` value on the wire."""

    kind: ClassVar[str] = ""

    def to_dict(self) -> dict[str, object]:
        """``{"event": kind, **fields}`` (nested dataclasses as dicts, tuples as lists)."""
        return {"event": self.kind, **json.loads(json.dumps(asdict(self)))}

    def to_json(self) -> str:
        """The event as one line of JSON (no newline)."""
        return json.dumps(self.to_dict())

    def human(self) -> str:
        """The event as a line of the job's log ("" for events that are not logged)."""
        return ""

    def _fields_text(self) -> str:
        shown = {k: v for k, v in asdict(self).items() if k != "validation"}
        return f"{self.kind}: " + ", ".join(f"{k}={v}" for k, v in shown.items())


@dataclass(frozen=True)
class StartEvent(JobEvent):
    """The job started training: ``rows`` of ``data`` for ``max_steps`` steps on ``device``."""

    kind: ClassVar[str] = "start"
    pid: int
    rows: int
    data: str
    data_sha256: str
    max_steps: int
    output: str
    work_dir: str
    device: str
    device_name: str
    threads: int
    resumed_from_step: int = 0

    def human(self) -> str:
        resumed = f", resuming at step {self.resumed_from_step}" if self.resumed_from_step else ""
        return f"training {self.rows} rows for {self.max_steps} steps on {self.device}{resumed}"


@dataclass(frozen=True)
class ProgressEvent(TrainProgress, JobEvent):
    """A training step report (the fields of :class:`~jarvis_desktop.training.lora.TrainProgress`)."""

    kind: ClassVar[str] = "progress"

    @classmethod
    def of(cls, progress: TrainProgress) -> ProgressEvent:
        """The event for the trainer's progress report."""
        return cls(**asdict(progress))

    def human(self) -> str:
        return (
            f"step {self.step}/{self.max_steps} epoch {self.epoch:.3f} loss {self.loss:.4f} lr {self.lr:.2e} "
            f"{self.tokens_per_s:.0f} tok/s eta {self.eta_s:.0f} s"
        )


@dataclass(frozen=True)
class CheckpointEvent(JobEvent):
    """A checkpoint of ``step`` was written to ``path``."""

    kind: ClassVar[str] = "checkpoint"
    step: int
    path: str

    def human(self) -> str:
        return f"checkpoint at step {self.step}: {self.path}"


@dataclass(frozen=True)
class JobValidation:
    """The new adapter's scores and the baseline's (None: nothing to compare with, or not scored) on the
    same ``rows`` validation rows; ``baseline_cached``: read from the score cache; ``not_worse``:
    :func:`~jarvis_desktop.jobs.adapters.not_worse` of the two."""

    new: Scores
    baseline: Scores | None
    baseline_path: str
    baseline_cached: bool
    rows: int
    not_worse: bool


@dataclass(frozen=True)
class ValidationEvent(JobValidation, JobEvent):
    """The job's validation (the fields of :class:`JobValidation`)."""

    kind: ClassVar[str] = "validation"

    @classmethod
    def of(cls, validation: JobValidation) -> ValidationEvent:
        """The event for ``validation``."""
        return cls(**{f.name: getattr(validation, f.name) for f in fields(JobValidation)})

    def human(self) -> str:
        new, base = self.new or {}, self.baseline or {}
        text = f"validation: exact {new.get('exact_accuracy')} % intent {new.get('intent_accuracy')} %"
        if base:
            cached = ", scored by an earlier job" if self.baseline_cached else ""
            text += f" (current adapter: exact {base.get('exact_accuracy')} %{cached})"
        return text


@dataclass(frozen=True)
class ArtifactEvent(JobEvent):
    """The adapter was installed at ``path`` with ``files``."""

    kind: ClassVar[str] = "artifact"
    path: str
    files: tuple[str, ...]

    def human(self) -> str:
        return self._fields_text()


@dataclass(frozen=True)
class DoneEvent(JobEvent):
    """The job succeeded: the adapter in ``output`` after ``steps`` steps, ``wall_seconds`` of training."""

    kind: ClassVar[str] = "done"
    output: str
    steps: int | None
    files: tuple[str, ...]
    validation: JobValidation | None
    wall_seconds: float

    def human(self) -> str:
        return self._fields_text()


@dataclass(frozen=True)
class StoppedEvent(JobEvent):
    """The job stopped at ``step`` with a checkpoint (``""`` when none); ``resume`` the option continuing it."""

    step: int | None
    checkpoint: str
    resume: str

    def human(self) -> str:
        return self._fields_text()


@dataclass(frozen=True)
class CancelledEvent(StoppedEvent):
    """Stopped by SIGTERM/SIGINT (a cancel)."""

    kind: ClassVar[str] = "cancelled"


@dataclass(frozen=True)
class InterruptedEvent(StoppedEvent):
    """Stopped because the app that started it died."""

    kind: ClassVar[str] = "interrupted"


@dataclass(frozen=True)
class ErrorEvent(JobEvent):
    """The job failed: ``message`` for the user, the process's ``exit_code``."""

    kind: ClassVar[str] = "error"
    message: str
    exit_code: int = 1

    def human(self) -> str:
        return self._fields_text()


@dataclass(frozen=True)
class DeviceEvent(JobEvent):
    """``--probe-device``: the training ``device`` ("cpu", "cuda", "mps"), its ``name``, CPU ``threads``, the
    ``torch`` version."""

    kind: ClassVar[str] = "device"
    device: str
    name: str
    threads: int
    torch: str


@dataclass(frozen=True)
class TextEvent(JobEvent):
    """A line of the job's stdout that is not JSON (printed by a library)."""

    kind: ClassVar[str] = "text"
    text: str

    def human(self) -> str:
        return self.text


@dataclass(frozen=True)
class ProtocolErrorEvent(JobEvent):
    """A JSON line that is not a job event: ``reason`` (unknown kind, missing or mistyped field), ``line``."""

    kind: ClassVar[str] = "protocol_error"
    reason: str
    line: str

    def human(self) -> str:
        return f"unreadable line from the job ({self.reason}): {self.line[:200]}"


@dataclass(frozen=True)
class StatusEvent(JobEvent):
    """Sent by the runner (not by the job) when a job's status changes; ``job`` is its new record."""

    kind: ClassVar[str] = "status"
    job: JobRecord

    def to_dict(self) -> dict[str, object]:
        return {"event": self.kind, "status": self.job.status, "id": self.job.id}

    def human(self) -> str:
        return f"job #{self.job.id}: {self.job.status}"


#: The events a job process writes, by kind.
WIRE_EVENTS: dict[str, type[JobEvent]] = {
    cls.kind: cls
    for cls in (
        StartEvent,
        ProgressEvent,
        CheckpointEvent,
        ValidationEvent,
        ArtifactEvent,
        DoneEvent,
        CancelledEvent,
        InterruptedEvent,
        ErrorEvent,
        DeviceEvent,
        TextEvent,
    )
}


class _BadEvent(ValueError):
    """A field is missing or has the wrong type."""


def _convert(value: object, hint: object, name: str) -> object:
    """``value`` (parsed JSON) checked against type ``hint``; raises _BadEvent when it does not fit."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        last: _BadEvent | None = None
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(value, option, name)
            except _BadEvent as exc:
                last = exc
        raise last or _BadEvent(f"{name}: null")
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise _BadEvent(f"{name}: expected an object")
        return _build(hint, value)
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _BadEvent(f"{name}: expected a list of strings")
        return tuple(value)
    if origin is dict:
        if not isinstance(value, dict) or not all(_is_number(v) for v in value.values()):
            raise _BadEvent(f"{name}: expected an object of numbers")
        return dict(value)
    return _scalar(value, hint, name)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _scalar(value: object, hint: object, name: str) -> object:
    if hint is float and _is_number(value):
        return value
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint in (str, bool) and type(value) is hint:
        return value
    raise _BadEvent(f"{name}: expected {getattr(hint, '__name__', hint)}, got {json.dumps(value)[:40]}")


def _build(cls: type[E], data: dict[str, object]) -> E:
    hints = typing.get_type_hints(cls)
    values: dict[str, object] = {}
    for f in fields(cls):
        if f.name in data:
            values[f.name] = _convert(data[f.name], hints[f.name], f.name)
        elif f.default is dataclasses.MISSING:
            raise _BadEvent(f"missing field {f.name!r}")
    return cls(**values)


def from_dict(data: dict[str, object], line: str = "") -> JobEvent:
    """The event for a parsed JSON object (extra keys ignored), or a :class:`ProtocolErrorEvent`."""
    kind = data.get("event")
    cls = WIRE_EVENTS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return ProtocolErrorEvent(f"unknown event {kind!r}", line or json.dumps(data))
    try:
        return _build(cls, data)
    except _BadEvent as exc:
        return ProtocolErrorEvent(f"{cls.kind} event: {exc}", line or json.dumps(data))


def from_json(line: str) -> JobEvent:
    """The event written as ``line`` by :meth:`JobEvent.to_json`. Never raises: text that is not JSON is a
    :class:`TextEvent`; JSON that is not a known event (garbled, cut off, unknown kind, a bad field) is a
    :class:`ProtocolErrorEvent`."""
    text = line.strip()
    try:
        data = json.loads(text)
    except ValueError:
        if text.startswith(("{", "[")):
            return ProtocolErrorEvent("not valid JSON", text)
        return TextEvent(text)
    if not isinstance(data, dict):
        return ProtocolErrorEvent("not a JSON object", text)
    return from_dict(data, text)
