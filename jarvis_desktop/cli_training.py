"""CLI sub-commands for training: ``train-adapter``, ``jobs``, ``adapters``.

* ``train-adapter [--data FILE.jsonl] [--output DIR] [--epochs N] [--max-steps N] [--resume DIR] [--json-progress]``:
  one training run in the foreground (the same command the app runs as its background process; see
  :mod:`jarvis_desktop.jobs.train_process` for the options, events and exit codes).
* ``jobs [--json]``, ``jobs show ID``, ``jobs cancel ID``, ``jobs resume ID``, ``jobs start [options]``: the
  app's job queue (database), from a terminal. ``start`` and ``resume`` run the job through the runner and
  follow it until it ends (Ctrl-C interrupts it; ``jobs resume`` continues it later).
* ``adapters [--json]``: adapters with their validation scores, the active one marked; ``adapters activate NAME``.

Registered on the main parser by :func:`add_parsers`. Exit codes: 0 success, 2 bad input, 1 failure, 3 a job
that ended cancelled or interrupted.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str))


def _runner(recover: bool = True):
    from jarvis_desktop.config import database_path, load_settings
    from jarvis_desktop.jobs.backends import make_backend
    from jarvis_desktop.jobs.runner import JobRunner
    from jarvis_desktop.store.db import Database

    training = load_settings().training
    return JobRunner(
        Database(database_path()),
        make_backend(training.backend, nice=training.nice),
        max_concurrent=training.max_concurrent,
        cancel_timeout_s=training.cancel_timeout_s,
        recover=recover,
    )


def _score(scores: dict | None) -> str:
    if not scores:
        return "-"
    return f"exact {scores.get('exact_accuracy', 0):.1f} % · intent {scores.get('intent_accuracy', 0):.1f} %"


def job_line(job) -> str:
    """One line per job: id, status, name, progress, scores / error."""
    prog = job.progress
    step = f"{prog.get('step', 0)}/{prog.get('max_steps', job.params.get('steps', '?'))}"
    loss = f" loss {prog['loss']:.3f}" if "loss" in prog else ""
    valid = job.result.get("validation") or {}
    extra = ""
    if job.status == "succeeded":
        extra = f"  new {_score(valid.get('new'))} vs current {_score(valid.get('baseline'))}"
    elif job.error:
        extra = "  " + job.error.splitlines()[0]
    created = job.created_at.astimezone().strftime("%d %b %H:%M")
    return f"#{job.id:<4} {job.status:<11} {created}  {job.name:<22} step {step}{loss}{extra}"


def cmd_train_adapter(args) -> int:
    from jarvis_desktop.jobs.train_process import main

    return main(args)


def _follow(runner, job_id: int, as_json: bool) -> int:
    """Print the job's events until it ends; Ctrl-C interrupts it (resumable). Returns the exit code."""
    import threading

    from jarvis_desktop.jobs.train_process import _human

    ended = threading.Event()

    def show(jid: int, ev: dict) -> None:
        if jid != job_id:
            return
        if ev.get("event") == "status":
            job = ev["job"]
            if as_json:
                _print_json({"event": "status", "status": job.status, "id": job.id})
            else:
                print(f"job #{job.id}: {job.status}", flush=True)
            if job.final:
                ended.set()
        elif as_json:
            _print_json(ev)
        else:
            text = _human(str(ev.get("event")), {k: v for k, v in ev.items() if k != "event"})
            if text:
                print(text, flush=True)

    runner.add_listener(show)
    if runner.get(job_id).final:
        ended.set()
    try:
        while not ended.wait(0.5):
            pass
    except KeyboardInterrupt:
        runner.close()
    job = runner.get(job_id)
    if job.status == "failed":
        sys.stderr.write(f"error: job #{job.id} failed: {job.error}\n")
        return 1
    return 0 if job.status == "succeeded" else 3


