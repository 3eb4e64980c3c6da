"""The mutation benchmark's CI subset: a few mutants of the reference schema, generated from
its live catalogue, each killed by the properties selected for its kind (``bench/mutants.py``),
and a mutant declared equivalent that no selected property kills."""

from __future__ import annotations

import pytest

from bench import mutants
from schemafuzz.harness import DatabaseFactory

# Mutant -> the property expected to kill it (None: declared equivalent, must survive).
# The properties marked in SHRINK_OFF are Hypothesis tests: without --shrink a child runs
# them without the shrink phase, so at most two of their examples fail (the first failure
# and Hypothesis' replay of it), not the hundreds a shrink would run.
CASES = {
    "timestamptz:users.created_at": "test_datetime_columns_are_timestamptz[users]",
    "on_delete:fk_tasks_user_id_users->NO ACTION":
        "test_orm_and_sql_deletes_agree_with_the_declared_on_delete[tasks.user_id->users]",
    "drop_check:ck_users_email_length":
        "test_violations_are_refused_with_their_sqlstate[users.email:ck_users_email_length]",
    "drop_trigger:conversations_timestamps_before_update":
        "test_updates_keep_created_at_and_advance_updated_at[conversations]",
    "drop_index:ix_tasks_user_id": "test_schema_under_test_equals_the_models",
    "drop_check:ck_tasks_title_length": None,
}
SHRINK_OFF = {"on_delete:fk_tasks_user_id_users->NO ACTION", "drop_check:ck_users_email_length",
              "drop_trigger:conversations_timestamps_before_update"}


@pytest.fixture(scope="session")
def catalogue(schemafuzz_server: DatabaseFactory) -> tuple[list[mutants.Mutant], str]:
    """The mutants of the migrated reference schema, and its schema-only dump."""
    return mutants.prepare(schemafuzz_server)


def test_catalogue_comes_from_the_live_schema(catalogue: tuple[list[mutants.Mutant], str]
                                              ) -> None:
    found, dump = catalogue
    ids = {m.id for m in found}
    assert len(ids) == len(found), "mutant ids are unique"
    assert {m.kind for m in found} == set(mutants.SELECTION), "every kind has mutants"
    assert set(mutants.QUICK) <= ids
    # Every FK of the dump: dropped, and its ON DELETE changed both ways.
    for fk in ("fk_tasks_user_id_users", "fk_conversations_user_id_users",
               "fk_messages_conversation_id_conversations"):
        assert fk in dump
        assert {f"drop_fk:{fk}", f"on_delete:{fk}->NO ACTION", f"on_delete:{fk}->SET NULL"} <= ids
    equivalent = {m.id for m in found if m.equivalent}
    # The min-length CHECKs implied by a not-blank CHECK; an index is never equivalent (the
    # design lists each one, and the schema comparison sees it go).
    assert {"drop_check:ck_tasks_title_length", "drop_check:ck_messages_content_length"
            } <= equivalent
    assert "drop_index:ix_tasks_user_id" not in equivalent
    assert "drop_check:ck_users_email_length" not in equivalent  # no not-blank CHECK on email
    assert "drop_indexes:tasks(user_id)" in ids and "drop_indexes:tasks(user_id)" not in equivalent


def test_quick_mutants_are_killed_by_their_property(
        catalogue: tuple[list[mutants.Mutant], str], schemafuzz_server: DatabaseFactory) -> None:
    found, dump = catalogue
    by_id = {m.id: m for m in found}
    results = mutants.run_mutants([by_id[i] for i in CASES], dump, schemafuzz_server, workers=2,
                                  timeout=300)  # a hung child, not a slow one
    for result in results:
        expected = CASES[result.mutant.id]
        if expected is None:
            assert result.status == "equivalent", (result.mutant.id, result.first_failure,
                                                   result.detail[-2000:])
            continue
        assert result.status == "killed", (result.mutant.id, result.status, result.summary,
                                           result.detail[-2000:])
        assert result.first_failure is not None and result.first_failure.endswith(expected), \
            (result.mutant.id, result.first_failure)
        assert result.finding and result.finding.startswith("FINDING "), result.finding
        if result.mutant.id in SHRINK_OFF:
            assert result.failed_examples in (1, 2), (result.mutant.id, result.failed_examples)
    summary = mutants.summarise(results)
    assert summary.kill_rate == 1.0 and not summary.survived and not summary.errors
