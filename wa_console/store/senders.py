"""Sender accounts: the synced phone numbers the platform sends from, validated on every read.

A sender row keeps only the admin's choices (which number, which value the platform uses, a
label); validity is computed against the synced phone numbers each time (core/senders.py), so a
later Sync channel account can invalidate a sender. Synced numbers count only while the last
synced WABA is the account's configured WABA: after the WABA ID changes, nothing is "in this
WABA" until the account is synced again.

How a template's free-text "Sender account" field names a sender (`template_sender_problems`):
the text, trimmed, is matched first against sender labels (case-insensitive), then, if it holds
digits, against each sender's phone number ID and display number by digits only (so
"+1 555-010-0001", "15550100001" and "200000000000002" all work). Labels are unique per account
so a label names one sender. An empty field links no sender and is not flagged.

SQLAlchemy is imported inside the functions so that importing this module stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wa_console.core.readiness import SenderState
from wa_console.core.senders import (
    SENDER_VALUES,
    SenderValidation,
    digits_of,
    sender_value_text,
    validate_sender,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from wa_console.store.synced import PhoneInfo

LABEL_MAX = 80


class SenderError(Exception):
    """A sender action refused, with the admin-facing reason."""


@dataclass(frozen=True)
class SenderInfo:
    id: int
    account_id: int
    label: str
    phone_meta_id: str
    display_phone_number: str | None
    sender_value: str  # one of SENDER_VALUES
    value: str  # what the platform uses: "+digits" display number, or the phone number ID
    verified_name: str | None
    quality_rating: str | None
    messaging_limit_tier: str | None
    validation: SenderValidation

    @property
    def valid(self) -> bool:
        return self.validation.valid


@dataclass(frozen=True)
class SenderCandidate:
    """A synced number of the account's WABA as the Add sender choice shows it."""

    phone: PhoneInfo
    validation: SenderValidation
    sender_label: str | None  # the sender it already is, if any

    @property
    def selectable(self) -> bool:
        return self.validation.valid and self.sender_label is None


# --- helpers (inside a session) -----------------------------------------------------------------

def _synced_phones(session: Session, account_id: int) -> tuple[str, dict[str, PhoneInfo]]:
    """The account's WABA ID and its synced phones by Meta ID (empty when the last sync was of
    another WABA), read in `session`'s transaction."""
    from wa_console.store.models import ChannelAccount
    from wa_console.store.synced import latest_waba, phone_numbers

    account = session.get(ChannelAccount, account_id)
    if account is None:
        raise SenderError(f"Channel account {account_id} does not exist (deleted elsewhere?).")
    waba_id = (account.waba_id or "").strip()
    # The synced readers open their own Session; on this connection it joins our transaction.
    connection: Any = session.connection()
    snapshot = latest_waba(connection, account_id)
    if snapshot is None or snapshot.waba_id != waba_id:
        return waba_id, {}
    return waba_id, {p.meta_id: p for p in phone_numbers(connection, account_id)}


def _info(row: Any, waba_id: str, phones: dict[str, PhoneInfo]) -> SenderInfo:
    phone = phones.get(row.phone_meta_id)
    display = phone.display_phone_number if phone else row.display_phone_number
    return SenderInfo(
        id=row.id, account_id=row.account_id, label=row.label, phone_meta_id=row.phone_meta_id,
        display_phone_number=display, sender_value=row.sender_value,
        value=sender_value_text(row.sender_value, display_phone_number=display,
                                phone_meta_id=row.phone_meta_id),
        verified_name=phone.verified_name if phone else None,
        quality_rating=phone.quality_rating if phone else None,
        messaging_limit_tier=phone.messaging_limit_tier if phone else None,
        validation=validate_sender(phone, phone_meta_id=row.phone_meta_id,
                                   account_waba_id=waba_id))


def _check_value(sender_value: str) -> None:
    if sender_value not in SENDER_VALUES:
        raise SenderError(f"Unknown sender value '{sender_value}': use one of "
                          f"{', '.join(SENDER_VALUES)}.")


def _clean_label(session: Session, account_id: int, label: str,
                 sender_id: int | None = None) -> str:
    from sqlalchemy import func, select

    from wa_console.store.models import Sender

    text = label.strip()
    if not text:
        raise SenderError("The sender label is empty: type a name, e.g. the number's purpose.")
    if len(text) > LABEL_MAX:
        raise SenderError(f"The sender label has {len(text)} characters; at most {LABEL_MAX}.")
    # Labels name senders in templates' Sender account field, so one label, one sender.
    clash = session.scalar(select(Sender.id).where(
        Sender.account_id == account_id, func.lower(Sender.label) == text.lower(),
        Sender.id != (sender_id or -1)))
    if clash is not None:
        raise SenderError(f"Another sender is already labelled '{text}': choose another label.")
    return text


def _sender_row(session: Session, sender_id: int) -> Any:
    from wa_console.store.models import Sender

    row = session.get(Sender, sender_id)
    if row is None:
        raise SenderError("This sender no longer exists (removed elsewhere?): refresh the page.")
    return row


# --- actions ------------------------------------------------------------------------------------

def list_senders(engine: Engine, account_id: int) -> list[SenderInfo]:
    """The account's senders by label, each validated against the current synced numbers."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wa_console.store.models import Sender

    with Session(engine) as session:
        waba_id, phones = _synced_phones(session, account_id)
        rows = session.scalars(select(Sender).where(Sender.account_id == account_id)
                               .order_by(Sender.label, Sender.id))
        return [_info(r, waba_id, phones) for r in rows]


def sender_candidates(engine: Engine, account_id: int) -> list[SenderCandidate]:
    """Every synced number of the account's WABA, validated, by display number; empty before
    the first Sync channel account (or after the WABA ID changed)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wa_console.store.models import Sender

    with Session(engine) as session:
        waba_id, phones = _synced_phones(session, account_id)
        taken = dict(session.execute(select(Sender.phone_meta_id, Sender.label)
                                     .where(Sender.account_id == account_id)).all())
    return [SenderCandidate(phone=p, validation=validate_sender(
                p, phone_meta_id=p.meta_id, account_waba_id=waba_id),
                sender_label=taken.get(p.meta_id))
            for p in sorted(phones.values(),
                            key=lambda p: (p.display_phone_number or "", p.meta_id))]


