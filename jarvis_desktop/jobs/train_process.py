"""The training job process: ``jarvis-desktop train-adapter`` (foreground; the app runs the same command).

One run: validate the data (line by line) -> train the LoRA (:func:`jarvis_desktop.training.lora.train_adapter`),
checkpointing every N steps into ``<work dir>/checkpoints`` (the last 2 kept) -> score the new adapter and the
``--baseline`` one on the same validation rows -> write the artifacts (PEFT files, tokenizer files,
``training_metadata.json``, ``adapter.gguf``, optionally ``adapter.zip``) to a temporary sibling of ``--output``
renamed into place at the end, so ``--output`` is either complete or absent.

Options: those of :class:`~.spec.JobSpec` (the training recipe and the job's files), derived from its fields.
Output: ``--json-progress`` writes one JSON object per line on stdout (:mod:`.events`: ``start``, ``progress``,
``checkpoint``, ``validation``, ``artifact``, ``done`` | ``cancelled`` | ``interrupted`` | ``error``) and a human
log on stderr;
without it the human log goes to stdout. Exit codes: 0 done, 2 bad input, 3 cancelled or interrupted (a
checkpoint was saved: ``--resume WORK_DIR`` continues), 1 internal failure.

Signals: SIGTERM / SIGINT stop after the current step with a checkpoint (exit 3). With ``JARVIS_JOB_PARENT_PID``
set (the app does), the job also stops that way when that process dies. Heavy imports (torch, transformers,
peft) happen only in this process, inside the functions.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import platform
import shutil
import signal
import sys
import threading
import time
import traceback
import zipfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.jobs import score_cache
from jarvis_desktop.jobs.adapters import AdapterRegistry, adapters_root, not_worse, read_metadata
from jarvis_desktop.jobs.datasets import builtin_train_path, builtin_valid_path, validate_dataset
from jarvis_desktop.jobs.events import (
    ArtifactEvent,
    CancelledEvent,
    CheckpointEvent,
    DeviceEvent,
    DoneEvent,
    ErrorEvent,
    InterruptedEvent,
    JobEvent,
    JobValidation,
    ProgressEvent,
    StartEvent,
    StoppedEvent,
    ValidationEvent,
)
from jarvis_desktop.jobs.spec import JOB_ONLY, JobSpec
from jarvis_desktop.nlu.hf_base import hf_base_dir
from jarvis_desktop.training.gguf_export import export_gguf
from jarvis_desktop.training.lora import train_adapter
from jarvis_desktop.training.options import add_arguments as add_option_arguments
from jarvis_desktop.training.options import given_values
from jarvis_desktop.training.recipe import LoraTrainConfig
from jarvis_desktop.training.scoring import score_adapter_dir, validation_rows

EXIT_STOPPED = 3
#: Tokenizer files copied from the base model next to the adapter (those that exist).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja")
#: Files of the PEFT adapter that make up the artifact.
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "training_metadata.json")
JOB_FILE = "job.json"
#: The event a stop reason ends the job with.
STOPPED: dict[str, type[StoppedEvent]] = {"cancelled": CancelledEvent, "interrupted": InterruptedEvent}


class Emitter:
    """Writes the job's events: JSON lines on stdout with ``json_progress``, a human line on the log stream."""

    def __init__(self, json_progress: bool) -> None:
        self.json_progress = json_progress
        self.log_stream = sys.stderr if json_progress else sys.stdout

    def __call__(self, event: JobEvent) -> None:
        if self.json_progress:
            sys.stdout.write(event.to_json() + "\n")
            sys.stdout.flush()
        self.log(event.human())

    def log(self, text: str) -> None:
        if text:
            self.log_stream.write(f"{time.strftime('%H:%M:%S')} {text}\n")
            self.log_stream.flush()


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``train-adapter`` options: every :class:`~.spec.JobSpec` option but the adapter name (derived from
    its fields; they default to None: the resumed job's value, else the spec's default), then the process's."""
    add_option_arguments(p, JobSpec, exclude=JOB_ONLY, none_defaults=True)
    p.add_argument("--output", help="adapter directory to create (default: <data dir>/adapters/<new name>)")
    p.add_argument("--work-dir", help="checkpoints and scratch (default: a hidden sibling of --output)")
    p.add_argument("--resume", metavar="DIR", help="continue the run whose work directory is DIR")
    p.add_argument("--json-progress", action="store_true", help="JSON lines on stdout, human log on stderr")
    p.add_argument("--probe-device", action="store_true", help="print the training device and exit")


