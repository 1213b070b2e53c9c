"""The Knowledge tab (PySide6): :class:`~.tab.KnowledgeTab` (folders, index status, pause, search with snippets) over
:class:`~.controller.KnowledgeController` (every engine call on a worker thread), and :class:`~.sources.SourcesList`,
the numbered sources under a grounded reply. Engine work lives in :mod:`jarvis_desktop.knowledge`."""

from jarvis_desktop.ui.knowledge_tab.controller import KnowledgeController
from jarvis_desktop.ui.knowledge_tab.sources import SourcesList
from jarvis_desktop.ui.knowledge_tab.tab import KnowledgeTab

__all__ = ["KnowledgeController", "KnowledgeTab", "SourcesList"]
