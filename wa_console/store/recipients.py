"""Test recipients and their consent: internal phones a test send may go to, and who said so.

Rules (issue 7):
- A recipient is an E.164 number ("+digits"), normalised with the settings' display-number
  rules (core/validation.py), unique per account.
- Consent is a history of ConsentEvent rows (opt-in: who recorded it, how, when; opt-out: by the
  admin or by an inbound STOP, which the webhook receiver writes itself). The recipient's
  `opted_in` / `consent_changed_at` columns cache the latest event and are written in the same
  transaction as the event.
- Test sends only go to opted-in recipients (`require_opted_in`).
- History is never deleted: a recipient with any consent event cannot be deleted (opt them out
  instead); one without history (added by mistake) can be. There is no archive state.
- Opt-out keywords are a per-account preference (core.consent.OPT_OUT_KEYWORDS_KEY), never empty.

SQLAlchemy is imported inside the functions so that importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from wa_console.core.consent import DEFAULT_OPT_OUT_KEYWORDS, OPT_OUT_KEYWORDS_KEY
from wa_console.store.times import as_utc

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

OPT_IN: Final = "opt_in"
OPT_OUT: Final = "opt_out"
LABEL_MAX: Final = 80
RECORDED_BY_MAX: Final = 120
METHOD_MAX: Final = 60
# A consent time a little ahead of this clock is a clock difference, not a future consent.
_CLOCK_SKEW: Final = timedelta(minutes=5)


class RecipientError(Exception):
    """A recipient action refused, with the admin-facing reason."""


class NotOptedIn(RecipientError):
    """A test send to a recipient without a current opt-in."""


@dataclass(frozen=True)
class ConsentInfo:
    kind: str  # "opt_in" | "opt_out"
    at: datetime
    recorded_by: str
    method: str
    detail: str

    def describe(self) -> str:
        """E.g. "opted out on 2026-11-25 12:01 UTC by reply keyword (recorded by inbound
        message: STOP)"."""
        what = "opted in" if self.kind == OPT_IN else "opted out"
        detail = f": {self.detail}" if self.detail else ""
        return (f"{what} on {self.at:%Y-%m-%d %H:%M} UTC by {self.method} "
                f"(recorded by {self.recorded_by}{detail})")


@dataclass(frozen=True)
class RecipientInfo:
    id: int
    account_id: int
    phone: str  # E.164
    label: str
    opted_in: bool
    consent_changed_at: datetime | None
    history: tuple[ConsentInfo, ...]  # in the order recorded; the last is the current state

    @property
    def latest(self) -> ConsentInfo | None:
        return self.history[-1] if self.history else None


# --- helpers ------------------------------------------------------------------------------------

def normalize_recipient_phone(text: str) -> str:
    """The number as E.164, by the settings' display-number rules; RecipientError if invalid."""
    from wa_console.core.validation import PhoneNumberError, normalize_phone

    try:
        return normalize_phone(text)
    except PhoneNumberError as exc:
        raise RecipientError(f"Phone number: {exc}") from None


