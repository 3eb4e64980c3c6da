"""from_json_schema(): what Pydantic's JSON schema allows, the model and PostgreSQL accept."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from pydantic import ValidationError
from sqlalchemy.orm import Session

from schemafuzz import strategies as S

from .conftest import examples


@pytest.mark.parametrize("name", ["User", "Message"])
def test_backend_json_schema_values_are_accepted_by_model_and_database(conn_for, name):
    from backend.app import models as m

    model = getattr(m, name)
    connection = conn_for("backend")
    parents: dict[str, Any] = {}
    if model is m.Message:
        user = m.User.model_validate({"email": "a@b.c"})
        conv = m.Conversation.model_validate({"user_id": user.id})
        conv_id = conv.id
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            session.add_all([user, conv])
            session.commit()
        parents = {"conversation_id": [str(conv_id)]}
    rejected: Counter[str] = Counter()

    @examples(60)
    @given(S.from_json_schema(model, parents=parents))
    def check(data: dict[str, Any]) -> None:
        try:
            instance = model.model_validate(data)
        except ValidationError as error:
            rejected[str(error.errors()[0]["loc"])] += 1
            # A JSON schema cannot say "not blank" nor "updated_at >= created_at" (validators
            # backed by CHECKs): the only disagreements we accept, and it must be about them.
            assert all("blank" in e["msg"] or "earlier than" in e["msg"]
                       for e in error.errors()), error
            return
        savepoint = connection.begin_nested()
        try:
            with Session(bind=connection, join_transaction_mode="create_savepoint") as s:
                s.add(instance)
                s.flush()  # raises if PostgreSQL refuses what the model accepted
        finally:
            savepoint.rollback()

    check()


def test_json_schema_formats_are_supplied():
    from .models_numeric import Item

    @examples(30)
    @given(S.from_json_schema(Item, parents={"category_id": [1]}))
    def check(data: dict[str, Any]) -> None:
        assert data["category_id"] == 1
        if "sku" in data:
            import uuid

            uuid.UUID(data["sku"])
        sa.types  # noqa: B018 - keep import used

    check()
