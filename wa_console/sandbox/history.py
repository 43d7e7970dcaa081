"""Realistic delivery history for tests, benchmarks and the sandbox.

`generate_history()` plans `messages` sends over `days` days (deterministic for a `seed`):
most are sent → delivered → read, some fail with real Meta error shapes, some are never
confirmed; statuses arrive out of order and duplicated, Meta retries a few deliveries, a phone
number's quality drops GREEN → YELLOW (seen by a sync) and a template is PAUSED (by webhook).

Both paths write the same plan with the same semantics:
- `via="receiver"`: Meta-shaped webhook bodies through `store.messages.ingest` (the receiver's
  own code, as after its signature check passed; slower, for tests);
- `via="store"`: bulk inserts of the rows ingest would have written (fast, for the 200,000
  message benchmark).
Each message's row is created at send time (status "accepted", as a send records it) with its
template, sender and recipient, which status webhooks do not carry.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from wa_console.meta import webhooks as wh

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["ERROR_SHAPES", "HistoryStats", "generate_history"]

# Meta's failed-status errors (code, title, details) with how often each occurs.
ERROR_SHAPES: Final[tuple[tuple[int, str, str, int], ...]] = (
    (131026, "Message undeliverable", "Message Undeliverable.", 30),
    (131047, "Re-engagement message",
     "Message failed to send because more than 24 hours have passed since the customer last "
     "replied to this number.", 20),
    (131049, "This message was not delivered to maintain healthy ecosystem engagement.",
     "In order to maintain a healthy ecosystem engagement, the message failed to be "
     "delivered.", 15),
    (131050, "Unable to deliver the message. This recipient has chosen to stop receiving "
     "marketing messages on WhatsApp from your business.",
     "The user has stopped marketing messages.", 8),
    (131030, "Recipient phone number not in allowed list",
     "Recipient phone number not in allowed list: Add recipient phone number to recipient "
     "list and try again.", 7),
    (132000, "Number of parameters does not match the expected number of params",
     "body: number of localizable_params (1) does not match the expected number of params "
     "(2)", 10),
    (133010, "Account not registered", "Account not registered", 4),
    (130429, "Rate limit hit", "Cloud API message throughput has been reached.", 6),
)
_ERROR_HREF: Final = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
_FALLBACK_TEMPLATES: Final = ("order_update", "appointment_reminder", "spring_promo",
                              "login_code", "delivery_notice", "feedback_request")
_MAX_PER_BODY: Final = 4  # Meta batches a few statuses into one delivery


@dataclass(frozen=True)
class HistoryStats:
    messages: int
    status_events: int  # status callbacks delivered, duplicates included
    deliveries: int  # webhook POSTs (Meta's retries of the same bytes included)
    failed: int
    never_confirmed: int  # no delivered/read/failed status at all
    quality_changes: int
    since: datetime  # the oldest send
    until: datetime  # `now`


@dataclass
class _Message:
    wamid: str
    phone_id: str
    template: str
    language: str
    recipient: str
    sent_at: datetime
    events: list[tuple[str, datetime]] = field(default_factory=list)  # (status, Meta's time)
    error: dict[str, Any] | None = None


@dataclass(frozen=True)
class _Event:
    arrival: datetime
    message: _Message
    status: str
    at: datetime


@dataclass
class _Plan:
    account_id: int
    waba_id: str
    simulated: bool
    messages: list[_Message]
    bodies: list[tuple[datetime, bytes, list[_Event]]]  # (received_at, body, its statuses)
    # Bodies delivered again (the same bytes), with the statuses they add to the count.
    retries: list[tuple[datetime, bytes, int]]
    status_events: int  # planned status callbacks, duplicates included (retries not)
    paused: tuple[datetime, bytes]  # the template PAUSED webhook
    phone_change: tuple[str, str, datetime]  # (phone ID, display, when YELLOW was seen)


def generate_history(engine: Engine, account_id: int, *, messages: int = 2000, days: int = 30,
                     seed: int = 0, now: datetime | None = None,
                     via: str = "store") -> HistoryStats:
    """Fill outbound_message, message_status, webhook_event and quality_change (see module)."""
    if via not in ("store", "receiver"):
        raise ValueError(f"via must be 'store' or 'receiver', not {via!r}")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    before = _quality_changes(engine, account_id)
    plan = _make_plan(engine, account_id, messages, days, seed, now)
    _insert_sends(engine, plan)
    if via == "receiver":
        _through_receiver(engine, plan)
    else:
        _through_store(engine, plan)
    _record_phone_change(engine, plan)
    changes = _quality_changes(engine, account_id) - before
    return HistoryStats(
        messages=len(plan.messages),
        status_events=plan.status_events + sum(n for *_, n in plan.retries),
        deliveries=len(plan.bodies) + len(plan.retries) + 1,
        failed=sum(1 for m in plan.messages if m.error is not None),
        never_confirmed=sum(1 for m in plan.messages
                            if not any(s in ("delivered", "read", "failed")
                                       for s, _ in m.events)),
        quality_changes=changes,
        since=min((m.sent_at for m in plan.messages), default=now), until=now)


# --- the plan ---------------------------------------------------------------------------------


def _make_plan(engine: Engine, account_id: int, count: int, days: int, seed: int,
               now: datetime) -> _Plan:
    from sqlalchemy import func, select

    from wa_console.store.models import (
        ChannelAccount,
        MessageTemplate,
        OutboundMessage,
        PhoneNumber,
    )

    rng = random.Random(seed)
    with engine.connect() as connection:
        # Generating again (the sandbox's button twice) must not reuse a wamid; a fresh
        # database always starts at run 0, so the same seed gives the same history.
        run = connection.scalar(select(func.count()).select_from(OutboundMessage).where(
            OutboundMessage.wamid.like("wamid.HIST%")))
        account = connection.execute(select(ChannelAccount.__table__)
                                     .where(ChannelAccount.id == account_id)).one()
        synced = connection.execute(
            select(PhoneNumber.meta_id, PhoneNumber.display_phone_number)
            .where(PhoneNumber.account_id == account_id).order_by(PhoneNumber.meta_id)).all()
        templates = connection.execute(
            select(MessageTemplate.meta_id, MessageTemplate.name, MessageTemplate.language)
            .where(MessageTemplate.account_id == account_id,
                   MessageTemplate.meta_id.is_not(None), MessageTemplate.removed_at.is_(None),
                   # PAUSED too: the template an earlier run paused stays in the mix.
                   MessageTemplate.status.in_(("APPROVED", "PAUSED")))
            .order_by(MessageTemplate.name).limit(6)).all()
    phones = {account.phone_number_id or "100000000000000": account.display_phone_number}
    phones.update({meta_id: display for meta_id, display in synced})
    while len(phones) < 3:  # several senders, even on a fresh account
        phones[f"9{seed % 1000:03d}{len(phones):011d}"] = None
    phone_ids = list(phones)[:4]
    names = ([(t.name, t.language, t.meta_id) for t in templates]
             or [(name, "en_US", None) for name in _FALLBACK_TEMPLATES])
    codes = [shape for shape in ERROR_SHAPES]
    weights = [shape[3] for shape in ERROR_SHAPES]
    span = timedelta(days=days).total_seconds()
    planned = []
    for i in range(count):
        sent_at = now - timedelta(seconds=rng.random() * span)
        name, language, _ = names[min(int(rng.expovariate(0.6)), len(names) - 1)]
        message = _Message(wamid=f"wamid.HIST{seed}x{run}x{i:07d}", language=language,
                           phone_id=phone_ids[min(int(rng.expovariate(1.0)),
                                                  len(phone_ids) - 1)],
                           template=name, recipient=f"1555{rng.randrange(10**7):07d}",
                           sent_at=sent_at.replace(microsecond=0))
        t = message.sent_at + timedelta(seconds=rng.randint(1, 5))
        roll = rng.random()
        if roll < 0.06:  # failed, half of them after "sent"
            code, title, details, _ = rng.choices(codes, weights)[0]
            if rng.random() < 0.5:
                message.events.append(("sent", t))
            message.events.append(("failed", t + timedelta(seconds=rng.randint(1, 30))))
            message.error = {"code": code, "title": title, "message": title,
                             "details": details, "href": _ERROR_HREF}
        elif roll < 0.10:  # never confirmed: "sent" at most
            if rng.random() < 0.5:
                message.events.append(("sent", t))
        else:
            delivered = t + timedelta(seconds=rng.randint(1, 60))
            message.events += [("sent", t), ("delivered", delivered)]
            if roll >= 0.20:
                message.events.append(
                    ("read", delivered + timedelta(seconds=rng.randint(30, 6 * 3600))))
        # Statuses timed after `now` have not happened yet (recent messages are in flight).
        message.events = [(s, at) for s, at in message.events if at <= now]
        planned.append(message)
    events: list[_Event] = []
    for message in planned:
        arrivals = [at + timedelta(seconds=rng.randint(0, 2)) for _, at in message.events]
        if len(arrivals) > 1 and rng.random() < 0.08:  # out of order: the later one first
            arrivals[0], arrivals[1] = arrivals[1], arrivals[0]
        for (status, at), arrival in zip(message.events, arrivals, strict=True):
            events.append(_Event(arrival, message, status, at))
            if rng.random() < 0.08:  # Meta sends the same status again, later
                events.append(_Event(arrival + timedelta(seconds=rng.randint(30, 300)),
                                     message, status, at))
    events.sort(key=lambda e: (e.arrival, e.message.wamid, e.status))
    waba = account.waba_id or "100000000000001"
    bodies: list[tuple[datetime, bytes, list[_Event]]] = []
    retries: list[tuple[datetime, bytes, int]] = []
    seen: set[bytes] = set()
    for chunk in _chunks(events, rng):
        delivery = (chunk[-1].arrival, _status_body(waba, chunk), chunk)
        if delivery[1] in seen:  # a duplicate status alone: the same bytes again, a retry
            retries.append((delivery[0], delivery[1], 0))  # its statuses are counted
            continue
        seen.add(delivery[1])
        bodies.append(delivery)
        if rng.random() < 0.01:  # Meta delivers the same POST again
            retries.append((delivery[0] + timedelta(seconds=20), delivery[1], len(chunk)))
    paused_name, paused_language, paused_id = names[0]
    paused_at = (now - timedelta(days=days / 3)).replace(microsecond=0)
    paused_body = _json({"object": "whatsapp_business_account", "entry": [{
        "id": waba, "time": int(paused_at.timestamp()), "changes": [{
            "field": "message_template_status_update", "value": {
                "event": "PAUSED", "message_template_id": int(paused_id or 7_000_000_000 + seed),
                "message_template_name": paused_name,
                "message_template_language": paused_language,
                "reason": "Template paused for low quality: too many people blocked it."}}]}]})
    first_phone = phone_ids[0]
    return _Plan(account_id=account_id, waba_id=waba, simulated=bool(account.sandbox),
                 messages=planned, bodies=bodies, retries=retries, status_events=len(events),
                 paused=(paused_at, paused_body),
                 phone_change=(first_phone, phones[first_phone] or first_phone,
                               (now - timedelta(days=days / 2)).replace(microsecond=0)))


def _chunks(events: list[_Event], rng: random.Random) -> Iterator[list[_Event]]:
    start = 0
    while start < len(events):
        size = rng.randint(1, _MAX_PER_BODY)
        yield events[start:start + size]
        start += size


def _status_body(waba: str, chunk: list[_Event]) -> bytes:
    by_phone: dict[str, list[dict[str, Any]]] = {}
    for e in chunk:
        item: dict[str, Any] = {"id": e.message.wamid, "status": e.status,
                                "timestamp": str(int(e.at.timestamp())),
                                "recipient_id": e.message.recipient}
        if e.status == "failed" and e.message.error is not None:
            error = e.message.error
            item["errors"] = [{"code": error["code"], "title": error["title"],
                               "message": error["message"],
                               "error_data": {"details": error["details"]},
                               "href": error["href"]}]
        by_phone.setdefault(e.message.phone_id, []).append(item)
    return _json({"object": "whatsapp_business_account", "entry": [{"id": waba, "changes": [
        {"field": "messages", "value": {"messaging_product": "whatsapp",
                                        "metadata": {"display_phone_number": "15550001111",
                                                     "phone_number_id": phone},
                                        "statuses": statuses}}
        for phone, statuses in by_phone.items()]}]})


def _json(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


# --- writers ----------------------------------------------------------------------------------


def _insert_sends(engine: Engine, plan: _Plan) -> None:
    """The rows a send creates (before any webhook), in one transaction."""
    from wa_console.store.models import OutboundMessage

    rows = [{"account_id": plan.account_id, "wamid": m.wamid, "phone_number_id": m.phone_id,
             "recipient": m.recipient, "template_name": m.template,
             "template_language": m.language, "status": "accepted", "status_at": m.sent_at,
             "created_at": m.sent_at, "simulated": plan.simulated} for m in plan.messages]
    with engine.begin() as connection:
        for start in range(0, len(rows), 5000):
            connection.execute(OutboundMessage.__table__.insert(), rows[start:start + 5000])


def _through_receiver(engine: Engine, plan: _Plan) -> None:
    from wa_console.store.messages import ingest

    deliveries = [(at, body) for at, body, _ in plan.bodies]
    deliveries += [(at, body) for at, body, _ in plan.retries]
    deliveries.append(plan.paused)
    for received_at, body in sorted(deliveries, key=lambda d: d[0]):
        # Signed by Meta in production; the receiver verified the signature before ingest.
        ingest(engine, body, signature_valid=True, received_at=received_at)


def _through_store(engine: Engine, plan: _Plan) -> None:
    """What ingest writes, in bulk: the deliveries, every first-seen status, and each
    message's final state (latest by rank; failed is final and brings its errors)."""
    from sqlalchemy import bindparam

    from wa_console.store.dialect import insert_for
    from wa_console.store.messages import STATUS_RANK, first_error_code
    from wa_console.store.models import MessageStatus, OutboundMessage, WebhookEvent
    from wa_console.store.quality import record_webhook_quality

    events_table = WebhookEvent.__table__
    outbound = OutboundMessage.__table__
    with engine.begin() as connection:
        event_rows = [_event_row(plan, at, body, evs) for at, body, evs in plan.bodies]
        ids: list[int] = []
        for start in range(0, len(event_rows), 5000):
            ids += connection.execute(
                events_table.insert().returning(events_table.c.id,
                                                sort_by_parameter_order=True),
                event_rows[start:start + 5000]).scalars().all()
        seen: set[tuple[str, str]] = set()
        status_rows = []
        best: dict[str, tuple[str, datetime]] = {}
        for event_id, (received_at, _, evs) in zip(ids, plan.bodies, strict=True):
            for e in evs:
                key = (e.message.wamid, e.status)
                if key in seen:
                    continue  # a duplicate callback: insert-or-ignore in ingest
                seen.add(key)
                error = e.message.error if e.status == "failed" else None
                status_rows.append({
                    "wamid": e.message.wamid, "status": e.status, "timestamp": e.at,
                    "recipient": e.message.recipient, "errors": [error] if error else None,
                    "pricing": None, "event_id": event_id, "signature_valid": True,
                    "received_at": received_at})
                current = best.get(e.message.wamid)
                if current is None or STATUS_RANK[e.status] > STATUS_RANK[current[0]]:
                    best[e.message.wamid] = (e.status, e.at)
        for start in range(0, len(status_rows), 10000):
            connection.execute(MessageStatus.__table__.insert(),
                               status_rows[start:start + 10000])
        errors = {m.wamid: [m.error] for m in plan.messages if m.error is not None}
        updates = [{"_wamid": wamid, "status": status, "status_at": at,
                    "errors": errors.get(wamid) if status == "failed" else None,
                    "error_code": first_error_code(errors.get(wamid))
                    if status == "failed" else None}
                   for wamid, (status, at) in best.items()]
        for start in range(0, len(updates), 10000):
            connection.execute(outbound.update().where(outbound.c.wamid == bindparam("_wamid")),
                               updates[start:start + 10000])
        paused_at, paused_body = plan.paused
        # The same PAUSED delivery from an earlier run is a Meta retry: stored once.
        paused_id = connection.execute(
            insert_for(engine, events_table)
            .on_conflict_do_nothing(index_elements=[events_table.c.body_sha256])
            .returning(events_table.c.id),
            _event_row(plan, paused_at, paused_body, [])).scalar()
        for event in wh.parse_webhook(paused_body) if paused_id is not None else ():
            record_webhook_quality(connection, event, account_id=plan.account_id,
                                   event_id=paused_id, simulated=plan.simulated,
                                   received_at=paused_at)


