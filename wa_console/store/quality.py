"""Quality history writers: one `quality_change` row per change of a phone number's or a
template's quality signal, from a sync (stored value differs from Meta's) or a webhook
(phone_number_quality_update, message_template_status_update, message_template_quality_update).

Writers run inside the caller's transaction (the sync's or the ingest's) so a change and the
row it describes are stored together. SQLAlchemy is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    from wa_console.meta import webhooks as wh

__all__ = [
    "PHONE_FIELDS",
    "TEMPLATE_FIELDS",
    "phone_sync_changes",
    "record_quality_change",
    "record_webhook_quality",
    "template_sync_changes",
]

# The synced columns whose changes make the history (phone_number / message_template columns).
PHONE_FIELDS: Final = ("quality_rating", "messaging_limit_tier", "status")
TEMPLATE_FIELDS: Final = ("status", "quality_score")
# phone_number_quality_update `event` values that change the number's status.
_PHONE_EVENT_STATUS: Final = {"FLAGGED": "FLAGGED", "UNFLAGGED": "CONNECTED"}


def record_quality_change(bind: Session | Connection, *, account_id: int, subject: str,
                          subject_key: str, subject_name: str, field: str,
                          old_value: str | None, new_value: str | None, at: datetime,
                          source: str, event_id: int | None = None, simulated: bool) -> None:
    """Add one change in the caller's transaction."""
    from wa_console.store.models import QualityChange

    if subject not in ("phone", "template"):
        raise ValueError(f"subject must be 'phone' or 'template', not {subject!r}")
    bind.execute(QualityChange.__table__.insert(), [{
        "account_id": account_id, "subject": subject, "subject_key": subject_key[:600],
        "subject_name": subject_name[:600], "field": field, "old_value": _short(old_value),
        "new_value": _short(new_value), "at": at, "source": source, "event_id": event_id,
        "simulated": simulated}])


def _short(value: Any) -> str | None:
    return None if value is None else str(value)[:60]


def phone_name(display: str | None, meta_id: str) -> str:
    return display or meta_id


def template_name(name: str | None, language: str | None) -> str:
    return f"{name or '?'} ({language or '?'})"


def phone_sync_changes(stored: Mapping[str, Mapping[str, Any]],
                       fetched: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str, str,
                                                                                 Any, Any]]:
    """(meta_id, display name, field, old, new) for each PHONE_FIELDS value that a sync
    changed; numbers new to the sync have no previous value and make no change."""
    return _diff(stored, fetched, PHONE_FIELDS,
                 lambda m, v: phone_name(v.get("display_phone_number"), m))


def template_sync_changes(stored: Mapping[str, Mapping[str, Any]],
                          fetched: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str, str,
                                                                                    Any, Any]]:
    """As `phone_sync_changes`, for templates (keyed by Meta ID; values as stored)."""
    return _diff(stored, fetched, TEMPLATE_FIELDS,
                 lambda m, v: template_name(v.get("name"), v.get("language")))


def _diff(stored: Mapping[str, Mapping[str, Any]], fetched: Mapping[str, Mapping[str, Any]],
          names: Iterable[str], name_of: Any) -> list[tuple[str, str, str, Any, Any]]:
    changes = []
    for meta_id, new in fetched.items():
        old = stored.get(meta_id)
        if old is None:
            continue
        for field in names:
            if old.get(field) != new.get(field):
                changes.append((meta_id, name_of(meta_id, new), field, old.get(field),
                                new.get(field)))
    return changes


def record_sync_changes(bind: Session | Connection, account_id: int, subject: str,
                        changes: Iterable[tuple[str, str, str, Any, Any]], at: datetime,
                        simulated: bool) -> int:
    """Store the changes a sync found (in its transaction); returns how many."""
    from wa_console.store.models import QualityChange

    rows = [{"account_id": account_id, "subject": subject, "subject_key": key,
             "subject_name": name[:600], "field": field, "old_value": _short(old),
             "new_value": _short(new), "at": at, "source": "sync", "event_id": None,
             "simulated": simulated} for key, name, field, old, new in changes]
    if rows:
        bind.execute(QualityChange.__table__.insert(), rows)
    return len(rows)


