"""One source for training options and typed job events, without a model: ``train-adapter`` and ``jobs
start`` take the same options (both derived from the recipe dataclass), a job spec survives the trip through
the job process's argv, and every job event survives the trip through its JSON line; a garbled line becomes
an error event, not a crash."""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import fields, replace
from pathlib import Path

import pytest
from cli_helpers import run_cli

from jarvis_desktop.cli import build_parser
from jarvis_desktop.jobs import events as ev
from jarvis_desktop.jobs.backends import JsonLinesReader
from jarvis_desktop.jobs.spec import JobSpec
from jarvis_desktop.jobs.train_process import _config, resolve_options
from jarvis_desktop.training.lora import TrainProgress
from jarvis_desktop.training.options import add_arguments, given_values, options, to_argv
from jarvis_desktop.training.recipe import LoraTrainConfig, TrainRecipe

#: Options of ``train-adapter`` that belong to the process, not to the training; and of ``jobs start``.
PROCESS_ONLY = {"--output", "--work-dir", "--resume", "--json-progress", "--probe-device", "--debug", "-h", "--help"}
JOBS_ONLY = {"--name", "--json", "--debug", "-h", "--help"}


def _flags(*command: str) -> set[str]:
    """The option strings of a sub-command of the real CLI parser."""
    parser = build_parser()
    for name in command:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return {flag for action in parser._actions for flag in action.option_strings}


def _help_flags(text: str) -> set[str]:
    return set(re.findall(r"(--[a-z][a-z0-9-]*)", text))


@pytest.mark.slow
def test_jobs_start_help_lists_every_training_option_of_train_adapter_help():
    train = run_cli("train-adapter", "--help")
    start = run_cli("jobs", "start", "--help")
    assert train.returncode == start.returncode == 0, train.stderr + start.stderr
    training_flags = _help_flags(train.stdout) - PROCESS_ONLY
    assert {"--dropout", "--seed", "--keep-checkpoints", "--zip", "--baseline", "--rank"} <= training_flags
    assert training_flags <= _help_flags(start.stdout)


def test_both_commands_take_exactly_the_options_the_dataclasses_declare():
    declared = {opt.flag for opt in options(JobSpec)}
    assert {opt.flag for opt in options(TrainRecipe)} <= declared  # the recipe is part of every job
    assert _flags("train-adapter") - PROCESS_ONLY == declared - {"--name"}
    assert _flags("jobs", "start") - JOBS_ONLY == declared - {"--name"}
    assert "--name" in _flags("jobs", "start")


def test_a_new_recipe_option_reaches_both_command_lines_and_the_argv():
    from dataclasses import dataclass

    from jarvis_desktop.training.options import option

    @dataclass
    class Extended(JobSpec):
        label_smoothing: float = option(0.0, "label smoothing of the loss")

    for exclude in ((), ("name",)):
        parser = argparse.ArgumentParser()
        add_arguments(parser, Extended, exclude=exclude, none_defaults=True)
        assert "--label-smoothing" in {f for a in parser._actions for f in a.option_strings}
    argv = to_argv(Extended(label_smoothing=0.1))
    assert argv[argv.index("--label-smoothing") + 1] == "0.1"


def _train_adapter_args(argv: list[str]) -> argparse.Namespace:
    return build_parser().parse_args(["train-adapter", *argv])


def test_a_job_spec_round_trips_through_the_job_process_argv(tmp_path):
    spec = JobSpec(
        data=str(tmp_path / "mine.jsonl"),
        valid=str(tmp_path / "valid.jsonl"),
        name="evening",
        epochs=2.5,
        batch_size=3,
        lr=3.3e-4,
        rank=4,
        alpha=9,
        dropout=0.05,
        max_len=40,
        first_layer=20,
        seed=77,
        threads=1,
        eval_rows=-1,
        checkpoint_every=7,
        keep_checkpoints=3,
        baseline="none",
        gguf=False,
        zip=True,
    )
    argv = spec.train_args(str(tmp_path / "out"), steps=123)
    got = resolve_options(_train_adapter_args(argv))
    assert got.output == str(tmp_path / "out") and not got.resuming
    assert got.spec == replace(spec, name="", max_steps=123)  # the name is the job's, --output replaces it
    cfg = _config(got.spec, Path(spec.data), Path(spec.valid))
    for f in fields(TrainRecipe):
        assert getattr(cfg, f.name) == getattr(got.spec, f.name), f.name
    assert isinstance(cfg, LoraTrainConfig) and cfg.log_every == 1 and cfg.warmup_steps == 12


def test_defaults_round_trip_and_epochs_alone_means_whole_passes():
    assert resolve_options(_train_adapter_args([])).spec == JobSpec()
    assert to_argv(JobSpec()).count("--no-gguf") == 0 and "--zip" not in to_argv(JobSpec())
    by_epochs = resolve_options(_train_adapter_args(["--epochs", "2"])).spec
    assert by_epochs.max_steps == 0 and by_epochs.steps_for(rows=100) == 25  # ceil(2 x 100 / 8)
    assert JobSpec(max_steps=5).steps_for(rows=100) == 5
    jobs_args = build_parser().parse_args(["jobs", "start", "--epochs", "0.5", "--no-gguf", "--dropout", "0.1"])
    spec = JobSpec().updated(given_values(jobs_args, JobSpec))
    assert (spec.max_steps, spec.epochs, spec.gguf, spec.dropout) == (0, 0.5, False, 0.1)


