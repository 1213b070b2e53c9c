"""The training job process: ``jarvis-desktop train-adapter`` (foreground; the app runs the same command).

One run: validate the data (line by line) -> train the LoRA (:func:`jarvis_desktop.training.lora.train_adapter`),
checkpointing every N steps into ``<work dir>/checkpoints`` (the last 2 kept) -> score the new adapter and the
``--baseline`` one on the same validation rows -> write the artifacts (PEFT files, tokenizer files,
``training_metadata.json``, ``adapter.gguf``, optionally ``adapter.zip``) to a temporary sibling of ``--output``
renamed into place at the end, so ``--output`` is either complete or absent.

Output: ``--json-progress`` writes one JSON object per line on stdout (``start``, ``progress``, ``checkpoint``,
``validation``, ``artifact``, ``done`` | ``cancelled`` | ``interrupted`` | ``error``) and a human log on stderr;
without it the human log goes to stdout. Exit codes: 0 done, 2 bad input, 3 cancelled or interrupted (a
checkpoint was saved: ``--resume WORK_DIR`` continues), 1 internal failure.

Signals: SIGTERM / SIGINT stop after the current step with a checkpoint (exit 3). With ``JARVIS_JOB_PARENT_PID``
set (the app does), the job also stops that way when that process dies. Heavy imports (torch, transformers,
peft) happen only in this process, inside the functions.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import signal
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jarvis_desktop.errors import BadInputError, JarvisError

EXIT_STOPPED = 3
#: Tokenizer files copied from the base model next to the adapter (those that exist).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja")
#: Files of the PEFT adapter that make up the artifact.
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "training_metadata.json")
JOB_FILE = "job.json"
HYPER = (
    "max_steps",
    "batch_size",
    "lr",
    "rank",
    "alpha",
    "dropout",
    "max_len",
    "first_layer",
    "seed",
    "eval_rows",
    "checkpoint_every",
    "keep_checkpoints",
    "threads",
    "data",
    "valid",
    "baseline",
    "epochs",
)


class Emitter:
    """Writes the job's events: JSON lines on stdout with ``json_progress``, a human line on the log stream."""

    def __init__(self, json_progress: bool) -> None:
        self.json_progress = json_progress
        self.log_stream = sys.stderr if json_progress else sys.stdout

    def __call__(self, event: str, **data: Any) -> None:
        if self.json_progress:
            sys.stdout.write(json.dumps({"event": event, **data}) + "\n")
            sys.stdout.flush()
        self.log(_human(event, data))

    def log(self, text: str) -> None:
        if text:
            self.log_stream.write(f"{time.strftime('%H:%M:%S')} {text}\n")
            self.log_stream.flush()


