"""Local template drafts (issue 6): save, load, list, delete, copy from a synced template.

A draft is a `message_template` row whose `draft_updated_at` is set. Its content lives in the
draft columns (event_key ... samples) plus the columns it shares with Meta's synced state:
name, language, category and parameter_format. `meta_id`, `status` and `rejected_reason` are
Meta's: a draft gets them when it is submitted (`record_submission`, `record_status`, used by
ops/templates.py), never from `save_draft` (the draft's `external_id` is ignored on save and
comes back as the row's `meta_id` on load).

Rules:
- Every write is one transaction; readers hand out frozen dataclasses (never ORM objects).
- `save_draft` of an existing draft with `expected_version` checks and bumps the version in one
  UPDATE: a draft saved elsewhere meanwhile raises `DraftConflict` and nothing is written.
- Status writes (submit/refresh) do not bump the version: they are Meta's state, not the draft's.
- The template sync never writes the draft columns; a draft that has no Meta ID yet
  (`meta_id` NULL) is not touched by it at all (store/synced.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from wa_console.core.templates.fields import STORED_RECORD_FIELDS
from wa_console.core.templates.model import (
    Button,
    ButtonType,
    Category,
    HeaderFormat,
    ParameterFormat,
    TemplateDraft,
)
from wa_console.core.templates.placeholders import placeholder_keys
from wa_console.store.accounts import AccountError, ConflictError
from wa_console.store.models import MessageTemplate
from wa_console.store.times import as_utc

__all__ = [
    "DraftConflict",
    "DraftError",
    "DraftRecord",
    "delete_draft",
    "draft_from_components",
    "draft_from_synced",
    "duplicate_to_language",
    "list_drafts",
    "load_draft",
    "record_status",
    "record_submission",
    "save_draft",
]


class DraftError(Exception):
    """A draft action that cannot be done (not found, not a draft, unsupported template)."""


class DraftConflict(ConflictError):
    """The draft changed (or was deleted) in another console since it was loaded."""

    def __init__(self, name: str, deleted: bool = False) -> None:
        what = "was deleted" if deleted else "was changed"
        AccountError.__init__(
            self, f"The draft '{name}' {what} elsewhere (another console or window) since you "
                  "opened it. Nothing was saved. Reload the draft, then apply your changes again.")
        self.deleted = deleted


@dataclass(frozen=True)
class DraftRecord:
    id: int
    version: int
    draft: TemplateDraft  # external_id = the row's meta_id ("" before submission)
    meta_id: str | None
    status: str | None
    rejected_reason: str | None
    updated_at: datetime | None  # draft_updated_at
    account_id: int = 0


# --- row <-> draft --------------------------------------------------------------------------


def _button_json(b: Button) -> dict[str, str]:
    return {"type": b.type.value, "text": b.text, "url": b.url,
            "phone_number": b.phone_number, "url_sample": b.url_sample}


def _columns(draft: TemplateDraft) -> dict[str, Any]:
    return {
        "name": draft.name, "language": draft.language, "category": draft.category.value,
        "parameter_format": draft.parameter_format.value,
        **{spec.key: getattr(draft, spec.key) for spec in STORED_RECORD_FIELDS},
        "header_format": draft.header_format.value,
        "header_text": draft.header_text, "header_handle": draft.header_handle,
        "footer": draft.footer, "buttons": [_button_json(b) for b in draft.buttons],
        "header_keys": list(draft.header_keys), "body_keys": list(draft.body_keys),
        "body": draft.body, "samples": dict(draft.samples),
    }


def _enum(kind: type, value: str | None, default: Any) -> Any:
    try:
        return kind(value) if value else default
    except ValueError:
        return default


def _record(row: MessageTemplate) -> DraftRecord:
    draft = TemplateDraft(
        name=row.name, language=row.language,
        category=_enum(Category, row.category, Category.UTILITY),
        body=row.body or "",
        parameter_format=_enum(ParameterFormat, row.parameter_format,
                               ParameterFormat.POSITIONAL),
        header_format=_enum(HeaderFormat, row.header_format, HeaderFormat.NONE),
        header_text=row.header_text or "", header_handle=row.header_handle or "",
        footer=row.footer or "",
        buttons=tuple(Button(type=ButtonType(b["type"]), text=b.get("text", ""),
                             url=b.get("url", ""), phone_number=b.get("phone_number", ""),
                             url_sample=b.get("url_sample", "")) for b in row.buttons or ()),
        header_keys=tuple(row.header_keys or ()), body_keys=tuple(row.body_keys or ()),
        samples=dict(row.samples or {}), external_id=row.meta_id or "",
        **{spec.key: getattr(row, spec.key) or "" for spec in STORED_RECORD_FIELDS})
    return DraftRecord(id=row.id, version=row.version, draft=draft, meta_id=row.meta_id,
                       status=row.status, rejected_reason=row.rejected_reason,
                       updated_at=as_utc(row.draft_updated_at), account_id=row.account_id)


def _draft_row(session: Session, draft_id: int) -> MessageTemplate:
    row = session.get(MessageTemplate, draft_id)
    if row is None or row.draft_updated_at is None:
        raise DraftError(f"Draft #{draft_id} does not exist (it may have been deleted).")
    return row


def _now() -> datetime:
    return datetime.now(UTC)


# --- writers --------------------------------------------------------------------------------

def save_draft(engine: Engine, account_id: int, draft: TemplateDraft,
               draft_id: int | None = None, expected_version: int | None = None,
               simulated: bool = False) -> DraftRecord:
    """Create (draft_id None) or update a draft in one transaction and return it as stored.

    Updating with `expected_version` raises DraftConflict when the stored version differs (or
    the draft was deleted); without it the save overwrites. `simulated` is only used on create.
    """
    values = {**_columns(draft), "draft_updated_at": _now()}
    with Session(engine) as session, session.begin():
        if draft_id is None:
            row = MessageTemplate(account_id=account_id, meta_id=None, status=None,
                                  simulated=simulated, version=1, **values)
            session.add(row)
            session.flush()
            return _record(row)
        query = (update(MessageTemplate)
                 .where(MessageTemplate.id == draft_id,
                        MessageTemplate.account_id == account_id,
                        MessageTemplate.draft_updated_at.is_not(None))
                 .values(**values, version=MessageTemplate.version + 1))
        if expected_version is not None:
            query = query.where(MessageTemplate.version == expected_version)
        # The version check and the write are one statement: no window for a race.
        if session.execute(query).rowcount != 1:
            exists = session.scalar(select(MessageTemplate.id).where(
                MessageTemplate.id == draft_id, MessageTemplate.account_id == account_id,
                MessageTemplate.draft_updated_at.is_not(None)))
            raise DraftConflict(draft.name, deleted=exists is None)
        session.expire_all()
        return _record(_draft_row(session, draft_id))


def delete_draft(engine: Engine, draft_id: int, expected_version: int | None = None) -> None:
    """Delete the local draft row (Meta is not told; see ops.templates.delete_template)."""
    with Session(engine) as session, session.begin():
        query = delete(MessageTemplate).where(MessageTemplate.id == draft_id,
                                              MessageTemplate.draft_updated_at.is_not(None))
        if expected_version is not None:
            query = query.where(MessageTemplate.version == expected_version)
        if session.execute(query).rowcount != 1:
            row = session.get(MessageTemplate, draft_id)
            if row is None or row.draft_updated_at is None:
                raise DraftError(f"Draft #{draft_id} does not exist (it may have been deleted).")
            raise DraftConflict(row.name)


def record_submission(engine: Engine, draft_id: int, meta_id: str, status: str | None,
                      category: str | None = None) -> DraftRecord:
    """Store Meta's ID and status after a create/edit (the version is not bumped)."""
    with Session(engine) as session, session.begin():
        row = _draft_row(session, draft_id)
        row.meta_id = meta_id
        row.status = status
        row.rejected_reason = None
        if category:
            row.category = category
        session.flush()
        return _record(row)


