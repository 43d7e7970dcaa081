"""Template drafts in the store: round trip, optimistic concurrency, copies (SQLite, PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.support.sandbox_account import TOKEN
from wa_console.core.credentials import SecretEdit
from wa_console.core.sandbox_defaults import SANDBOX_ACCOUNT_NAME, SANDBOX_VALUES
from wa_console.core.templates.model import (
    Button,
    ButtonType,
    Category,
    HeaderFormat,
    ParameterFormat,
    TemplateDraft,
)
from wa_console.core.templates.payload import create_request
from wa_console.store import drafts, synced
from wa_console.store.accounts import AccountStore, ConflictError
from wa_console.store.secrets import SecretStore

FULL = TemplateDraft(
    name="attendance_absent", language="pt_BR", category=Category.UTILITY,
    body="Olá {{1}}, {{2}} faltou hoje. Responda se precisar de ajuda.",
    parameter_format=ParameterFormat.POSITIONAL, header_format=HeaderFormat.TEXT,
    header_text="Aviso {{1}}", header_handle="", footer="Escola Exemplo",
    buttons=(Button(ButtonType.QUICK_REPLY, "Ok"),
             Button(ButtonType.URL, "Ver", url="https://example.org/a/{{1}}", url_sample="A7"),
             Button(ButtonType.PHONE_NUMBER, "Ligar", phone_number="+5511999990000")),
    header_keys=("class_name",), body_keys=("guardian", "student"),
    samples={"class_name": "7B", "guardian": "Ana", "student": "Rui"},
    event_key="attendance.absent", description="Sent when a student is absent.",
    sender_account="+15550001111", provider_account="Main campus WhatsApp")

ORDER_UPDATE = {
    "id": "900001", "name": "order_update", "language": "en_US", "status": "APPROVED",
    "category": "UTILITY", "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}",
         "example": {"header_text": ["A-1001"]}},
        {"type": "BODY", "text": "Hi {{1}}, your order will arrive on {{2}}. Reply to this "
                                 "message if anything is wrong.",
         "example": {"body_text": [["Ana", "Friday"]]}},
        {"type": "FOOTER", "text": "Sandbox Store (simulated)"},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Looks good"},
                                        {"type": "QUICK_REPLY", "text": "Change date"}]}]}


@pytest.fixture
def store(db_url: str, open_db) -> AccountStore:  # type: ignore[no-untyped-def]
    return AccountStore(open_db(db_url), SecretStore())


@pytest.fixture
def account_id(store: AccountStore) -> int:
    return store.create({**SANDBOX_VALUES, "account_name": SANDBOX_ACCOUNT_NAME},
                        {"access_token": SecretEdit("set", TOKEN)}).id


def test_save_and_load_round_trip_every_field(store: AccountStore, account_id: int) -> None:
    """Every TemplateDraft field and the sender account come back exactly as saved."""
    saved = drafts.save_draft(store.engine, account_id, FULL)
    loaded = drafts.load_draft(store.engine, saved.id)
    assert loaded.draft == FULL
    assert loaded.draft.sender_account == "+15550001111"
    assert loaded.version == 1 and loaded.account_id == account_id
    assert (loaded.meta_id, loaded.status, loaded.rejected_reason) == (None, None, None)
    assert loaded.updated_at is not None and loaded.updated_at.tzinfo is not None
    assert abs((datetime.now(UTC) - loaded.updated_at).total_seconds()) < 60
    named = replace(FULL, parameter_format=ParameterFormat.NAMED, header_format=HeaderFormat.IMAGE,
                    header_text="", header_handle="4::aW1hZ2U=", header_keys=(),
                    body="Olá {{guardian}}, {{student}} faltou hoje.", buttons=())
    again = drafts.save_draft(store.engine, account_id, named, saved.id, expected_version=1)
    assert again.version == 2
    assert drafts.load_draft(store.engine, saved.id).draft == named


def test_version_conflict_writes_nothing(store: AccountStore, account_id: int) -> None:
    """A save with a stale version raises a ConflictError and leaves the stored draft alone."""
    saved = drafts.save_draft(store.engine, account_id, FULL)
    drafts.save_draft(store.engine, account_id, replace(FULL, footer="A"), saved.id, 1)
    with pytest.raises(ConflictError, match="changed elsewhere"):
        drafts.save_draft(store.engine, account_id, replace(FULL, footer="B"), saved.id, 1)
    current = drafts.load_draft(store.engine, saved.id)
    assert (current.draft.footer, current.version) == ("A", 2)
    drafts.delete_draft(store.engine, saved.id)
    with pytest.raises(drafts.DraftConflict, match="deleted elsewhere"):
        drafts.save_draft(store.engine, account_id, FULL, saved.id, 2)


def test_list_and_delete_drafts_only_see_drafts(store: AccountStore, account_id: int) -> None:
    """list_drafts lists drafts (not synced rows) by name; delete_draft removes one."""
    synced.write_template_sync(store.engine, account_id, [ORDER_UPDATE], simulated=True,
                               started_at=datetime.now(UTC), finished_at=datetime.now(UTC))
    b = drafts.save_draft(store.engine, account_id, replace(FULL, name="b_notice"))
    a = drafts.save_draft(store.engine, account_id, replace(FULL, name="a_notice"))
    assert [d.id for d in drafts.list_drafts(store.engine, account_id)] == [a.id, b.id]
    drafts.delete_draft(store.engine, a.id)
    assert [d.id for d in drafts.list_drafts(store.engine, account_id)] == [b.id]
    with pytest.raises(drafts.DraftError, match="does not exist"):
        drafts.load_draft(store.engine, a.id)
    synced_id = next(t.id for t in synced.template_list(store.engine, account_id) if t.meta_id)
    with pytest.raises(drafts.DraftError):
        drafts.delete_draft(store.engine, synced_id)


def test_draft_from_synced_round_trips_components(store: AccountStore, account_id: int) -> None:
    """A synced approved template opens as a new local draft whose create request is Meta's."""
    synced.write_template_sync(store.engine, account_id, [ORDER_UPDATE], simulated=True,
                               started_at=datetime.now(UTC), finished_at=datetime.now(UTC))
    row = next(t for t in synced.template_list(store.engine, account_id) if t.meta_id)
    copy = drafts.draft_from_synced(store.engine, row.id)
    assert copy.id != row.id and copy.meta_id is None and copy.status is None
    assert copy.draft.header_keys == ("header_1",)
    assert copy.draft.body_keys == ("body_1", "body_2")
    assert create_request(copy.draft)["components"] == ORDER_UPDATE["components"]
    assert drafts.load_draft(store.engine, copy.id).draft == copy.draft


def test_duplicate_to_language(store: AccountStore, account_id: int) -> None:
    """A draft duplicated to another language is a new unsubmitted draft with the same content."""
    saved = drafts.save_draft(store.engine, account_id, FULL)
    drafts.record_submission(store.engine, saved.id, "123", "APPROVED")
    copy = drafts.duplicate_to_language(store.engine, saved.id, "en_US")
    assert copy.id != saved.id and copy.meta_id is None and copy.status is None
    assert copy.draft == replace(FULL, language="en_US")
    assert copy.draft.sender_account == "+15550001111"
    assert drafts.load_draft(store.engine, saved.id).draft.language == "pt_BR"
