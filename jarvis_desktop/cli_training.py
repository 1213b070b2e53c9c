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

import argparse
import sys
import threading

from jarvis_desktop.cli_common import positive_id, print_json
from jarvis_desktop.config import database_path, load_settings
from jarvis_desktop.jobs.adapters import AdapterRegistry, activate_adapter
from jarvis_desktop.jobs.backends import make_backend
from jarvis_desktop.jobs.events import JobEvent, StatusEvent
from jarvis_desktop.jobs.runner import JobRunner, log_tail
from jarvis_desktop.jobs.spec import JobSpec
from jarvis_desktop.jobs.store import JobRecord
from jarvis_desktop.jobs.train_process import add_arguments as add_train_arguments
from jarvis_desktop.jobs.train_process import main as train_process_main
from jarvis_desktop.store.db import Database
from jarvis_desktop.training.options import add_arguments as add_option_arguments
from jarvis_desktop.training.options import given_values


def _runner(recover: bool = True) -> JobRunner:
    training = load_settings().training
    return JobRunner(
        Database(database_path()),
        make_backend(training.backend, nice=training.nice),
        max_concurrent=training.max_concurrent,
        cancel_timeout_s=training.cancel_timeout_s,
        recover=recover,
    )


def _score(scores: dict[str, float] | None) -> str:
    if not scores:
        return "-"
    return f"exact {scores.get('exact_accuracy', 0):.1f} % · intent {scores.get('intent_accuracy', 0):.1f} %"


def job_line(job: JobRecord) -> str:
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


def cmd_train_adapter(args: argparse.Namespace) -> int:
    return train_process_main(args)


def _follow(runner: JobRunner, job_id: int, as_json: bool) -> int:
    """Print the job's events until it ends; Ctrl-C interrupts it (resumable). Returns the exit code."""
    ended = threading.Event()

    def show(jid: int, ev: JobEvent) -> None:
        if jid != job_id:
            return
        if as_json:
            print_json(ev.to_dict())
        else:
            text = ev.human()
            if text:
                print(text, flush=True)
        if isinstance(ev, StatusEvent) and ev.job.final:
            ended.set()

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


def _start_job(runner: JobRunner, args: argparse.Namespace) -> int:
    """``jobs start``: queue a job with the options given (the rest: :class:`~.jobs.spec.JobSpec`'s defaults)."""
    spec = JobSpec().updated(given_values(args, JobSpec))
    job = runner.submit(spec)
    if not args.json:
        print(f"job #{job.id} queued: adapter {job.name}", flush=True)
    return _follow(runner, job.id, args.json)


def _show_job(runner: JobRunner, args: argparse.Namespace) -> int:
    job = runner.get(args.id)
    if args.json:
        print_json(dict(job.to_dict(), log_tail=log_tail(job, 40)))
    else:
        print(job_line(job))
        print(f"log: {job.log_path}\noutput: {job.output_path}\n{log_tail(job, 20)}")
    return 0


def _list_jobs(runner: JobRunner, args: argparse.Namespace) -> int:
    jobs = runner.list_jobs()
    if args.json:
        print_json([j.to_dict() for j in jobs])
    elif not jobs:
        print("No training jobs.")
    else:
        for job in jobs:
            print(job_line(job))
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    runner = _runner()
    try:
        sub = args.jobs_command
        if sub == "cancel":
            job = runner.cancel(args.id)
            print_json(job.to_dict()) if args.json else print(f"job #{job.id}: {job.status}")
            return 0
        if sub == "resume":
            runner.resume(args.id)
            return _follow(runner, args.id, args.json)
        if sub == "start":
            return _start_job(runner, args)
        if sub == "show":
            return _show_job(runner, args)
        return _list_jobs(runner, args)
    finally:
        runner.close()
        runner.store.db.close()


def cmd_adapters(args: argparse.Namespace) -> int:
    registry = AdapterRegistry()
    if args.adapters_command == "activate":
        info = activate_adapter(args.name, registry=registry).info
        if args.json:
            print_json(info.to_dict())
        else:
            print(
                f"Active adapter: {info.name} ({info.path}); the app uses it from its next start, "
                "or at once when activated from the Training tab."
            )
        return 0
    items = registry.list_adapters()
    if args.json:
        print_json([a.to_dict() for a in items])
        return 0
    for a in items:
        mark = "*" if a.active else " "
        kind = "built-in" if a.builtin else f"{a.steps or '?'} steps"
        state = "" if a.present else "  (missing)"
        print(f"{mark} {a.name:<24} {kind:<12} {_score(a.scores)}{state}")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add ``train-adapter``, ``jobs`` and ``adapters`` to the CLI's sub-parsers. ``train-adapter`` and ``jobs
    start`` take the same training options, both derived from :class:`~.jobs.spec.JobSpec`."""
    s = sub.add_parser("train-adapter", help="train a LoRA adapter for the NLU fallback (foreground)")
    add_train_arguments(s)
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
        c.add_argument("id", type=positive_id, metavar="ID")
        c.add_argument("--json", action="store_true")
    st = inner.add_parser("start", help="queue a job and follow it until it ends")
    add_option_arguments(st, JobSpec, none_defaults=True)
    st.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_jobs, jobs_command=None)

    s = sub.add_parser("adapters", help="LoRA adapters with their scores; activate one")
    s.add_argument("--json", action="store_true")
    inner = s.add_subparsers(dest="adapters_command")
    a = inner.add_parser("activate", help="make NAME the NLU fallback's adapter")
    a.add_argument("name", metavar="NAME")
    a.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_adapters, adapters_command=None)