def _human(event: str, d: dict) -> str:
    if event == "progress":
        return (
            f"step {d['step']}/{d['max_steps']} epoch {d['epoch']:.3f} loss {d['loss']:.4f} lr {d['lr']:.2e} "
            f"{d['tokens_per_s']:.0f} tok/s eta {d['eta_s']:.0f} s"
        )
    if event == "start":
        return f"training {d['rows']} rows for {d['max_steps']} steps on {d['device']}" + (
            f", resuming at step {d['resumed_from_step']}" if d.get("resumed_from_step") else ""
        )
    if event == "checkpoint":
        return f"checkpoint at step {d['step']}: {d['path']}"
    if event == "validation":
        new, base = d.get("new") or {}, d.get("baseline") or {}
        text = f"validation: exact {new.get('exact_accuracy')} % intent {new.get('intent_accuracy')} %"
        if base:
            text += (
                f" (current adapter: exact {base.get('exact_accuracy')} %"
                + (", scored by an earlier job" if d.get("baseline_cached") else "")
                + ")"
            )
        return text
    if event in ("done", "cancelled", "interrupted", "error", "artifact", "warning"):
        return f"{event}: " + ", ".join(f"{k}={v}" for k, v in d.items() if k not in ("validation",))
    return ""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``train-adapter`` options (hyper-parameters default to None: the resumed job's, else the spec's)."""
    p.add_argument("--data", help="training JSONL (default: the built-in generated corpus)")
    p.add_argument("--valid", help="validation JSONL (default: the built-in validation split)")
    p.add_argument("--output", help="adapter directory to create (default: <data dir>/adapters/<new name>)")
    p.add_argument("--work-dir", help="checkpoints and scratch (default: a hidden sibling of --output)")
    p.add_argument("--resume", metavar="DIR", help="continue the run whose work directory is DIR")
    p.add_argument("--epochs", type=float, help="passes over the data (default 1; --max-steps overrides)")
    p.add_argument("--max-steps", type=int, help="optimiser steps")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float, help="peak learning rate")
    p.add_argument("--rank", type=int, help="LoRA r")
    p.add_argument("--alpha", type=int, help="LoRA alpha")
    p.add_argument("--dropout", type=float, help="LoRA dropout probability")
    p.add_argument("--max-len", type=int, help="tokens per example")
    p.add_argument("--first-layer", type=int, help="LoRA on decoder layers from this one up")
    p.add_argument("--seed", type=int)
    p.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    p.add_argument("--eval-rows", type=int, help="validation rows scored (-1 all, 0 none)")
    p.add_argument("--checkpoint-every", type=int, help="steps between checkpoints (0 none)")
    p.add_argument("--keep-checkpoints", type=int, help="checkpoints kept (default 2)")
    p.add_argument("--baseline", help="adapter directory to compare with (default: the active adapter)")
    p.add_argument("--no-gguf", action="store_true", help="skip the llama.cpp GGUF LoRA")
    p.add_argument("--zip", action="store_true", help="also write adapter.zip (PEFT files + GGUF)")
    p.add_argument("--json-progress", action="store_true", help="JSON lines on stdout, human log on stderr")
    p.add_argument("--probe-device", action="store_true", help="print the training device and exit")


# ---- device -------------------------------------------------------------------------------------
def probe_device() -> dict[str, Any]:
    """``{"device": "cuda"|"mps"|"cpu", "name", "threads", "torch"}``: what this process can train on."""
    import torch

    info: dict[str, Any] = {"torch": torch.__version__, "threads": os.cpu_count() or 1}
    if torch.cuda.is_available():
        info.update(device="cuda", name=torch.cuda.get_device_name(0))
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        info.update(device="mps", name="Apple GPU (Metal)")
    else:
        import platform

        info.update(device="cpu", name=platform.processor() or platform.machine())
    return info


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
def _resolve(args: argparse.Namespace) -> dict[str, Any]:
    """Effective options: command line, else the resumed job's ``job.json``, else :class:`~.spec.JobSpec`."""
    from jarvis_desktop.jobs.spec import JobSpec

    stored: dict[str, Any] = {}
    if args.resume:
        job_file = Path(args.resume).expanduser() / JOB_FILE
        if not job_file.is_file():
            raise BadInputError(f"--resume: {args.resume} is not a training work directory (no {JOB_FILE})")
        stored = json.loads(job_file.read_text(encoding="utf-8"))
    spec = JobSpec()
    opts: dict[str, Any] = {}
    for key in HYPER:
        given = getattr(args, key, None)
        opts[key] = given if given is not None else stored.get(key, getattr(spec, key, None))
    if args.epochs is not None and args.max_steps is None and not stored:
        opts["max_steps"] = 0  # --epochs alone means whole passes over the data
    opts["output"] = args.output or stored.get("output")
    opts["work_dir"] = args.work_dir or (args.resume if args.resume else None) or stored.get("work_dir")
    opts["gguf"] = not args.no_gguf and stored.get("gguf", True)
    opts["zip"] = args.zip or stored.get("zip", False)
    return opts


def _paths(opts: dict[str, Any]) -> tuple[Path, Path]:
    from jarvis_desktop.jobs.adapters import AdapterRegistry, adapters_root

    if opts["output"]:
        output = Path(opts["output"]).expanduser().resolve()
    else:
        output = adapters_root() / AdapterRegistry().unique_name(time.strftime("adapter-%Y%m%d-%H%M%S"))
    work = Path(opts["work_dir"]).expanduser().resolve() if opts["work_dir"] else output.parent / f".{output.name}.work"
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
    import errno

    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on the device (the disk is full)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (read-only)"
    return exc.strerror or str(exc)