def record_status(engine: Engine, draft_id: int, status: str | None,
                  rejected_reason: str | None, category: str | None = None) -> DraftRecord:
    """Store the status Meta reports for a submitted draft (the version is not bumped)."""
    with Session(engine) as session, session.begin():
        row = _draft_row(session, draft_id)
        row.status = status
        row.rejected_reason = rejected_reason
        if category:
            row.category = category
        session.flush()
        return _record(row)


# --- readers --------------------------------------------------------------------------------

def load_draft(engine: Engine, draft_id: int) -> DraftRecord:
    with Session(engine) as session:
        return _record(_draft_row(session, draft_id))


def list_drafts(engine: Engine, account_id: int) -> list[DraftRecord]:
    """The account's drafts by name, language, id."""
    with Session(engine) as session:
        rows = session.scalars(select(MessageTemplate).where(
            MessageTemplate.account_id == account_id,
            MessageTemplate.draft_updated_at.is_not(None))
            .order_by(MessageTemplate.name, MessageTemplate.language, MessageTemplate.id))
        return [_record(r) for r in rows]


# --- copies ---------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")


def _url_sample(url: str, example: Any) -> str:
    """The value a URL button's example substitutes for its variable."""
    if not isinstance(example, list) or not example or not isinstance(example[0], str):
        return ""
    match = _PLACEHOLDER.search(url)
    if match is None:
        return ""
    prefix, suffix = url[:match.start()], url[match.end():]
    full = example[0]
    if full.startswith(prefix) and full.endswith(suffix) and len(full) >= len(prefix + suffix):
        return full[len(prefix):len(full) - len(suffix)]
    return ""


