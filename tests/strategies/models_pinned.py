"""Model set P: parents a violation's setup can pin to one simplest row, and parents it cannot
(a regex-shaped column; a validator that refuses the simplest value). The relationships
let the ORM order a graph's inserts, parents first."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import StringConstraints, field_validator
from sqlalchemy.orm import registry
from sqlmodel import Field, Relationship, SQLModel


class _Pinned(SQLModel, registry=registry()):
    """Own registry: nothing leaks into SQLModel.metadata or the backend's."""


metadata = _Pinned.metadata


class Account(_Pinned, table=True):
    __tablename__ = "sp_account"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=120, min_length=3, unique=True)
    seats: int = Field(gt=0)
    active: bool


class Project(_Pinned, table=True):
    __tablename__ = "sp_project"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="sp_account.id")
    name: str = Field(max_length=40)
    account: Account = Relationship()


class Doc(_Pinned, table=True):
    __tablename__ = "sp_doc"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    project_id: uuid.UUID = Field(foreign_key="sp_project.id")
    title: str = Field(max_length=8)
    project: Project = Relationship()


class Coded(_Pinned, table=True):
    __tablename__ = "sp_coded"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}-[0-9]{2}$")]


class CodedChild(_Pinned, table=True):
    __tablename__ = "sp_coded_child"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    coded_id: uuid.UUID = Field(foreign_key="sp_coded.id")
    note: str = Field(max_length=8)
    coded: Coded = Relationship()


class Picky(_Pinned, table=True):
    """A rule no constraint shows: the model refuses names without a digit."""

    __tablename__ = "sp_picky"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=20)

    @field_validator("name")
    @classmethod
    def _has_digit(cls, value: str) -> str:
        if not any(ch.isdigit() for ch in value):
            raise ValueError("a name needs a digit")
        return value


class PickyChild(_Pinned, table=True):
    __tablename__ = "sp_picky_child"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    picky_id: uuid.UUID = Field(foreign_key="sp_picky.id")
    note: str = Field(max_length=8)
    picky: Picky = Relationship()


MODELS = [Account, Project, Doc, Coded, CodedChild, Picky, PickyChild]
