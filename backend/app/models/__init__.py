"""The reference application's table models and their validated input models.

``metadata`` holds exactly the four tables (``users``, ``tasks``, ``conversations``,
``messages``) with their constraints, indexes, the ``message_role`` enum and (through DDL events)
the timestamp triggers, so ``metadata.create_all`` builds the same schema as
``alembic upgrade head``.

Table models (``table=True``) skip validation on construction: build rows from untrusted input
with ``Model.model_validate(data)`` or the ``*Create`` models.

The model modules do not use ``from __future__ import annotations``: SQLModel resolves the
relationship annotations (``Optional["User"]``) at class creation and cannot parse postponed
``"User | None"`` strings.
"""

from ._base import NAMING_CONVENTION, Base, metadata
from ._timestamps import install_drop_functions
from .conversation import Conversation, ConversationBase, ConversationCreate
from .message import Message, MessageBase, MessageCreate, MessageRole
from .task import Task, TaskBase, TaskCreate
from .user import User, UserBase, UserCreate

install_drop_functions(metadata)

__all__ = [
    "NAMING_CONVENTION",
    "Base",
    "Conversation",
    "ConversationBase",
    "ConversationCreate",
    "Message",
    "MessageBase",
    "MessageCreate",
    "MessageRole",
    "Task",
    "TaskBase",
    "TaskCreate",
    "User",
    "UserBase",
    "UserCreate",
    "metadata",
]