def cmd_jobs(args) -> int:
    runner = _runner()
    try:
        sub = args.jobs_command
        if sub == "cancel":
            job = runner.cancel(args.id)
            _print_json(job.to_dict()) if args.json else print(f"job #{job.id}: {job.status}")
            return 0
        if sub == "resume":
            runner.resume(args.id)
            return _follow(runner, args.id, args.json)
        if sub == "start":
            from jarvis_desktop.jobs.spec import JobSpec

            spec = JobSpec(
                data=args.data or "",
                valid=args.valid or "",
                name=args.name or "",
                epochs=args.epochs if args.epochs is not None else 1.0,
                max_steps=args.max_steps
                if args.max_steps is not None
                else (0 if args.epochs is not None else JobSpec().max_steps),
            )
            for key in (
                "batch_size",
                "lr",
                "rank",
                "alpha",
                "max_len",
                "first_layer",
                "eval_rows",
                "checkpoint_every",
                "threads",
            ):
                if getattr(args, key) is not None:
                    setattr(spec, key, getattr(args, key))
            spec.gguf = not args.no_gguf
            job = runner.submit(spec)
            if not args.json:
                print(f"job #{job.id} queued: adapter {job.name}", flush=True)
            return _follow(runner, job.id, args.json)
        if sub == "show":
            from jarvis_desktop.jobs.runner import log_tail

            job = runner.get(args.id)
            if args.json:
                _print_json(dict(job.to_dict(), log_tail=log_tail(job, 40)))
            else:
                print(job_line(job))
                print(f"log: {job.log_path}\noutput: {job.output_path}\n{log_tail(job, 20)}")
            return 0
        jobs = runner.list()
        if args.json:
            _print_json([j.to_dict() for j in jobs])
        elif not jobs:
            print("No training jobs.")
        else:
            for job in jobs:
                print(job_line(job))
        return 0
    finally:
        runner.close()
        runner.store.db.close()


def cmd_adapters(args) -> int:
    from jarvis_desktop.jobs.adapters import AdapterRegistry

    registry = AdapterRegistry()
    if args.adapters_command == "activate":
        info = registry.activate(args.name)
        if args.json:
            _print_json(info.to_dict())
        else:
            print(
                f"Active adapter: {info.name} ({info.path}); the app uses it from its next start, "
                "or at once when activated from the Training tab."
            )
        return 0
    items = registry.list()
    if args.json:
        _print_json([a.to_dict() for a in items])
        return 0
    for a in items:
        mark = "*" if a.active else " "
        kind = "built-in" if a.builtin else f"{a.steps or '?'} steps"
        state = "" if a.present else "  (missing)"
        print(f"{mark} {a.name:<24} {kind:<12} {_score(a.scores)}{state}")
    return 0


def add_parsers(sub) -> None:
    """Add ``train-adapter``, ``jobs`` and ``adapters`` to the CLI's sub-parsers."""
    from jarvis_desktop.jobs.train_process import add_arguments

    s = sub.add_parser("train-adapter", help="train a LoRA adapter for the NLU fallback (foreground)")
    add_arguments(s)
    s.set_defaults(func=cmd_train_adapter)

    s = sub.add_parser("jobs", help="background training jobs: list, show, cancel, resume, start")
    s.add_argument("--json", action="store_true")
    inner = s.add_subparsers(dest="jobs_command")
    for name, text in (
        ("cancel", "stop a queued or running job"),
        ("resume", "continue a job from its checkpoint"),
        ("show", "one job with the end of its log"),
    ):
        c = inner.add_parser(name, help=text)
        c.add_argument("id", type=int, metavar="ID")
        c.add_argument("--json", action="store_true")
    st = inner.add_parser("start", help="queue a job and follow it until it ends")
    st.add_argument("--data", help="training JSONL (default: the built-in corpus)")
    st.add_argument("--valid")
    st.add_argument("--name", help="adapter name (default: job-<id>)")
    st.add_argument("--epochs", type=float)
    st.add_argument("--max-steps", type=int)
    st.add_argument("--batch-size", type=int)
    st.add_argument("--lr", type=float)
    st.add_argument("--rank", type=int)
    st.add_argument("--alpha", type=int)
    st.add_argument("--max-len", type=int)
    st.add_argument("--first-layer", type=int)
    st.add_argument("--eval-rows", type=int)
    st.add_argument("--checkpoint-every", type=int)
    st.add_argument("--threads", type=int)
    st.add_argument("--no-gguf", action="store_true")
    st.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_jobs, jobs_command=None)

    s = sub.add_parser("adapters", help="LoRA adapters with their scores; activate one")
    s.add_argument("--json", action="store_true")
    inner = s.add_subparsers(dest="adapters_command")
    a = inner.add_parser("activate", help="make NAME the NLU fallback's adapter")
    a.add_argument("name", metavar="NAME")
    a.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_adapters, adapters_command=None)