def record_webhook_quality(connection: Connection, event: wh.WebhookEvent, *, account_id: int,
                           event_id: int, simulated: bool, received_at: datetime) -> int:
    """Apply a quality webhook in the ingest's transaction: update the template's / phone's
    current row when the webhook names one, and record each value that changed. Returns the
    number of changes (0 for other events)."""
    from wa_console.meta import webhooks as wh

    at = _event_time(getattr(event, "time", None), received_at)
    common = {"account_id": account_id, "event_id": event_id, "simulated": simulated,
              "at": at, "source": "webhook"}
    if isinstance(event, wh.TemplateStatusEvent | wh.TemplateQualityEvent):
        row = _template_row(connection, account_id, event.template_id, event.name,
                            event.language)
        key = event.template_id or f"{event.name}/{event.language}"
        name = template_name(event.name, event.language)
        if isinstance(event, wh.TemplateStatusEvent):
            field, new = "status", event.event
            old = row.status if row is not None else None
        else:
            field, new = "quality_score", event.new_quality_score
            old = (event.previous_quality_score if event.previous_quality_score is not None
                   else (row.quality_score if row is not None else None))
        if new is None or (row is not None and getattr(row, field) == new):
            return 0
        if row is not None:
            _update(connection, "template", row.id, {field: new})
        record_quality_change(connection, subject="template", subject_key=key,
                              subject_name=name, field=field, old_value=old, new_value=new,
                              **common)
        return 1
    if isinstance(event, wh.PhoneNumberQualityEvent):
        digits = "".join(ch for ch in event.display_phone_number or "" if ch.isdigit())
        row = _phone_row(connection, account_id, digits)
        key = row.meta_id if row is not None else digits
        name = phone_name(event.display_phone_number, key)
        updates: dict[str, str] = {}
        changes: list[tuple[str, Any, str]] = []
        if event.current_limit is not None:
            tier = str(event.current_limit)
            old_tier = (row.messaging_limit_tier if row is not None
                        else (str(event.old_limit) if event.old_limit is not None else None))
            if old_tier != tier:
                updates["messaging_limit_tier"] = tier
                changes.append(("messaging_limit_tier", old_tier, tier))
        status = _PHONE_EVENT_STATUS.get((event.event or "").upper())
        if status is not None and (row is None or row.status != status):
            updates["status"] = status
            changes.append(("status", row.status if row is not None else None, status))
        if row is not None and updates:
            _update(connection, "phone", row.id, updates)
        for field, old, new in changes:
            record_quality_change(connection, subject="phone", subject_key=key,
                                  subject_name=name, field=field, old_value=old,
                                  new_value=new, **common)
        return len(changes)
    return 0


def _event_time(timestamp: int | None, fallback: datetime) -> datetime:
    if timestamp is None:
        return fallback
    try:
        return datetime.fromtimestamp(timestamp, UTC)
    except (OverflowError, OSError, ValueError):
        return fallback


def _template_row(connection: Connection, account_id: int, meta_id: str | None,
                  name: str | None, language: str | None) -> Any:
    from sqlalchemy import select

    from wa_console.store.models import MessageTemplate

    c = MessageTemplate.__table__.c
    query = select(c.id, c.status, c.quality_score).where(c.account_id == account_id,
                                                          c.meta_id.is_not(None))
    if meta_id:
        found = connection.execute(query.where(c.meta_id == meta_id)).first()
        if found is not None:
            return found
    if name and language:  # Meta's ID unknown locally: the synced template of that name
        return connection.execute(query.where(c.name == name, c.language == language)
                                  .order_by(c.removed_at.is_not(None), c.id)).first()
    return None


def _phone_row(connection: Connection, account_id: int, digits: str) -> Any:
    from sqlalchemy import select

    from wa_console.store.models import PhoneNumber

    if not digits:
        return None
    c = PhoneNumber.__table__.c
    # Display numbers are stored formatted ("+1 555-000-1111"): compare their digits.
    for row in connection.execute(select(c.id, c.meta_id, c.display_phone_number,
                                         c.messaging_limit_tier, c.status)
                                  .where(c.account_id == account_id)):
        if "".join(ch for ch in row.display_phone_number or "" if ch.isdigit()) == digits:
            return row
    return None


def _update(connection: Connection, kind: str, pk: int, values: dict[str, str]) -> None:
    from wa_console.store.models import MessageTemplate, PhoneNumber

    table = (MessageTemplate if kind == "template" else PhoneNumber).__table__
    connection.execute(table.update().where(table.c.id == pk).values(**values))