def get_sender(engine: Engine, sender_id: int) -> SenderInfo:
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        row = _sender_row(session, sender_id)
        waba_id, phones = _synced_phones(session, row.account_id)
        return _info(row, waba_id, phones)


def create_sender(engine: Engine, account_id: int, phone_meta_id: str, *,
                  sender_value: str = "display_number", label: str | None = None) -> SenderInfo:
    """Make a synced number of the account's WABA a sender, in one transaction.

    Raises:
        SenderError: unknown value or label clash; the number is not synced for this WABA, is
            already a sender, or has a validation error (warnings are allowed).
    """
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wa_console.store.models import Sender

    _check_value(sender_value)
    with Session(engine) as session, session.begin():
        waba_id, phones = _synced_phones(session, account_id)
        phone = phones.get(phone_meta_id)
        validation = validate_sender(phone, phone_meta_id=phone_meta_id,
                                     account_waba_id=waba_id)
        if not validation.valid:
            raise SenderError(" ".join(validation.errors))
        assert phone is not None  # a valid validation has a phone
        existing = session.scalar(select(Sender.label).where(
            Sender.account_id == account_id, Sender.phone_meta_id == phone_meta_id))
        if existing is not None:
            raise SenderError(f"{phone.display_phone_number or phone_meta_id} is already the "
                              f"sender '{existing}'; change that one instead.")
        default_label = phone.verified_name or phone.display_phone_number or phone_meta_id
        row = Sender(account_id=account_id,
                     label=_clean_label(session, account_id,
                                        label if label is not None else default_label),
                     phone_meta_id=phone_meta_id,
                     display_phone_number=phone.display_phone_number, sender_value=sender_value)
        session.add(row)
        session.flush()
        return _info(row, waba_id, phones)


def update_sender(engine: Engine, sender_id: int, *, sender_value: str | None = None,
                  label: str | None = None) -> SenderInfo:
    """Change a sender's value and/or label (one transaction); returns it revalidated."""
    from sqlalchemy.orm import Session

    if sender_value is not None:
        _check_value(sender_value)
    with Session(engine) as session, session.begin():
        row = _sender_row(session, sender_id)
        if sender_value is not None:
            row.sender_value = sender_value
        if label is not None:
            row.label = _clean_label(session, row.account_id, label, sender_id)
        waba_id, phones = _synced_phones(session, row.account_id)
        session.flush()
        return _info(row, waba_id, phones)


def delete_sender(engine: Engine, sender_id: int) -> None:
    """Remove a sender (the phone number itself is untouched)."""
    from sqlalchemy.orm import Session

    with Session(engine) as session, session.begin():
        session.delete(_sender_row(session, sender_id))


def sender_state(engine: Engine, account_id: int) -> SenderState:
    """Sender readiness: how many senders are valid, and the first invalid one's problem."""
    senders = list_senders(engine, account_id)
    invalid = next((s for s in senders if not s.valid), None)
    problem = (f"Sender '{invalid.label}': {invalid.validation.errors[0]}"
               if invalid is not None else None)
    return SenderState(valid_count=sum(s.valid for s in senders), problem=problem,
                       template_links=tuple(_template_link_problems(engine, account_id,
                                                                    senders).values()))


def find_sender(senders: list[SenderInfo], text: str) -> SenderInfo | None:
    """The sender a template's Sender account text names (see the module docstring)."""
    wanted = text.strip()
    if not wanted:
        return None
    for sender in senders:
        if sender.label.casefold() == wanted.casefold():
            return sender
    number = digits_of(wanted)
    if not number:
        return None
    for sender in senders:
        if number in (sender.phone_meta_id, digits_of(sender.display_phone_number)):
            return sender
    return None


def template_sender_problems(engine: Engine, account_id: int,
                             template_id: int | None = None) -> dict[int, str]:
    """message_template row id -> why its Sender account link is wrong (names no sender of this
    account, or an invalid one); only that row with `template_id`. Templates without a Sender
    account are not listed."""
    return _template_link_problems(engine, account_id, list_senders(engine, account_id),
                                   template_id)


def _template_link_problems(engine: Engine, account_id: int, senders: list[SenderInfo],
                            template_id: int | None = None) -> dict[int, str]:
    """template_sender_problems against senders already read."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wa_console.store.models import MessageTemplate

    query = select(MessageTemplate.id, MessageTemplate.name, MessageTemplate.language,
                   MessageTemplate.sender_account).where(
        MessageTemplate.account_id == account_id, MessageTemplate.sender_account.is_not(None))
    if template_id is not None:
        query = query.where(MessageTemplate.id == template_id)
    with Session(engine) as session:
        links = session.execute(query).all()
    problems: dict[int, str] = {}
    for template_id, name, language, text in links:
        if not (text or "").strip():
            continue
        sender = find_sender(senders, text)
        where = f"Template '{name}' ({language}): sender account '{text.strip()}'"
        if sender is None:
            problems[template_id] = (
                f"{where} names no sender of this account: add it on the Senders page, or type "
                "a sender's label, display number or phone number ID.")
        elif not sender.valid:
            problems[template_id] = (f"{where} is the sender '{sender.label}', which cannot "
                                     f"send: {sender.validation.errors[0]}")
    return problems
