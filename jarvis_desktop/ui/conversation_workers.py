"""Engine-thread jobs for the conversations sidebar (see :mod:`.workers` for how jobs run).

Each job does one :class:`~jarvis_desktop.assistant.Assistant` conversation call and reports back with
``listed(list, object)``: the conversations (most recent first, filtered by the sidebar's search) and the
current conversation's id; jobs that change the current conversation also emit ``messages(list)`` with its
messages (oldest first) for the chat panel. Errors arrive on ``failed(str)`` like every worker's.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal

from jarvis_desktop.assistant import Assistant
from jarvis_desktop.ui.workers import AssistantGetter, Worker

#: Messages loaded into the chat panel when a conversation opens.
SHOWN_MESSAGES = 200


class ConversationWorker(Worker):
    """Base of the sidebar's jobs: run :meth:`change`, then list the conversations.

    ``search``: the sidebar's search text (the list is filtered by it).
    """

    listed = Signal(list, object)  # ConversationRecord list, current id
    messages = Signal(list)  # ChatMessageRecord list of the (new) current conversation
    exported = Signal(str)  # the file written

    reloads_messages = False

    def __init__(self, search: str = "") -> None:
        super().__init__()
        self.search = search

    def change(self, assistant: Assistant) -> None:
        """The job's own call (nothing: just list)."""

    def execute(self, get: AssistantGetter) -> None:
        assistant = get()
        self.change(assistant)
        current = assistant.current_conversation()
        if self.reloads_messages:
            self.messages.emit(assistant.conversation_messages(SHOWN_MESSAGES))
        self.listed.emit(assistant.list_conversations(self.search), current)


class ListConversationsWorker(ConversationWorker):
    """Lists the conversations (start-up, search)."""


class NewConversationWorker(ConversationWorker):
    """Starts a new conversation and makes it current."""

    reloads_messages = True

    def change(self, assistant: Assistant) -> None:
        assistant.new_conversation()


class SwitchConversationWorker(ConversationWorker):
    """Makes ``conversation_id`` the current conversation."""

    reloads_messages = True

    def __init__(self, conversation_id: int, search: str = "") -> None:
        super().__init__(search)
        self.conversation_id = conversation_id

    def change(self, assistant: Assistant) -> None:
        assistant.switch_conversation(self.conversation_id)


class RenameConversationWorker(ConversationWorker):
    """Gives ``conversation_id`` the title ``title``."""

    def __init__(self, conversation_id: int, title: str, search: str = "") -> None:
        super().__init__(search)
        self.conversation_id = conversation_id
        self.title = title

    def change(self, assistant: Assistant) -> None:
        assistant.conversations.rename(self.conversation_id, self.title)


class DeleteConversationWorker(ConversationWorker):
    """Deletes ``conversation_id`` and its messages (the current one: the latest remaining becomes current)."""

    reloads_messages = True

    def __init__(self, conversation_id: int, search: str = "") -> None:
        super().__init__(search)
        self.conversation_id = conversation_id

    def change(self, assistant: Assistant) -> None:
        assistant.delete_conversation(self.conversation_id)


class ExportConversationWorker(ConversationWorker):
    """Writes ``conversation_id`` to ``path`` (``.md`` or ``.json``); ``exported(str)`` with the path."""

    def __init__(self, conversation_id: int, path: str | Path, search: str = "") -> None:
        super().__init__(search)
        self.conversation_id = conversation_id
        self.path = path

    def change(self, assistant: Assistant) -> None:
        written = assistant.export_conversation(self.conversation_id, self.path)
        self.exported.emit(str(written))
