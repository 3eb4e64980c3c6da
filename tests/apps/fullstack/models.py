"""An app written to the shape of the FastAPI full-stack template's data layer (a corpus app).

Users with an ``EmailStr`` e-mail and a hashed password, the password's ``min_length`` rule only
in the non-table ``UserCreate``; items owned by users, ``title`` with ``min_length=1`` that only
Pydantic enforces (the project accepts it: see ``ACCEPTED``). The history moves int keys to
uuid and adds varchar limits, as the template's did (migrations/versions).
"""

import uuid

from pydantic import EmailStr
from sqlalchemy.orm import registry
from sqlmodel import Field, Relationship, SQLModel

__all__ = ["ACCEPTED", "Item", "ItemBase", "ItemCreate", "User", "UserBase", "UserCreate",
           "metadata"]

# The rules only the models enforce, which this project accepts ([tool.schemafuzz]
# accept_unguarded): they are listed in the report as accepted, not failed.
ACCEPTED = ("item.title:min_length",)


class AppModel(SQLModel, registry=registry()):
    """Base class of the app's models."""


metadata = AppModel.metadata


class UserBase(AppModel):
    email: EmailStr = Field(unique=True, index=True, max_length=255)
    is_active: bool = True
    is_superuser: bool = False
    full_name: str | None = Field(default=None, max_length=255)


class UserCreate(UserBase):
    password: str = Field(min_length=8, max_length=40)


class User(UserBase, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    hashed_password: str
    items: list["Item"] = Relationship(back_populates="owner", cascade_delete=True)


class ItemBase(AppModel):
    title: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=255)


class ItemCreate(ItemBase):
    pass


class Item(ItemBase, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="user.id", nullable=False, ondelete="CASCADE")
    owner: User | None = Relationship(back_populates="items")