def _required_text(value: str, what: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise RecipientError(f"{what} is required: say who or how, so the consent can be traced.")
    if len(text) > limit:
        raise RecipientError(f"{what} has {len(text)} characters; at most {limit}.")
    return text


def _info(session: Session, row: Any) -> RecipientInfo:
    from sqlalchemy import select

    from wa_console.store.models import ConsentEvent

    # Recording order, not `at`: an inbound STOP carries Meta's whole-second timestamp, which
    # can sort before an opt-in recorded within the same second.
    events = session.scalars(select(ConsentEvent).where(ConsentEvent.recipient_id == row.id)
                             .order_by(ConsentEvent.id))
    history = tuple(ConsentInfo(kind=e.kind, at=as_utc(e.at), recorded_by=e.recorded_by,
                                method=e.method, detail=e.detail or "") for e in events)
    return RecipientInfo(id=row.id, account_id=row.account_id, phone=row.phone, label=row.label,
                         opted_in=bool(row.opted_in),
                         consent_changed_at=as_utc(row.consent_changed_at), history=history)


def _row(session: Session, recipient_id: int) -> Any:
    from wa_console.store.models import TestRecipient

    row = session.get(TestRecipient, recipient_id)
    if row is None:
        raise RecipientError("This test recipient no longer exists: refresh the page.")
    return row


def _record(engine: Engine, recipient_id: int, kind: str, *, at: datetime, recorded_by: str,
            method: str, detail: str) -> RecipientInfo:
    """Write one consent event and the cached state, in one transaction."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wa_console.store.models import ConsentEvent

    with Session(engine) as session, session.begin():
        row = _row(session, recipient_id)
        last = session.scalar(select(ConsentEvent.at).where(
            ConsentEvent.recipient_id == recipient_id).order_by(ConsentEvent.at.desc()).limit(1))
        if last is not None and at < as_utc(last):
            raise RecipientError(
                f"The consent time {at:%Y-%m-%d %H:%M} UTC is before the last recorded change "
                f"({as_utc(last):%Y-%m-%d %H:%M} UTC): a new record must come after it.")
        session.add(ConsentEvent(recipient_id=recipient_id, kind=kind, at=at,
                                 recorded_by=recorded_by, method=method, detail=detail or None))
        row.opted_in = kind == OPT_IN
        row.consent_changed_at = at
        session.flush()
        return _info(session, row)


# --- actions ------------------------------------------------------------------------------------

def add_recipient(engine: Engine, account_id: int, phone: str, label: str = "") -> RecipientInfo:
    """Add an internal test phone (not opted in yet), in one transaction.

    Raises:
        RecipientError: the number is not valid (the settings' message), or already added.
    """
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    from wa_console.store.models import TestRecipient

    e164 = normalize_recipient_phone(phone)
    label = (label or "").strip()
    if len(label) > LABEL_MAX:
        raise RecipientError(f"The label has {len(label)} characters; at most {LABEL_MAX}.")
    duplicate = RecipientError(f"{e164} is already a test recipient of this account.")
    try:
        with Session(engine) as session, session.begin():
            if session.scalar(select(TestRecipient.id).where(
                    TestRecipient.account_id == account_id,
                    TestRecipient.phone == e164)) is not None:
                raise duplicate
            row = TestRecipient(account_id=account_id, phone=e164, label=label, opted_in=False)
            session.add(row)
            session.flush()
            return _info(session, row)
    except IntegrityError:  # added by another console between the check and the insert
        raise duplicate from None


def record_opt_in(engine: Engine, recipient_id: int, *, recorded_by: str, method: str,
                  detail: str = "", at: datetime | None = None) -> RecipientInfo:
    """Record that the recipient opted in: who recorded it, how (one of
    core.consent.CONSENT_METHODS or free text), when (default now; not in the future)."""
    now = datetime.now(UTC)
    when = now if at is None else as_utc(at)
    if when > now + _CLOCK_SKEW:
        raise RecipientError("The opt-in time is in the future: record consent once given.")
    return _record(engine, recipient_id, OPT_IN, at=when,
                   recorded_by=_required_text(recorded_by, "Recorded by", RECORDED_BY_MAX),
                   method=_required_text(method, "Method", METHOD_MAX), detail=detail.strip())


def record_opt_out(engine: Engine, recipient_id: int, *, recorded_by: str,
                   method: str = "admin", detail: str = "") -> RecipientInfo:
    """Record an opt-out now; test sends to the recipient are blocked from then on."""
    return _record(engine, recipient_id, OPT_OUT, at=datetime.now(UTC),
                   recorded_by=_required_text(recorded_by, "Recorded by", RECORDED_BY_MAX),
                   method=_required_text(method, "Method", METHOD_MAX), detail=detail.strip())


def list_recipients(engine: Engine, account_id: int) -> list[RecipientInfo]:
    """The account's test recipients by phone, each with its consent history."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wa_console.store.models import TestRecipient

    with Session(engine) as session:
        rows = session.scalars(select(TestRecipient).where(TestRecipient.account_id == account_id)
                               .order_by(TestRecipient.phone))
        return [_info(session, r) for r in rows]


def get_recipient(engine: Engine, recipient_id: int) -> RecipientInfo:
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        return _info(session, _row(session, recipient_id))


def require_opted_in(engine: Engine, recipient_id: int) -> RecipientInfo:
    """The recipient, if a test send may go to them; else NotOptedIn saying why."""
    recipient = get_recipient(engine, recipient_id)
    if recipient.opted_in:
        return recipient
    latest = recipient.latest
    if latest is None:
        raise NotOptedIn(f"{recipient.phone} has no recorded opt-in: record who gave consent, "
                         "when and how before a test send.")
    raise NotOptedIn(f"{recipient.phone} {latest.describe()}; test sends are blocked until a "
                     "new opt-in is recorded.")


def delete_recipient(engine: Engine, recipient_id: int) -> None:
    """Delete a recipient that has no consent history (history is kept: opt them out instead)."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from wa_console.store.models import ConsentEvent

    with Session(engine) as session, session.begin():
        row = _row(session, recipient_id)
        events = session.scalar(select(func.count()).where(
            ConsentEvent.recipient_id == recipient_id))
        if events:
            raise RecipientError(f"{row.phone} has a consent history, which is kept: opt them "
                                 "out instead of removing them.")
        session.delete(row)


def opt_out_keywords(engine: Engine, account_id: int) -> tuple[str, ...]:
    """The account's opt-out keywords (default STOP, UNSUBSCRIBE)."""
    from wa_console.store.preferences import get_preference

    stored = get_preference(engine, account_id, OPT_OUT_KEYWORDS_KEY)
    if not isinstance(stored, list) or not stored:
        return DEFAULT_OPT_OUT_KEYWORDS
    return tuple(str(k) for k in stored)


def set_opt_out_keywords(engine: Engine, account_id: int,
                         keywords: Iterable[str]) -> tuple[str, ...]:
    """Store the keywords (trimmed, duplicates dropped case-insensitively, order kept); an
    empty list is refused: STOP must always work."""
    from wa_console.core.consent import normalize_keyword
    from wa_console.store.preferences import set_preference

    cleaned: dict[str, str] = {}
    for keyword in keywords:
        text = keyword.strip()
        if normalize_keyword(text):
            cleaned.setdefault(normalize_keyword(text), text)
    if not cleaned:
        raise RecipientError("Keep at least one opt-out keyword (e.g. STOP): recipients must "
                             "always be able to opt out.")
    values = tuple(cleaned.values())
    set_preference(engine, account_id, OPT_OUT_KEYWORDS_KEY, list(values))
    return values
