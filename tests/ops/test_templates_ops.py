"""Submit, refresh, edit and delete template drafts against the emulator and a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import Engine, text

from tests.support.sandbox_account import TOKEN
from wa_console.core.credentials import SecretEdit
from wa_console.core.sandbox_defaults import SANDBOX_ACCOUNT_NAME, SANDBOX_VALUES
from wa_console.core.templates.model import Category, HeaderFormat, TemplateDraft
from wa_console.core.templates.payload import create_request
from wa_console.meta.errors import MetaError
from wa_console.ops import templates as ops
from wa_console.ops.context import OpContext
from wa_console.ops.sync import sync_templates
from wa_console.sandbox import SandboxServer, seeded_world
from wa_console.store import drafts, synced
from wa_console.store.accounts import AccountStore
from wa_console.store.secrets import SecretStore

DRAFT = TemplateDraft(
    name="attendance_absent", language="en_US", category=Category.UTILITY,
    body="Hello {{1}}, {{2}} was absent today. Reply if you need help.",
    header_format=HeaderFormat.TEXT, header_text="Class {{1}}", footer="Example School",
    header_keys=("class_name",), body_keys=("guardian", "student"),
    samples={"class_name": "7B", "guardian": "Ana", "student": "Rui"},
    event_key="attendance.absent", description="Sent when a student is absent.")


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    world = seeded_world(templates=20)
    world.review_delay = 0
    with SandboxServer(world, "127.0.0.1", 0) as srv:
        yield srv


@pytest.fixture
def store(sqlite_url: str, open_db) -> AccountStore:  # type: ignore[no-untyped-def]
    return AccountStore(open_db(sqlite_url), SecretStore())


@pytest.fixture
def account_id(store: AccountStore) -> int:
    return store.create({**SANDBOX_VALUES, "account_name": SANDBOX_ACCOUNT_NAME},
                        {"access_token": SecretEdit("set", TOKEN)}).id


def row(engine: Engine, row_id: int) -> dict:
    with engine.connect() as connection:
        return dict(connection.execute(text("SELECT * FROM message_template WHERE id = :i"),
                                       {"i": row_id}).one()._mapping)


def test_sync_never_touches_drafts(store: AccountStore, account_id: int,
                                   server: SandboxServer) -> None:
    """A template sync (first and repeated) leaves a local draft's row exactly as it was."""
    saved = drafts.save_draft(store.engine, account_id, DRAFT)
    before = row(store.engine, saved.id)
    sync_templates(OpContext(), store, account_id, base_url=server.base_url)
    sync_templates(OpContext(), store, account_id, base_url=server.base_url)
    assert row(store.engine, saved.id) == before
    assert drafts.load_draft(store.engine, saved.id).draft == DRAFT


def test_submit_pending_then_refresh_approved(store: AccountStore, account_id: int,
                                              server: SandboxServer) -> None:
    """Submit stores Meta's ID and PENDING; refresh then stores APPROVED; sync keeps the draft."""
    saved = drafts.save_draft(store.engine, account_id, DRAFT)
    reports: list[tuple[int, str]] = []
    ctx = OpContext(report=lambda pct, t: reports.append((pct, t)))
    submitted = ops.submit_template(ctx, store, account_id, saved.id, base_url=server.base_url)
    assert submitted.meta_id and submitted.status == "PENDING"
    assert submitted.draft.external_id == submitted.meta_id
    assert reports[-1][0] == 100
    meta = server.world.templates[submitted.meta_id]
    assert (meta.name, meta.language) == (DRAFT.name, DRAFT.language)
    assert meta.components == create_request(DRAFT)["components"]
    refreshed = ops.refresh_template_status(OpContext(), store, account_id, saved.id,
                                            base_url=server.base_url)
    assert (refreshed.status, refreshed.rejected_reason) == ("APPROVED", "NONE")
    assert refreshed.version == saved.version
    sync_templates(OpContext(), store, account_id, base_url=server.base_url)
    after = drafts.load_draft(store.engine, saved.id)
    assert after.draft == replace(DRAFT, external_id=submitted.meta_id)
    assert after.status == "APPROVED"


def test_review_rejection_stores_reason(store: AccountStore, account_id: int,
                                        server: SandboxServer) -> None:
    """A template the review rejects ends REJECTED with Meta's rejected_reason stored."""
    server.world.review_overrides[DRAFT.name] = ("REJECTED", "TAG_CONTENT_MISMATCH")
    saved = drafts.save_draft(store.engine, account_id, DRAFT)
    ops.submit_template(OpContext(), store, account_id, saved.id, base_url=server.base_url)
    refreshed = ops.refresh_template_status(OpContext(), store, account_id, saved.id,
                                            base_url=server.base_url)
    assert (refreshed.status, refreshed.rejected_reason) == ("REJECTED", "TAG_CONTENT_MISMATCH")
    assert drafts.load_draft(store.engine, saved.id).rejected_reason == "TAG_CONTENT_MISMATCH"