# ---- the run ------------------------------------------------------------------------------------
def run(args: argparse.Namespace, emit: Emitter, stop: StopFlag) -> int:
    """One job; returns the exit code (see the module docstring). Raises JarvisError on bad input/failure."""
    from jarvis_desktop.jobs.datasets import builtin_train_path, builtin_valid_path, validate_dataset

    opts = _resolve(args)
    data = Path(opts["data"]).expanduser().resolve() if opts["data"] else builtin_train_path()
    valid = Path(opts["valid"]).expanduser().resolve() if opts["valid"] else builtin_valid_path()
    info = validate_dataset(data)
    if int(opts["eval_rows"] or 0) != 0:
        validate_dataset(valid)
    output, work = _paths(opts)
    if not opts["max_steps"]:
        import math

        opts["max_steps"] = max(1, math.ceil(float(opts["epochs"] or 1.0) * info.rows / int(opts["batch_size"])))
    baseline = _baseline(opts["baseline"])
    preflight(output, work)
    record = {
        **opts,
        "data": str(data),
        "valid": str(valid),
        "output": str(output),
        "work_dir": str(work),
        "data_sha256": info.sha256,
        "baseline": str(baseline) if baseline else "",
    }
    _write_json(work / JOB_FILE, record)

    from jarvis_desktop.training.lora import LoraTrainConfig, train_adapter

    threads = int(opts["threads"] or 0) or (os.cpu_count() or 1)
    cfg = LoraTrainConfig(
        train_path=str(data),
        valid_path=str(valid),
        max_steps=int(opts["max_steps"]),
        batch_size=int(opts["batch_size"]),
        lr=float(opts["lr"]),
        r=int(opts["rank"]),
        alpha=int(opts["alpha"]),
        dropout=float(opts["dropout"]),
        max_len=int(opts["max_len"]),
        first_layer=int(opts["first_layer"]),
        seed=int(opts["seed"]),
        threads=threads,
        eval_rows=int(opts["eval_rows"]),
        log_every=1,
        save_every=int(opts["checkpoint_every"] or 0),
        warmup_steps=min(40, max(1, int(opts["max_steps"]) // 10)),
    )
    checkpoints = work / "checkpoints"
    resume_from = latest_checkpoint(checkpoints) if args.resume else None
    if args.resume and resume_from is None:
        raise BadInputError(
            f"--resume: no checkpoint in {checkpoints} (the job stopped before its first one)",
            hint="start it again instead",
        )
    device = probe_device()
    emit(
        "start",
        pid=os.getpid(),
        rows=info.rows,
        data=str(data),
        data_sha256=info.sha256,
        max_steps=cfg.max_steps,
        output=str(output),
        work_dir=str(work),
        device=device["device"],
        device_name=device.get("name", ""),
        threads=threads,
        resumed_from_step=_checkpoint_step(resume_from) if resume_from else 0,
    )
    t0 = time.perf_counter()
    meta = _train(
        train_adapter, cfg, work / "adapter", emit, stop, checkpoints, resume_from, int(opts["keep_checkpoints"] or 2)
    )
    if meta.get("cancelled"):
        reason = stop.reason or "cancelled"
        emit(
            reason,
            step=meta.get("steps"),
            checkpoint=str(latest_checkpoint(checkpoints) or ""),
            resume=f"--resume {work}",
        )
        return EXIT_STOPPED
    validation = job_validation(work / "adapter", baseline, cfg, meta)
    emit("validation", **validation)
    meta["job_validation"] = validation
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
    files = install_artifacts(work / "adapter", output, gguf=opts["gguf"], zip_it=opts["zip"], emit=emit)
    shutil.rmtree(checkpoints, ignore_errors=True)
    shutil.rmtree(work / "adapter", ignore_errors=True)
    if work == output.parent / f".{output.name}.work":  # the default scratch dir of a terminal run
        shutil.rmtree(work, ignore_errors=True)
    emit(
        "done",
        output=str(output),
        steps=meta.get("steps"),
        files=files,
        validation=validation,
        wall_seconds=round(time.perf_counter() - t0, 1),
    )
    return 0


def _int_env(name: str) -> int | None:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else None


def _baseline(given: str | None) -> Path | None:
    """The adapter to compare with: ``given`` ("none" = no comparison), else the active one (if it has PEFT
    files; a GGUF-only adapter cannot be scored with PyTorch)."""
    if given == "none":
        return None
    if given:
        path = Path(given).expanduser()
    else:
        from jarvis_desktop.jobs.adapters import AdapterRegistry

        path = AdapterRegistry().active_path()
    ok = (path / "adapter_config.json").is_file() and (path / "adapter_model.safetensors").is_file()
    if given and not ok:
        raise BadInputError(f"--baseline {given}: not a PEFT adapter directory")
    return path.resolve() if ok else None


def _train(
    train_adapter: Callable,
    cfg,
    out: Path,
    emit: Emitter,
    stop: StopFlag,
    checkpoints: Path,
    resume_from: Path | None,
    keep: int,
) -> dict:
    """Call ``train_adapter`` with checkpoint/resume options when it supports them."""
    kwargs: dict[str, Any] = {"progress": lambda ev: emit("progress", **ev), "cancel": stop.event}
    params = inspect.signature(train_adapter).parameters
    if "checkpoint_dir" in params:
        kwargs.update(
            checkpoint_dir=checkpoints,
            keep_checkpoints=keep,
            resume_from=resume_from,
            on_checkpoint=lambda step, path: emit("checkpoint", step=step, path=str(path)),
        )
    elif resume_from is not None:
        raise BadInputError("this version of the trainer cannot resume from a checkpoint")
    return train_adapter(cfg, out, **kwargs)


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


def job_validation(adapter: Path, baseline: Path | None, cfg, meta: dict) -> dict[str, Any]:
    """``{"new", "baseline", "baseline_path", "baseline_cached", "rows", "not_worse"}``: the new adapter's
    scores (from training) and the baseline's on the same validation rows
    (:func:`~jarvis_desktop.training.scoring.score_teacher_forced`), read from :mod:`.score_cache` when
    that adapter was already scored on them. The new adapter's scores are stored there too."""
    from jarvis_desktop.jobs import score_cache
    from jarvis_desktop.jobs.adapters import not_worse

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
    return {
        "new": new,
        "baseline": base_scores,
        "baseline_path": str(baseline) if baseline else "",
        "baseline_cached": cached,
        "rows": new.get("n", 0),
        "not_worse": not_worse(new, base_scores),
    }


def _score_key(adapter: Path, cfg) -> str | None:
    from jarvis_desktop.jobs import score_cache

    try:
        return score_cache.score_key(adapter, Path(cfg.valid_path), cfg.eval_rows, cfg.seed, cfg.max_len)
    except OSError:
        return None


def _cache_put(adapter: Path, cfg, scores: dict) -> None:
    from jarvis_desktop.jobs import score_cache

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
    from jarvis_desktop.jobs.adapters import read_metadata

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


def score_adapter(adapter: Path, cfg) -> dict[str, Any]:
    """Teacher-forced scores of the PEFT adapter in ``adapter`` on the rows ``cfg`` validates on (same sample)."""
    from jarvis_desktop.training.scoring import score_adapter_dir, validation_rows

    rows = validation_rows(cfg.valid_path, cfg.eval_rows, cfg.seed)
    return score_adapter_dir(adapter, rows, cfg.max_len, cfg.threads)


def install_artifacts(adapter: Path, output: Path, *, gguf: bool, zip_it: bool, emit: Emitter) -> list[str]:
    """Copy the adapter, tokenizer files and metadata to ``.<name>.tmp-<pid>`` beside ``output``, add
    ``adapter.gguf`` / ``adapter.zip``, then rename it to ``output`` (atomic on one file system).

    Raises:
        JarvisError: writing failed (full disk, read-only); the temporary directory is removed, ``output`` is
            not created.
    """
    from jarvis_desktop.training.base_model import hf_base_dir

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
            from jarvis_desktop.training.gguf_export import export_gguf

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
    emit("artifact", path=str(output), files=files)
    return files


def _fsync_dir(path: Path) -> None:
    for item in path.iterdir():
        with open(item, "rb") as fh:
            os.fsync(fh.fileno())


def _write_json(path: Path, obj: dict) -> None:
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
        try:
            os.nice(int(nice))
        except OSError:
            pass
    try:
        if args.probe_device:
            emit("device", **probe_device())
            return 0
        stop = StopFlag()
        stop.install()
        return run(args, emit, stop)
    except JarvisError as exc:
        emit("error", message=exc.user_message(), exit_code=exc.exit_code)
        return exc.exit_code
    except MemoryError:
        emit("error", message="out of memory: try a smaller batch size or max length", exit_code=1)
        return 1
    except Exception as exc:  # internal failure: one JSON line and the traceback in the log
        import traceback

        traceback.print_exc(file=emit.log_stream)
        emit("error", message=f"internal failure: {type(exc).__name__}: {exc}", exit_code=1)
        return 1
