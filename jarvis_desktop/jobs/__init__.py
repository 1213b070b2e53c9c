"""Background LoRA training jobs: queue, runner, job process, adapter registry (no Qt, no torch).

* :mod:`.datasets`: the built-in corpus, or a user JSONL file validated line by line.
* :mod:`.spec`: :class:`~.spec.JobSpec`, a job's parameters and the ``train-adapter`` command line they make.
* :mod:`.store`: jobs and their events in the app's SQLite database (migration 3 of :mod:`jarvis_desktop.store.db`).
* :mod:`.backends`: where a job runs; :class:`~.backends.LocalProcessBackend` (an OS process on this machine)
  is the one built; remote backends (Ray Jobs, SSH) plug in here (docs/training.md).
* :mod:`.runner`: :class:`~.runner.JobRunner`: one job at a time by default, progress read from the job's
  JSON-lines file, cancel (SIGTERM then SIGKILL), resume, recovery after a restart.
* :mod:`.train_process`: the job process itself (``jarvis-desktop train-adapter``); the only module here that
  imports torch, and only inside its functions.
* :mod:`.adapters`: adapters on disk (built-in + trained), their scores, the active one, the hot swap.

Importing this package is cheap (stdlib + psutil).
"""