# ---- device -------------------------------------------------------------------------------------
def probe_device() -> DeviceEvent:
    """What this process can train on: device "cuda", "mps" or "cpu", its name, CPU threads, torch version.

    Raises:
        JarvisError: PyTorch is not installed (the .deb build leaves it out: LoRA training is not in that build).
    """
    try:
        import torch
    except ImportError as exc:
        raise JarvisError(
            "LoRA training needs PyTorch, which is not installed (not in this build)",
            hint="train in a source checkout set up with: bash packaging/setup.sh --test",
        ) from exc

    threads, version = os.cpu_count() or 1, str(torch.__version__)
    if torch.cuda.is_available():
        return DeviceEvent("cuda", torch.cuda.get_device_name(0), threads, version)
    mps = getattr(torch.backends, "mps", None)  # absent from some torch builds
    if mps is not None and mps.is_available():
        return DeviceEvent("mps", "Apple GPU (Metal)", threads, version)
    return DeviceEvent("cpu", platform.processor() or platform.machine(), threads, version)


# ---- stopping -----------------------------------------------------------------------------------
class StopFlag:
    """Set by SIGTERM/SIGINT (``reason`` "cancelled") or the parent's death ("interrupted")."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reason = ""

    def set(self, reason: str) -> None:
        if not self.event.is_set():
            self.reason = reason
            self.event.set()

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.set("cancelled"))
        parent = os.environ.get("JARVIS_JOB_PARENT_PID")
        if parent and parent.isdigit():
            threading.Thread(
                target=self._watch_parent, args=(int(parent),), daemon=True, name="jarvis-job-parent-watch"
            ).start()

    def _watch_parent(self, pid: int) -> None:
        while not self.event.wait(1.0):
            if os.getppid() != pid:  # re-parented: the app is gone
                self.set("interrupted")


# ---- options ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JobOptions:
    """A run's effective options: the :class:`~.spec.JobSpec`, ``output`` and ``work_dir`` as given (None:
    the defaults of :func:`_paths`), and whether it resumes a stored job."""

    spec: JobSpec
    output: str | None
    work_dir: str | None
    resuming: bool


def resolve_options(args: argparse.Namespace) -> JobOptions:
    """Effective options: command line, else the resumed job's ``job.json``, else :class:`~.spec.JobSpec`'s
    defaults. Raises BadInputError when ``--resume`` names a directory without ``job.json``."""
    stored: dict[str, Any] = {}
    if args.resume:
        job_file = Path(args.resume).expanduser() / JOB_FILE
        if not job_file.is_file():
            raise BadInputError(f"--resume: {args.resume} is not a training work directory (no {JOB_FILE})")
        stored = json.loads(job_file.read_text(encoding="utf-8"))
    given = given_values(args, JobSpec, exclude=JOB_ONLY)
    if stored:
        given.pop("epochs", None)  # the stored max_steps already counts the epochs
    return JobOptions(
        spec=JobSpec.from_dict(stored).updated(given),
        output=args.output or stored.get("output"),
        work_dir=args.work_dir or args.resume or stored.get("work_dir"),
        resuming=bool(args.resume),
    )


def _paths(opts: JobOptions) -> tuple[Path, Path]:
    if opts.output:
        output = Path(opts.output).expanduser().resolve()
    else:
        output = adapters_root() / AdapterRegistry().unique_name(time.strftime("adapter-%Y%m%d-%H%M%S"))
    work = Path(opts.work_dir).expanduser().resolve() if opts.work_dir else output.parent / f".{output.name}.work"
    return output, work


def preflight(output: Path, work: Path) -> None:
    """Fail fast, before any training, when ``output`` exists or its directory or ``work`` is not writable.

    Raises:
        BadInputError: ``output`` already exists. JarvisError: a directory cannot be created or written.
    """
    if output.exists():
        raise BadInputError(f"{output} already exists: choose another --output (adapters are never overwritten)")
    for directory in (output.parent, work):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            probe = directory / f".write-test-{os.getpid()}"
            probe.write_bytes(b"x" * 4096)
            probe.unlink()
        except OSError as exc:
            raise JarvisError(
                f"cannot write to {directory}: {_os_reason(exc)}",
                hint="free some disk space or choose another --output",
            ) from exc


def _os_reason(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on the device (the disk is full)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (read-only)"
    return exc.strerror or str(exc)


# ---- the run ------------------------------------------------------------------------------------
def _config(spec: JobSpec, data: Path, valid: Path) -> LoraTrainConfig:
    """The trainer's configuration for a job: the spec's recipe, a progress line every step, warm-up over a
    tenth of the steps (at most 40, the shipped recipe's)."""
    return replace(
        LoraTrainConfig().recipe_of(spec),
        train_path=str(data),
        valid_path=str(valid),
        threads=spec.cpu_threads(),
        log_every=1,
        warmup_steps=min(40, max(1, spec.max_steps // 10)),
    )


def _resume_point(opts: JobOptions, checkpoints: Path) -> Path | None:
    if not opts.resuming:
        return None
    found = latest_checkpoint(checkpoints)
    if found is None:
        raise BadInputError(
            f"--resume: no checkpoint in {checkpoints} (the job stopped before its first one)",
            hint="start it again instead",
        )
    return found


def run(args: argparse.Namespace, emit: Emitter, stop: StopFlag) -> int:
    """One job; returns the exit code (see the module docstring). Raises JarvisError on bad input/failure."""
    opts = resolve_options(args)
    spec = opts.spec
    data = Path(spec.data).expanduser().resolve() if spec.data else builtin_train_path()
    valid = Path(spec.valid).expanduser().resolve() if spec.valid else builtin_valid_path()
    info = validate_dataset(data)
    if spec.eval_rows != 0:
        validate_dataset(valid)
    output, work = _paths(opts)
    spec = replace(spec, max_steps=spec.steps_for(info.rows))
    baseline = _baseline(spec.baseline)
    preflight(output, work)
    record = {
        **spec.to_dict(),
        "data": str(data),
        "valid": str(valid),
        "output": str(output),
        "work_dir": str(work),
        "data_sha256": info.sha256,
        "baseline": str(baseline) if baseline else "none",
    }
    _write_json(work / JOB_FILE, record)
    cfg = _config(spec, data, valid)
    checkpoints = work / "checkpoints"
    resume_from = _resume_point(opts, checkpoints)
    device = probe_device()
    emit(
        StartEvent(
            pid=os.getpid(),
            rows=info.rows,
            data=str(data),
            data_sha256=info.sha256,
            max_steps=cfg.max_steps,
            output=str(output),
            work_dir=str(work),
            device=device.device,
            device_name=device.name,
            threads=cfg.threads,
            resumed_from_step=_checkpoint_step(resume_from) if resume_from else 0,
        )
    )
    t0 = time.perf_counter()
    meta = train_adapter(
        cfg,
        work / "adapter",
        progress=lambda p: emit(ProgressEvent.of(p)),
        cancel=stop.event,
        checkpoint_dir=checkpoints,
        resume_from=resume_from,
        on_checkpoint=lambda step, path: emit(CheckpointEvent(step, str(path))),
    )
    if meta.get("cancelled"):
        last = latest_checkpoint(checkpoints)
        emit(STOPPED[stop.reason or "cancelled"](meta.get("steps"), str(last or ""), f"--resume {work}"))
        return EXIT_STOPPED
    validation = job_validation(work / "adapter", baseline, cfg, meta)
    emit(ValidationEvent.of(validation))
    files = _finish(spec, meta, validation, baseline, data, work, output, t0, emit)
    emit(DoneEvent(str(output), meta.get("steps"), tuple(files), validation, round(time.perf_counter() - t0, 1)))
    return 0


def _finish(
    spec: JobSpec,
    meta: dict[str, Any],
    validation: JobValidation,
    baseline: Path | None,
    data: Path,
    work: Path,
    output: Path,
    t0: float,
    emit: Emitter,
) -> list[str]:
    """Complete the metadata, install the artifacts at ``output``, remove the scratch; returns the files."""
    meta["job_validation"] = asdict(validation)
    routing = inherited_routing(baseline)
    if routing:
        meta["routing"] = routing
    meta["data"]["train_path"] = str(data)
    meta["job"] = {
        "id": _int_env("JARVIS_JOB_ID"),
        "work_dir": str(work),
        "train_seconds_total": round(time.perf_counter() - t0, 1),
    }
    _write_json(work / "adapter" / "training_metadata.json", meta)
    files = install_artifacts(work / "adapter", output, gguf=spec.gguf, zip_it=spec.zip, emit=emit)
    shutil.rmtree(work / "checkpoints", ignore_errors=True)
    shutil.rmtree(work / "adapter", ignore_errors=True)
    if work == output.parent / f".{output.name}.work":  # the default scratch dir of a terminal run
        shutil.rmtree(work, ignore_errors=True)
    return files


def _int_env(name: str) -> int | None:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else None


def _baseline(given: str) -> Path | None:
    """The adapter to compare with: ``given`` ("none" = no comparison), else the active one (if it has PEFT
    files; a GGUF-only adapter cannot be scored with PyTorch)."""
    if given == "none":
        return None
    path = Path(given).expanduser() if given else AdapterRegistry().active_path()
    ok = (path / "adapter_config.json").is_file() and (path / "adapter_model.safetensors").is_file()
    if given and not ok:
        raise BadInputError(f"--baseline {given}: not a PEFT adapter directory")
    return path.resolve() if ok else None


def latest_checkpoint(checkpoints: Path) -> Path | None:
    """The newest complete checkpoint directory (``step-NNNNNN`` with its ``trainer_state.pt``), or None."""
    if not checkpoints.is_dir():
        return None
    done = [p for p in checkpoints.iterdir() if p.name.startswith("step-") and (p / "trainer_state.pt").is_file()]
    return max(done, key=_checkpoint_step) if done else None


def _checkpoint_step(path: Path) -> int:
    try:
        return int(path.name.split("-", 1)[1])
    except (IndexError, ValueError):
        return -1


def job_validation(adapter: Path, baseline: Path | None, cfg: LoraTrainConfig, meta: dict[str, Any]) -> JobValidation:
    """The new adapter's scores (from training) and the baseline's on the same validation rows
    (:func:`~jarvis_desktop.training.scoring.score_teacher_forced`), read from :mod:`.score_cache` when
    that adapter was already scored on them. The new adapter's scores are stored there too."""
    new = meta.get("validation_teacher_forced") or {}
    if new:
        _cache_put(adapter, cfg, new)
    base_scores, cached = None, False
    if baseline is not None and new:
        key = _score_key(baseline, cfg)
        base_scores = score_cache.get(key) if key else None
        cached = base_scores is not None
        if base_scores is None:
            base_scores = score_adapter(baseline, cfg)
            if key:
                score_cache.put(key, base_scores, baseline)
    return JobValidation(
        new=new,
        baseline=base_scores,
        baseline_path=str(baseline) if baseline else "",
        baseline_cached=cached,
        rows=int(new.get("n", 0)),
        not_worse=not_worse(new, base_scores),
    )


def _score_key(adapter: Path, cfg: LoraTrainConfig) -> str | None:
    try:
        return score_cache.score_key(adapter, Path(cfg.valid_path), cfg.eval_rows, cfg.seed, cfg.max_len)
    except OSError:
        return None


def _cache_put(adapter: Path, cfg: LoraTrainConfig, scores: dict[str, Any]) -> None:
    key = _score_key(adapter, cfg)
    if key:
        score_cache.put(key, scores, adapter)


def inherited_routing(baseline: Path | None) -> dict[str, Any] | None:
    """The hybrid engine's routing threshold for the new adapter: the baseline's (``routing.threshold`` in its
    ``training_metadata.json``), or None (the engine then uses its default, 0.5).

    The threshold is a cut on FastText's confidence, chosen on validation for the shipped adapter by
    :mod:`jarvis_desktop.training.routing` (0.65); a job does not change FastText, and re-choosing it would cost
    minutes of llama.cpp calls. Measured: the default job's adapter with the inherited 0.65 gives the hybrid
    engine 97.62 % intent accuracy on the validation split, as the shipped adapter does; with 0.5, 97.31 %.
    """
    if baseline is None:
        return None
    threshold = (read_metadata(baseline).get("routing") or {}).get("threshold")
    if not isinstance(threshold, (int, float)):
        return None
    return {
        "threshold": float(threshold),
        "inherited_from": str(baseline),
        "note": "re-choose with: python -m jarvis_desktop.training.routing --adapter <this dir> --write",
    }


def score_adapter(adapter: Path, cfg: LoraTrainConfig) -> dict[str, Any]:
    """Teacher-forced scores of the PEFT adapter in ``adapter`` on the rows ``cfg`` validates on (same sample)."""
    rows = validation_rows(cfg.valid_path, cfg.eval_rows, cfg.seed)
    return score_adapter_dir(adapter, rows, cfg.max_len, cfg.threads)


def install_artifacts(adapter: Path, output: Path, *, gguf: bool, zip_it: bool, emit: Emitter) -> list[str]:
    """Copy the adapter, tokenizer files and metadata to ``.<name>.tmp-<pid>`` beside ``output``, add
    ``adapter.gguf`` / ``adapter.zip``, then rename it to ``output`` (atomic on one file system).

    Raises:
        JarvisError: writing failed (full disk, read-only); the temporary directory is removed, ``output`` is
            not created.
    """
    staging = output.parent / f".{output.name}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        for name in ADAPTER_FILES:
            shutil.copy2(adapter / name, staging / name)
        base = hf_base_dir()
        for name in TOKENIZER_FILES:
            if (base / name).is_file():
                shutil.copy2(base / name, staging / name)
        if gguf:
            export_gguf(staging)
        if zip_it:
            with zipfile.ZipFile(staging / "adapter.zip", "w", zipfile.ZIP_DEFLATED) as zf:
                for item in sorted(staging.iterdir()):
                    if item.name != "adapter.zip":
                        zf.write(item, item.name)
        _fsync_dir(staging)
        os.replace(staging, output)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise JarvisError(
            f"cannot write the adapter to {output}: {_os_reason(exc)}",
            hint="the current adapter is unchanged; free some space and resume the job",
        ) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    files = sorted(p.name for p in output.iterdir())
    emit(ArtifactEvent(str(output), tuple(files)))
    return files


def _fsync_dir(path: Path) -> None:
    for item in path.iterdir():
        with open(item, "rb") as fh:
            os.fsync(fh.fileno())


def _write_json(path: Path, obj: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main(args: argparse.Namespace) -> int:
    """Entry point of ``jarvis-desktop train-adapter`` (parsed ``args``); returns the exit code."""
    emit = Emitter(args.json_progress)
    # before torch loads OpenMP: spin-waiting threads made steps 5-8x slower on a busy 2-core machine
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    nice = os.environ.get("JARVIS_JOB_NICE", "")
    if nice.isdigit() and int(nice) > 0:
        with contextlib.suppress(OSError):  # not allowed here: run at normal priority
            os.nice(int(nice))
    try:
        if args.probe_device:
            emit(probe_device())
            return 0
        stop = StopFlag()
        stop.install()
        return run(args, emit, stop)
    except JarvisError as exc:
        emit(ErrorEvent(exc.user_message(), exc.exit_code))
        return exc.exit_code
    except MemoryError:
        emit(ErrorEvent("out of memory: try a smaller batch size or max length", 1))
        return 1
    except Exception as exc:  # internal failure: one JSON line and the traceback in the log
        traceback.print_exc(file=emit.log_stream)
        emit(ErrorEvent(f"internal failure: {type(exc).__name__}: {exc}", 1))
        return 1
