"""The Training tab (PySide6): :class:`~.tab.TrainingTab` over :class:`~.controller.JobsController`,
with :class:`~.plot.LossPlot` for the loss curve. Engine work lives in :mod:`jarvis_desktop.jobs`."""

from jarvis_desktop.ui.training_tab.controller import JobsController
from jarvis_desktop.ui.training_tab.plot import LossPlot
from jarvis_desktop.ui.training_tab.tab import TrainingTab

__all__ = ["JobsController", "LossPlot", "TrainingTab"]
