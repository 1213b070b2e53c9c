"""The model catalogue and model downloads (no Qt; ``huggingface_hub`` is imported only when downloading).

The API the CLI (``jarvis-desktop models``) and the Settings window share (docs/models.md)::

    from jarvis_desktop import catalog

    catalog.entries(kind=None) -> list[CatalogEntry]          # the curated list, in display order
    catalog.get_entry(entry_id) -> CatalogEntry               # BadInputError for an unknown id
    catalog.state(entry, settings) -> InstalledState          # installed?, path, footprint on disk, partial bytes
    catalog.is_active(entry, settings) -> bool                # the model Jarvis loads for its kind
    catalog.download(entry, settings, progress=cb, cancel=event) -> Path   # blocking: call it on a worker thread
    catalog.use(entry, settings) -> Path                      # edits settings in memory; then config.save_settings
    catalog.remove(entry, settings) -> int                    # bytes freed
    catalog.model_footprint_mib(path) -> float

``download`` reports :class:`DownloadProgress` (bytes done/total) and raises :class:`HubUnreachableError`,
:class:`NotEnoughDiskError`, :class:`ChecksumMismatchError`, :class:`DownloadError` or
:class:`~jarvis_desktop.errors.Cancelled`; all are :class:`~jarvis_desktop.errors.JarvisError` with a
``user_message()`` fit for a dialog.
"""

from __future__ import annotations

from jarvis_desktop.catalog.download import (
    ChecksumMismatchError,
    DownloadError,
    DownloadProgress,
    HubUnreachableError,
    NotEnoughDiskError,
    check_disk_space,
    download,
    hub_endpoint,
)
from jarvis_desktop.catalog.entries import CATALOG, KINDS, CatalogEntry, Kind, entries, get_entry
from jarvis_desktop.catalog.installed import (
    InstalledState,
    entry_dir,
    installed_path,
    is_active,
    is_installed,
    model_footprint_mib,
    models_root,
    remove,
    state,
    use,
)

__all__ = [
    "CATALOG",
    "KINDS",
    "CatalogEntry",
    "ChecksumMismatchError",
    "DownloadError",
    "DownloadProgress",
    "HubUnreachableError",
    "InstalledState",
    "Kind",
    "NotEnoughDiskError",
    "check_disk_space",
    "download",
    "entries",
    "entry_dir",
    "get_entry",
    "hub_endpoint",
    "installed_path",
    "is_active",
    "is_installed",
    "model_footprint_mib",
    "models_root",
    "remove",
    "state",
    "use",
]