def _event_row(plan: _Plan, received_at: datetime, body: bytes,
               evs: list[_Event]) -> dict[str, Any]:
    parsed = [{"kind": "status", "wamid": e.message.wamid, "status": e.status}
              for e in evs] or [{"kind": "template_status"}]
    return {"account_id": plan.account_id, "body_sha256": hashlib.sha256(body).hexdigest(),
            "raw_body": body.decode(), "parsed": parsed, "signature_valid": True,
            "source": "receiver", "received_at": received_at, "simulated": plan.simulated}


def _quality_changes(engine: Engine, account_id: int) -> int:
    from sqlalchemy import func, select

    from wa_console.store.models import QualityChange

    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(QualityChange)
                                     .where(QualityChange.account_id == account_id)) or 0)


def _record_phone_change(engine: Engine, plan: _Plan) -> None:
    """The phone number's quality drop, as the next account sync records it (once: a number
    already YELLOW from an earlier run has nothing to change)."""
    from sqlalchemy import select, update

    from wa_console.store.models import PhoneNumber, QualityChange
    from wa_console.store.quality import record_quality_change

    phone_id, display, at = plan.phone_change
    with engine.begin() as connection:
        current = connection.scalar(select(PhoneNumber.quality_rating).where(
            PhoneNumber.account_id == plan.account_id, PhoneNumber.meta_id == phone_id))
        recorded = connection.scalar(select(QualityChange.id).where(
            QualityChange.account_id == plan.account_id, QualityChange.subject == "phone",
            QualityChange.subject_key == phone_id, QualityChange.new_value == "YELLOW"))
        if current == "YELLOW" or (current is None and recorded is not None):
            return
        connection.execute(update(PhoneNumber).where(PhoneNumber.account_id == plan.account_id,
                                                     PhoneNumber.meta_id == phone_id)
                           .values(quality_rating="YELLOW"))
        record_quality_change(connection, account_id=plan.account_id, subject="phone",
                              subject_key=phone_id, subject_name=display,
                              field="quality_rating", old_value=current or "GREEN",
                              new_value="YELLOW", at=at, source="sync",
                              simulated=plan.simulated)
