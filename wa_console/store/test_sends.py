"""Guided test sends (issue 7): the OutboundMessage row of a send, from before the request
leaves until its wamid and status are known.

Rules:
- The row is written with status "sending" BEFORE the POST leaves, keyed by the wizard's
  `client_ref` (one per wizard run): the same client_ref again finds the same row, so a double
  click can never make two rows (nor, through `claim_send`, two requests).
- The receiver may see a status callback for the wamid before the send's answer arrives; it
  then creates a row of its own (wamid set, client_ref NULL). `attach_wamid` merges: that row
  goes, ours gets the wamid, and our status is recomputed from the stored callbacks.
- One transaction per call; readers hand out frozen dataclasses. SQLAlchemy is imported inside
  the functions (start-up stays cheap), as in the other store modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from wa_console.store.times import as_utc

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from wa_console.core.templates.model import TemplateDraft

__all__ = [
    "ACCEPTED",
    "OUTCOME_UNKNOWN",
    "REJECTED",
    "SENDING",
    "SendRecord",
    "TemplateForSend",
    "TestSendError",
    "WamidTaken",
    "attach_wamid",
    "begin_send",
    "claim_send",
    "mark_outcome_unknown",
    "mark_rejected",
    "send_record",
    "template_for_send",
]

SENDING = "sending"
ACCEPTED = "accepted"  # Meta answered with a wamid; no status callback stored yet
OUTCOME_UNKNOWN = "outcome_unknown"
REJECTED = "rejected"
_ATTACH_ATTEMPTS = 3


class TestSendError(Exception):
    """A test send cannot go ahead (unknown send, template not sendable, ...)."""

    __test__ = False  # not a pytest test class despite the name


class WamidTaken(TestSendError):
    """The wamid already belongs to another test send."""


@dataclass(frozen=True)
class SendRecord:
    """One test send as stored."""

    id: int
    account_id: int | None
    client_ref: str
    wamid: str | None
    phone_number_id: str | None
    recipient: str | None  # digits
    template_name: str | None
    template_language: str | None
    payload: dict[str, Any] | None
    status: str
    status_at: datetime | None
    errors: list[dict[str, Any]] | None
    created_at: datetime
    simulated: bool


@dataclass(frozen=True)
class TemplateForSend:
    """A synced template as the test send needs it: its Meta state and its draft form."""

    id: int
    name: str
    language: str
    status: str | None
    removed: bool
    draft: TemplateDraft


def _record(row: Any) -> SendRecord:
    return SendRecord(id=row.id, account_id=row.account_id, client_ref=row.client_ref,
                      wamid=row.wamid, phone_number_id=row.phone_number_id,
                      recipient=row.recipient, template_name=row.template_name,
                      template_language=row.template_language,
                      payload=dict(row.payload) if row.payload is not None else None,
                      status=row.status, status_at=as_utc(row.status_at),
                      errors=list(row.errors) if row.errors is not None else None,
                      created_at=as_utc(row.created_at) or datetime.now(UTC),
                      simulated=bool(row.simulated))


def claim_send(engine: Engine, *, account_id: int, client_ref: str, phone_number_id: str,
               recipient_digits: str, template_name: str, language: str,
               payload: dict[str, Any], simulated: bool) -> tuple[int, bool]:
    """Create the send's row (status "sending") unless one with `client_ref` exists.

    Returns (row id, created): only the caller that got created=True may POST the message.
    """
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wa_console.store.dialect import insert_for
    from wa_console.store.models import OutboundMessage

    now = datetime.now(UTC)
    statement = insert_for(engine, OutboundMessage).values(
        account_id=account_id, client_ref=client_ref, phone_number_id=phone_number_id,
        recipient=recipient_digits, template_name=template_name, template_language=language,
        payload=payload, status=SENDING, status_at=now, created_at=now, simulated=simulated,
    ).on_conflict_do_nothing(index_elements=["client_ref"]).returning(OutboundMessage.id)
    with Session(engine) as session, session.begin():
        # RETURNING, not rowcount: through psycopg an ORM-enabled insert reports rowcount -1.
        row_id = session.scalar(statement)
        if row_id is not None:
            return row_id, True
        row_id = session.scalar(select(OutboundMessage.id)
                                .where(OutboundMessage.client_ref == client_ref))
    if row_id is None:  # pragma: no cover - the insert or the existing row must be there
        raise TestSendError(f"The test send {client_ref!r} could not be recorded.")
    return row_id, False


def begin_send(engine: Engine, *, account_id: int, client_ref: str, phone_number_id: str,
               recipient_digits: str, template_name: str, language: str,
               payload: dict[str, Any], simulated: bool) -> int:
    """The id of the send's row, created with status "sending" (idempotent per client_ref)."""
    row_id, _created = claim_send(
        engine, account_id=account_id, client_ref=client_ref, phone_number_id=phone_number_id,
        recipient_digits=recipient_digits, template_name=template_name, language=language,
        payload=payload, simulated=simulated)
    return row_id