def _text_samples(text: str, example: Any, fmt: ParameterFormat, header: bool,
                  prefix: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """(keys, samples) of a header/body text. Positional keys are `<prefix><index>` so header
    and body keys never collide in the draft's single samples map."""
    example = example if isinstance(example, dict) else {}
    if fmt is ParameterFormat.NAMED:
        names = placeholder_keys(text, fmt)
        given = example.get("header_text_named_params" if header else "body_text_named_params")
        by_name = {p.get("param_name"): p.get("example", "") for p in given or ()
                   if isinstance(p, dict)}
        return names, {n: str(by_name[n]) for n in names if n in by_name}
    indexes = placeholder_keys(text, fmt)
    keys = tuple(f"{prefix}{i}" for i in indexes)
    row = example.get("header_text") if header else (example.get("body_text") or [[]])[0]
    row = row if isinstance(row, list) else []
    return keys, {k: str(v) for k, v in zip(keys, row, strict=False)}


def draft_from_components(name: str, language: str, category: str, parameter_format: str | None,
                          components: list[dict[str, Any]]) -> TemplateDraft:
    """Meta's template (create/list shape) parsed back into a TemplateDraft (no external_id).

    Positional parameter keys become `header_1`, `body_1`, `body_2`, ...; samples come from the
    `example` blocks. Raises DraftError for what the studio cannot edit (e.g. COPY_CODE/OTP
    buttons, carousels)."""
    fmt = _enum(ParameterFormat, parameter_format, ParameterFormat.POSITIONAL)
    try:
        cat = Category(category)
    except ValueError:
        raise DraftError(f"'{name}' has category {category!r}, which the studio does not "
                         "know.") from None
    fields: dict[str, Any] = {}
    samples: dict[str, str] = {}
    body_seen = False
    for comp in components or ():
        ctype = str(comp.get("type", "")).upper()
        if ctype == "HEADER":
            header_format = _enum(HeaderFormat, str(comp.get("format", "")).upper(), None)
            if header_format is None:
                raise DraftError(f"'{name}' has a {comp.get('format')} header, which the studio "
                                 "cannot edit.")
            fields["header_format"] = header_format
            if header_format is HeaderFormat.TEXT:
                text = comp.get("text") or ""
                fields["header_text"] = text
                keys, found = _text_samples(text, comp.get("example"), fmt, True, "header_")
                fields["header_keys"] = keys
                samples.update(found)
            else:
                handles = (comp.get("example") or {}).get("header_handle") or []
                fields["header_handle"] = handles[0] if handles else ""
        elif ctype == "BODY":
            body_seen = True
            text = comp.get("text") or ""
            fields["body"] = text
            keys, found = _text_samples(text, comp.get("example"), fmt, False, "body_")
            fields["body_keys"] = keys
            samples.update(found)
        elif ctype == "FOOTER":
            fields["footer"] = comp.get("text") or ""
        elif ctype == "BUTTONS":
            buttons = []
            for b in comp.get("buttons") or ():
                btype = _enum(ButtonType, str(b.get("type", "")).upper(), None)
                if btype is None:
                    raise DraftError(f"'{name}' has a {b.get('type')} button, which the studio "
                                     "cannot edit.")
                url = b.get("url") or ""
                buttons.append(Button(type=btype, text=b.get("text") or "", url=url,
                                      phone_number=b.get("phone_number") or "",
                                      url_sample=_url_sample(url, b.get("example"))))
            fields["buttons"] = tuple(buttons)
        else:
            raise DraftError(f"'{name}' has a {ctype} component, which the studio cannot edit.")
    if not body_seen:
        raise DraftError(f"'{name}' has no BODY component.")
    return TemplateDraft(name=name, language=language, category=cat, parameter_format=fmt,
                         samples=samples, **fields)


def draft_from_synced(engine: Engine, template_row_id: int) -> DraftRecord:
    """A new local draft (no Meta ID) copied from a synced APPROVED template."""
    with Session(engine) as session:
        row = session.get(MessageTemplate, template_row_id)
        if row is None or row.meta_id is None:
            raise DraftError(f"Template #{template_row_id} is not a synced template.")
        if row.status != "APPROVED":
            raise DraftError(f"'{row.name}' ({row.language}) is {row.status or 'not reviewed'}; "
                             "only APPROVED templates can be opened as a draft copy.")
        draft = draft_from_components(row.name, row.language, row.category or "",
                                      row.parameter_format, list(row.components or []))
        account_id, simulated = row.account_id, bool(row.simulated)
    return save_draft(engine, account_id, draft, simulated=simulated)


def duplicate_to_language(engine: Engine, draft_id: int, language: str) -> DraftRecord:
    """A new local draft with the same content in `language` (no Meta ID; translate the texts
    before submitting)."""
    with Session(engine) as session:
        row = _draft_row(session, draft_id)
        source, simulated = _record(row), bool(row.simulated)
    copy = replace(source.draft, language=language, external_id="")
    return save_draft(engine, source.account_id, copy, simulated=simulated)
