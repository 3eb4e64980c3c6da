from backend.models import Note


def test_own_fixture_is_untouched(db: str) -> None:
    assert db == "the project's own db fixture"


def test_a_note_has_a_title() -> None:
    assert Note.model_validate({"notebook_id": "00000000-0000-0000-0000-000000000001",
                                "title": "x"}).title == "x"