def attach_wamid(engine: Engine, client_ref: str, wamid: str) -> SendRecord:
    """Give the send its wamid; merge a row the receiver made for it; recompute the status.

    A callback stored between our read and our write (PostgreSQL: another connection inserts
    the wamid's row meanwhile) makes the unique key refuse the update; the whole step is then
    retried. Raises WamidTaken when the wamid belongs to another test send.
    """
    from sqlalchemy.exc import IntegrityError

    for attempt in range(1, _ATTACH_ATTEMPTS + 1):
        try:
            return _attach_once(engine, client_ref, wamid)
        except IntegrityError:
            if attempt == _ATTACH_ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _attach_once(engine: Engine, client_ref: str, wamid: str) -> SendRecord:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wa_console.store.messages import first_error_code, latest_status
    from wa_console.store.models import OutboundMessage

    with Session(engine) as session, session.begin():
        ours = _row(session, client_ref)
        if ours.wamid != wamid:
            other = session.scalars(select(OutboundMessage).where(
                OutboundMessage.wamid == wamid, OutboundMessage.id != ours.id)).first()
            if other is not None:
                if other.client_ref is not None:
                    raise WamidTaken(f"{wamid} belongs to another test send.")
                session.delete(other)
                session.flush()  # free the unique wamid before ours takes it
            ours.wamid = wamid
        status, at, errors = latest_status(session, wamid)
        if status:
            ours.status, ours.status_at, ours.errors = status, at, errors
            ours.error_code = first_error_code(errors) if status == "failed" else None
        elif ours.status in (SENDING, OUTCOME_UNKNOWN):
            ours.status, ours.status_at = ACCEPTED, datetime.now(UTC)
        session.flush()
        return _record(ours)


def _row(session: Any, client_ref: str) -> Any:
    from sqlalchemy import select

    from wa_console.store.models import OutboundMessage

    row = session.scalars(select(OutboundMessage)
                          .where(OutboundMessage.client_ref == client_ref)).first()
    if row is None:
        raise TestSendError(f"No test send {client_ref!r} is recorded.")
    return row


def mark_outcome_unknown(engine: Engine, client_ref: str) -> SendRecord:
    """The send's answer was lost: it may or may not have been sent. Only a send still
    "sending" changes (a status callback may already have resolved it)."""
    from sqlalchemy.orm import Session

    with Session(engine) as session, session.begin():
        row = _row(session, client_ref)
        if row.status == SENDING:
            row.status, row.status_at = OUTCOME_UNKNOWN, datetime.now(UTC)
        session.flush()
        return _record(row)


def mark_rejected(engine: Engine, client_ref: str,
                  errors: list[dict[str, Any]]) -> SendRecord:
    """Meta refused the request (or it never left): nothing was sent."""
    from sqlalchemy.orm import Session

    from wa_console.store.messages import first_error_code

    with Session(engine) as session, session.begin():
        row = _row(session, client_ref)
        row.status, row.status_at, row.errors = REJECTED, datetime.now(UTC), list(errors)
        row.error_code = first_error_code(row.errors)
        session.flush()
        return _record(row)


def send_record(engine: Engine, client_ref: str) -> SendRecord | None:
    """The send as stored now, or None if `client_ref` was never begun."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wa_console.store.models import OutboundMessage

    with Session(engine) as session:
        row = session.scalars(select(OutboundMessage)
                              .where(OutboundMessage.client_ref == client_ref)).first()
        return _record(row) if row is not None else None


def template_for_send(engine: Engine, template_row_id: int) -> TemplateForSend:
    """A synced template (by row id) with its draft form (store.drafts.draft_from_components).
    Raises TestSendError when it is not a synced template or the studio cannot read it."""
    from sqlalchemy.orm import Session

    from wa_console.store.drafts import DraftError, draft_from_components
    from wa_console.store.models import MessageTemplate

    with Session(engine) as session:
        row = session.get(MessageTemplate, template_row_id)
        if row is None or row.meta_id is None:
            raise TestSendError(f"Template #{template_row_id} is not a synced template; sync "
                                "the templates on Verify & sync and pick it again.")
        try:
            draft = draft_from_components(row.name, row.language, row.category or "",
                                          row.parameter_format, list(row.components or []))
        except DraftError as exc:
            raise TestSendError(f"{exc} Pick another template for the test send.") from None
        return TemplateForSend(id=row.id, name=row.name, language=row.language,
                               status=row.status, removed=row.removed_at is not None,
                               draft=draft)
