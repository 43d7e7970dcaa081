"""Submit, follow and delete a template draft at Meta (or the sandbox emulator) — issue 6.

- `submit_template`: lint first (blocking findings → `SubmitBlocked`, nothing is sent); a draft
  without a Meta ID is created with `create_request(draft)` (the one payload builder); a draft
  with one is edited (`POST /{template-id}` with components and category) when Meta's status is
  APPROVED, REJECTED or PAUSED. Name and language are fixed by Meta's edit rules: a draft whose
  name or language differs from Meta's is refused (`EditNotAllowed`) before anything is sent.
  Meta's ID and status are stored on the draft row.
- `refresh_template_status`: reads the template by ID, stores status and rejected reason.
- `delete_template`: deletes at Meta (this language only: `hsm_id`) and the local row; the GUI
  confirms first. A draft never submitted is only deleted locally.

The client's typed errors (`wa_console.meta.errors.MetaError` subclasses) propagate unchanged.
"""

from __future__ import annotations

from typing import Any

from wa_console.core.templates.lint import blocks_submit, lint
from wa_console.core.templates.model import TemplateDraft
from wa_console.core.templates.payload import create_request
from wa_console.meta.client import GraphClient
from wa_console.ops.context import OpContext
from wa_console.ops.provider import client_for, waba_id_of
from wa_console.store.accounts import AccountStore
from wa_console.store.drafts import (
    DraftError,
    DraftRecord,
    delete_draft,
    load_draft,
    record_status,
    record_submission,
)

__all__ = [
    "EDITABLE_STATUSES",
    "EditNotAllowed",
    "NotSubmitted",
    "SubmitBlocked",
    "TemplateOpError",
    "delete_template",
    "refresh_template_status",
    "submit_template",
]

EDITABLE_STATUSES = ("APPROVED", "REJECTED", "PAUSED")


class TemplateOpError(Exception):
    """A template action refused before anything was sent to Meta."""


class SubmitBlocked(TemplateOpError):
    """Lint found errors that Meta's review would reject; `findings` are the blocking ones."""

    def __init__(self, name: str, findings: list[Any]) -> None:
        self.findings = findings
        codes = ", ".join(f.code for f in findings)
        details = "; ".join(f"{f.code}: {f.message}" for f in findings)
        super().__init__(f"'{name}' was not submitted: fix {len(findings)} lint error(s) first "
                         f"({codes}). {details}")


class EditNotAllowed(TemplateOpError):
    """Meta's edit rules forbid this edit (status, or a changed name/language)."""


class NotSubmitted(TemplateOpError):
    """The draft has no Meta ID yet."""


def _draft(store: AccountStore, account_id: int, draft_id: int) -> DraftRecord:
    rec = load_draft(store.engine, draft_id)
    if rec.account_id != account_id:
        raise DraftError(f"Draft #{draft_id} belongs to another account.")
    return rec


def _edit(graph: GraphClient, rec: DraftRecord, draft: TemplateDraft,
          request: dict[str, Any]) -> dict[str, Any]:
    """Check Meta's edit rules against the template as Meta has it, then edit it."""
    assert rec.meta_id is not None
    current = graph.template(rec.meta_id)
    status = str(current.get("status") or "")
    if status not in EDITABLE_STATUSES:
        raise EditNotAllowed(
            f"'{draft.name}' is {status or 'in an unknown state'} at Meta; only APPROVED, "
            "REJECTED or PAUSED templates can be edited. Wait for the review, then refresh.")
    for field in ("name", "language"):
        meta_value = current.get(field)
        if meta_value is not None and meta_value != getattr(draft, field):
            raise EditNotAllowed(
                f"The {field} of a submitted template can't be changed (Meta's edit rules): it "
                f"is {meta_value!r} at Meta, the draft says {getattr(draft, field)!r}. Change "
                f"it back, or duplicate the draft to create a new template.")
    changes: dict[str, Any] = {"components": request["components"],
                               "category": request["category"]}
    if current.get("parameter_format") not in (None, request["parameter_format"]):
        changes["parameter_format"] = request["parameter_format"]
    graph.edit_template(rec.meta_id, changes)  # Meta answers {"success": true}
    return {"id": rec.meta_id, "status": "PENDING", "category": request["category"]}


def submit_template(ctx: OpContext, store: AccountStore, account_id: int, draft_id: int,
                    base_url: str | None = None) -> DraftRecord:
    """Create (or, once submitted, edit) the draft's template at Meta; store ID and status."""
    record = store.get(account_id)
    rec = _draft(store, account_id, draft_id)
    draft = rec.draft
    ctx.report(5, "Checking the draft…")
    blocking = [f for f in lint(draft) if f.is_error]
    if blocks_submit(blocking):
        raise SubmitBlocked(draft.name, blocking)
    waba_id = waba_id_of(record)
    request = create_request(draft)
    ctx.check_cancelled()
    with client_for(record, store.secrets, ctx, base_url) as graph:
        if rec.meta_id:
            ctx.report(30, f"Editing '{draft.name}' ({draft.language}) at Meta…")
            answer = _edit(graph, rec, draft, request)
        else:
            ctx.report(30, f"Creating '{draft.name}' ({draft.language}) at Meta…")
            answer = graph.create_template(waba_id, request)
    ctx.report(90, "Saving Meta's answer…")
    stored = record_submission(store.engine, draft_id, str(answer["id"]),
                               answer.get("status"), answer.get("category"))
    ctx.report(100, f"'{draft.name}' submitted: {stored.status}")
    return stored


def refresh_template_status(ctx: OpContext, store: AccountStore, account_id: int,
                            draft_id: int, base_url: str | None = None) -> DraftRecord:
    """Read the submitted template by ID and store its status and rejected reason."""
    record = store.get(account_id)
    rec = _draft(store, account_id, draft_id)
    if not rec.meta_id:
        raise NotSubmitted(f"'{rec.draft.name}' has not been submitted yet; submit it first.")
    ctx.report(10, f"Reading the status of '{rec.draft.name}'…")
    with client_for(record, store.secrets, ctx, base_url) as graph:
        current = graph.template(rec.meta_id)
    stored = record_status(store.engine, draft_id, current.get("status"),
                           current.get("rejected_reason"), current.get("category"))
    ctx.report(100, f"'{rec.draft.name}': {stored.status}")
    return stored


def delete_template(ctx: OpContext, store: AccountStore, account_id: int, draft_id: int,
                    base_url: str | None = None) -> None:
    """Delete the template at Meta (this language only) and the local draft row."""
    record = store.get(account_id)
    rec = _draft(store, account_id, draft_id)
    if rec.meta_id:
        waba_id = waba_id_of(record)
        ctx.report(10, f"Deleting '{rec.draft.name}' ({rec.draft.language}) at Meta…")
        with client_for(record, store.secrets, ctx, base_url) as graph:
            name = str(graph.template(rec.meta_id).get("name") or rec.draft.name)
            graph.delete_template(waba_id, name, rec.meta_id)
    delete_draft(store.engine, draft_id)
    ctx.report(100, f"'{rec.draft.name}' deleted")