def test_a_resumed_job_keeps_its_stored_options_unless_given_again(tmp_path):
    stored = replace(JobSpec(), max_steps=9, rank=4, data="/x.jsonl")
    (tmp_path / "job.json").write_text(json.dumps(dict(stored.to_dict(), output="/o", work_dir="/w")))
    got = resolve_options(_train_adapter_args(["--resume", str(tmp_path), "--epochs", "3", "--lr", "0.002"]))
    assert got.resuming and got.output == "/o" and got.work_dir == str(tmp_path)
    assert got.spec == replace(stored, lr=0.002)  # --epochs does not undo the stored step count


SCORES = {"n": 2, "intent_accuracy": 50.0, "date_keys_accuracy": 100.0, "exact_accuracy": 50.0, "loss": 0.5}
VALIDATION = ev.JobValidation(SCORES, None, "", False, 2, True)
EXAMPLES: list[ev.JobEvent] = [
    ev.StartEvent(11, 16, "/d.jsonl", "ab" * 32, 2, "/out", "/work", "cpu", "x86_64", 2, 0),
    ev.ProgressEvent.of(TrainProgress(1, 2, 0.0625, 2.5, 1e-3, 180.5, 3.2, 3.2)),
    ev.CheckpointEvent(1, "/work/checkpoints/step-000001"),
    ev.ValidationEvent.of(replace(VALIDATION, baseline=dict(SCORES), baseline_path="/b", baseline_cached=True)),
    ev.ArtifactEvent("/out", ("adapter.gguf", "adapter_config.json")),
    ev.DoneEvent("/out", 2, ("adapter.gguf",), VALIDATION, 12.5),
    ev.DoneEvent("/out", None, (), None, 0.0),
    ev.CancelledEvent(1, "/work/checkpoints/step-000001", "--resume /work"),
    ev.InterruptedEvent(None, "", "--resume /work"),
    ev.ErrorEvent("out of memory", 1),
    ev.DeviceEvent("cpu", "x86_64", 2, "2.13.0"),
    ev.TextEvent("a library printed this"),
]


def test_every_wire_event_kind_has_an_example():
    assert {type(e).kind for e in EXAMPLES} == set(ev.WIRE_EVENTS)


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: type(e).__name__)
def test_each_event_round_trips_through_its_json_line(event):
    line = event.to_json()
    assert "\n" not in line
    assert ev.from_json(line) == event
    assert ev.from_dict({**event.to_dict(), "_id": 5}) == event  # as stored by the job store


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"event": "progress", "step": 1, "max_ste', "not valid JSON"),
        ('{"event": "telemetry", "x": 1}', "unknown event 'telemetry'"),
        ('{"step": 1}', "unknown event None"),
        ('{"event": "checkpoint", "step": 1}', "missing field 'path'"),
        ('{"event": "checkpoint", "step": "one", "path": "/p"}', "step: expected int"),
        ('{"event": "done", "output": "/o", "steps": 2, "files": [1], "validation": null, "wall_seconds": 1}', "files"),
        ('["progress"]', "not a JSON object"),
    ],
)
def test_a_garbled_or_unknown_line_is_a_clear_error_event_not_a_crash(line, reason):
    got = ev.from_json(line)
    assert isinstance(got, ev.ProtocolErrorEvent)
    assert reason in got.reason and got.line == line
    assert "unreadable line from the job" in got.human()


def test_the_reader_turns_every_line_of_a_progress_file_into_an_event(tmp_path):
    path = tmp_path / "progress.jsonl"
    good = ev.CheckpointEvent(3, "/c")
    path.write_text(f'{good.to_json()}\nWarning: something\n{{"event": "done", "outp\n{{"event": "start"')
    got = JsonLinesReader(path, offset=0).read()
    assert got[0] == good and got[1] == ev.TextEvent("Warning: something")
    assert [type(e) for e in got[2:]] == [ev.ProtocolErrorEvent]  # the unfinished last line waits for more
    assert got[2].reason == "not valid JSON"
    with path.open("a") as fh:
        fh.write(', "pid": 1}\n')
    assert [type(e) for e in JsonLinesReader(path, offset=0).read()[3:]] == [ev.ProtocolErrorEvent]  # fields


def test_human_lines_of_the_log():
    progress = EXAMPLES[1]
    assert progress.human() == "step 1/2 epoch 0.062 loss 2.5000 lr 1.00e-03 180 tok/s eta 3 s"
    assert EXAMPLES[0].human() == "training 16 rows for 2 steps on cpu"
    assert EXAMPLES[3].human().endswith("(current adapter: exact 50.0 %, scored by an earlier job)")
    assert EXAMPLES[9].human() == "error: message=out of memory, exit_code=1"