def test_lint_blocked_submit_is_refused(store: AccountStore, account_id: int,
                                        server: SandboxServer) -> None:
    """A draft with lint errors is not sent; the error names the finding codes."""
    bad = replace(DRAFT, body="{{1}} was absent today.", body_keys=(), samples={})
    saved = drafts.save_draft(store.engine, account_id, bad)
    count = len(server.world.templates)
    with pytest.raises(ops.SubmitBlocked) as caught:
        ops.submit_template(OpContext(), store, account_id, saved.id, base_url=server.base_url)
    message = str(caught.value)
    for code in ("body.starts_with_variable", "keys.body_mismatch", "samples.missing"):
        assert code in message
    assert {f.code for f in caught.value.findings} >= {"body.starts_with_variable"}
    assert len(server.world.templates) == count
    assert drafts.load_draft(store.engine, saved.id).meta_id is None


def test_edit_approved_keeps_name_and_goes_back_to_pending(store: AccountStore, account_id: int,
                                                          server: SandboxServer) -> None:
    """Re-submitting an approved draft edits the same template (PENDING); a rename is refused."""
    saved = drafts.save_draft(store.engine, account_id, DRAFT)
    first = ops.submit_template(OpContext(), store, account_id, saved.id,
                                base_url=server.base_url)
    ops.refresh_template_status(OpContext(), store, account_id, saved.id,
                                base_url=server.base_url)
    count = len(server.world.templates)
    edited = replace(DRAFT, footer="Example School, front office")
    current = drafts.load_draft(store.engine, saved.id)
    drafts.save_draft(store.engine, account_id, edited, saved.id, current.version)
    server.world.review_delay = 60  # keep the edit in review while this test looks at it
    again = ops.submit_template(OpContext(), store, account_id, saved.id,
                                base_url=server.base_url)
    assert (again.meta_id, again.status) == (first.meta_id, "PENDING")
    assert len(server.world.templates) == count
    meta = server.world.templates[first.meta_id]
    assert (meta.name, meta.language, meta.status) == (DRAFT.name, DRAFT.language, "PENDING")
    assert {"type": "FOOTER", "text": "Example School, front office"} in meta.components
    # While PENDING it can't be edited; once approved a rename is refused before sending.
    with pytest.raises(ops.EditNotAllowed, match="PENDING"):
        ops.submit_template(OpContext(), store, account_id, saved.id, base_url=server.base_url)
    server.world.templates[first.meta_id].status = "APPROVED"
    current = drafts.load_draft(store.engine, saved.id)
    drafts.save_draft(store.engine, account_id, replace(edited, name="absent_notice"), saved.id,
                      current.version)
    with pytest.raises(ops.EditNotAllowed, match="name of a submitted template"):
        ops.submit_template(OpContext(), store, account_id, saved.id, base_url=server.base_url)
    assert server.world.templates[first.meta_id].name == DRAFT.name


def test_delete_template_at_meta_and_locally(store: AccountStore, account_id: int,
                                             server: SandboxServer) -> None:
    """Delete removes the template at Meta and the draft row; Meta's errors then propagate."""
    saved = drafts.save_draft(store.engine, account_id, DRAFT)
    submitted = ops.submit_template(OpContext(), store, account_id, saved.id,
                                    base_url=server.base_url)
    ops.delete_template(OpContext(), store, account_id, saved.id, base_url=server.base_url)
    assert submitted.meta_id not in server.world.templates
    assert drafts.list_drafts(store.engine, account_id) == []
    local = drafts.save_draft(store.engine, account_id, replace(DRAFT, name="never_sent"))
    ops.delete_template(OpContext(), store, account_id, local.id, base_url=server.base_url)
    assert drafts.list_drafts(store.engine, account_id) == []
    gone = drafts.save_draft(store.engine, account_id, DRAFT)
    drafts.record_submission(store.engine, gone.id, str(submitted.meta_id), "APPROVED")
    with pytest.raises(MetaError):
        ops.refresh_template_status(OpContext(), store, account_id, gone.id,
                                    base_url=server.base_url)


def test_draft_from_synced_order_update(store: AccountStore, account_id: int,
                                        server: SandboxServer) -> None:
    """The seeded order_update opens as a draft whose create request rebuilds Meta's components."""
    sync_templates(OpContext(), store, account_id, base_url=server.base_url)
    found = next(t for t in synced.template_list(store.engine, account_id)
                 if (t.name, t.language) == ("order_update", "en_US"))
    copy = drafts.draft_from_synced(store.engine, found.id)
    meta = server.world.templates[str(found.meta_id)]
    assert copy.meta_id is None and copy.draft.samples == {
        "header_1": "A-1001", "body_1": "Ana", "body_2": "Friday"}
    assert create_request(copy.draft)["components"] == meta.components
    pt = drafts.duplicate_to_language(store.engine, copy.id, "es")
    assert pt.draft == replace(copy.draft, language="es")
    rejected = next(t for t in synced.template_list(store.engine, account_id)
                    if t.name == "rejected_offer")
    with pytest.raises(drafts.DraftError, match="only APPROVED"):
        drafts.draft_from_synced(store.engine, rejected.id)
