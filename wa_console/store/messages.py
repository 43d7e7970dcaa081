"""Webhook deliveries into the database, and the reads the test send, proofs and health use.

`ingest()` stores one accepted POST in one transaction: the raw body (`webhook_event`, unique by
the body's sha256 so a Meta retry of the same bytes is a no-op), every status callback
(`message_status`, insert-or-ignore on (wamid, status, timestamp)), the outbound message it
belongs to (created for platform sends first seen here, else advanced monotonically), inbound
messages (insert-or-ignore on wamid) mapped to the test send they answer, and an opt-out when an
inbound text is an opt-out keyword from a test recipient.

Many receiver threads call `ingest()` at once. The reads a delivery needs (its account, the test
send a reply answers, an opted-in recipient) come first; then the writes, each an
insert-or-ignore or a guarded upsert on a unique key, so two deliveries racing on one wamid both
land. On SQLite the reads run before the driver opens the write transaction, and the receiver
threads of a process take turns on a lock per database file (instead of SQLite's sleeping
busy_timeout; other processes still meet busy_timeout). A delivery that still collides (a
deadlock, a row deleted under it) is retried once from the start.

Callers get frozen dataclasses, never ORM objects; SQLAlchemy is imported inside the functions.
"""

from __future__ import annotations

import hashlib
import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from wa_console.core.consent import is_opt_out
from wa_console.meta import webhooks as wh
from wa_console.store.quality import record_webhook_quality
from wa_console.store.times import as_utc

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session

__all__ = [
    "REPLY_WINDOW",
    "STATUS_RANK",
    "InboundInfo",
    "IngestResult",
    "StatusInfo",
    "advances",
    "event_count",
    "first_error_code",
    "ingest",
    "latest_status",
    "raw_event",
    "replies_to",
    "statuses_for",
    "statuses_to_recipient_since",
]

STATUS_RANK: Final[dict[str, int]] = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}
# A reply without context.id answers the newest test send to that number within this window
# (Meta's customer-service window is 24 h: a later reply is a new conversation).
REPLY_WINDOW: Final = timedelta(hours=24)
_SUMMARY_KINDS: Final[dict[type, str]] = {
    wh.StatusEvent: "status",
    wh.InboundMessage: "message",
    wh.TemplateStatusEvent: "template_status",
    wh.TemplateQualityEvent: "template_quality",
    wh.TemplateCategoryEvent: "template_category",
    wh.PhoneNumberQualityEvent: "phone_quality",
    wh.PhoneNumberNameEvent: "phone_name",
    wh.AccountUpdateEvent: "account",
    wh.ValueErrorsEvent: "errors",
    wh.UnknownEvent: "unknown",
}


def advances(current: str | None, new: str) -> bool:
    """Whether status `new` replaces `current` on an outbound message.

    By rank (sent < delivered < read < failed); "failed" is final. Statuses outside the rank
    (Meta's "played", "deleted", ... or the test send's "sending"/"outcome_unknown") rank 0:
    any ranked status replaces them, they never replace a ranked one.
    """
    if current == "failed":
        return False
    return STATUS_RANK.get(new, 0) > STATUS_RANK.get(current or "", 0)


@dataclass(frozen=True)
class IngestResult:
    """What one delivery did. `duplicate`: the same body was stored before (a Meta retry);
    `event_id` is then the earlier event's. `opted_out`: test recipients ("+digits") that this
    delivery opted out."""

    event_id: int | None
    duplicate: bool
    account_id: int | None
    statuses: int
    inbound: int
    opted_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class StatusInfo:
    wamid: str
    status: str
    timestamp: datetime
    recipient: str | None
    errors: list[Any] | None
    signature_valid: bool
    received_at: datetime
    event_id: int | None


@dataclass(frozen=True)
class InboundInfo:
    wamid: str
    from_number: str
    type: str
    text: str | None
    timestamp: datetime
    context_wamid: str | None
    reply_to_wamid: str | None
    signature_valid: bool
    received_at: datetime


# --- ingest ------------------------------------------------------------------------------------


def ingest(engine: Engine, raw_body: bytes, *, signature_valid: bool, source: str = "receiver",
           received_at: datetime | None = None) -> IngestResult:
    """Store one webhook delivery (see the module doc) in one transaction.

    Raises:
        WebhookFormatError: the body is not a WhatsApp Business Account webhook (nothing stored).
    """
    from sqlalchemy.exc import DBAPIError

    events = wh.parse_webhook(raw_body)
    received_at = received_at or datetime.now(UTC)
    try:
        return _ingest(engine, raw_body, events, signature_valid, source, received_at)
    except DBAPIError as exc:
        if not _worth_retrying(exc):
            raise
        return _ingest(engine, raw_body, events, signature_valid, source, received_at)


def _worth_retrying(exc: Exception) -> bool:
    """A unique/foreign-key collision with a concurrent writer, or a PostgreSQL deadlock or
    serialization failure: running the delivery again from the start succeeds."""
    from sqlalchemy.exc import IntegrityError

    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(exc, IntegrityError) or code in ("40P01", "40001")


def _ingest(engine: Engine, raw_body: bytes, events: list[wh.WebhookEvent],
            signature_valid: bool, source: str, received_at: datetime) -> IngestResult:
    sql = _statements(engine)
    # The whole delivery takes its turn, reads included: threads waiting on a lock leave the
    # GIL to the writer, which then is not slowed down by their Python work.
    with _writer_turn(engine), engine.connect() as connection:
        # Reads first: on SQLite they run before the driver opens the write transaction.
        accounts = _AccountMap(connection, sql)
        # The self-test's synthetic statuses are kept in the raw event only: they are evidence
        # that the receiver answered, not messages (delivery health must not count them).
        plans = [_plan(connection, sql, accounts, event, received_at) for event in events
                 if not (isinstance(event, wh.StatusEvent)
                         and event.wamid.startswith(wh.SELF_TEST_WAMID_PREFIX))]
        first = next((p.account for p in plans if p.account[0] is not None), (None, False))
        body_sha256 = hashlib.sha256(raw_body).hexdigest()
        event_id = connection.scalar(sql.insert_event, {
            "account_id": first[0], "body_sha256": body_sha256,
            "raw_body": raw_body.decode("utf-8", "replace"),
            "parsed": [_summary(e) for e in events], "signature_valid": signature_valid,
            "source": source, "received_at": received_at, "simulated": first[1]})
        if event_id is None:  # the same bytes were stored before: a Meta retry
            connection.rollback()
            earlier = connection.execute(sql.find_event, {"sha": body_sha256}).one()
            return IngestResult(event_id=earlier.id, duplicate=True,
                                account_id=earlier.account_id, statuses=0, inbound=0)
        opted_out = [phone for plan in plans
                     if (phone := plan.write(connection, sql, event_id, signature_valid,
                                             received_at)) is not None]
        connection.commit()
    return IngestResult(event_id=event_id, duplicate=False, account_id=first[0],
                        statuses=sum(isinstance(e, wh.StatusEvent) for e in events),
                        inbound=sum(isinstance(e, wh.InboundMessage) for e in events),
                        opted_out=tuple(opted_out))


class _Statements:
    """The ingest's statements, built once per dialect (SQLAlchemy then reuses their compiled
    form): building a statement costs more than running it."""

    def __init__(self, engine: Engine) -> None:
        from sqlalchemy import bindparam, case, literal_column, or_, select

        from wa_console.store.dialect import insert_for
        from wa_console.store.models import (
            ChannelAccount,
            ConsentEvent,
            InboundMessage,
            MessageStatus,
            OutboundMessage,
            Sender,
            TestRecipient,
            WebhookEvent,
        )

        event = WebhookEvent.__table__
        account = ChannelAccount.__table__
        sender = Sender.__table__
        outbound = OutboundMessage.__table__
        status = MessageStatus.__table__
        inbound = InboundMessage.__table__
        recipient = TestRecipient.__table__

        self.insert_event = (insert_for(engine, event)
                             .on_conflict_do_nothing(index_elements=[event.c.body_sha256])
                             .returning(event.c.id))
        self.find_event = select(event.c.id, event.c.account_id).where(
            event.c.body_sha256 == bindparam("sha"))
        # The account with that phone number ID, else one with a sender on it, else the one
        # with that WABA ID; several accounts can share IDs (two sandbox accounts): oldest wins.
        phone, waba = bindparam("phone"), bindparam("waba")
        by_sender = account.c.id.in_(select(sender.c.account_id)
                                     .where(sender.c.phone_meta_id == phone))
        priority = case((account.c.phone_number_id == phone, 0), (by_sender, 1), else_=2)
        self.find_account = (select(account.c.id, account.c.sandbox)
                             .where(or_(account.c.phone_number_id == phone, by_sender,
                                        account.c.waba_id == waba))
                             .order_by(priority, account.c.id).limit(1))
        self.recent_test_send = (
            select(outbound.c.wamid)
            .where(outbound.c.client_ref.is_not(None), outbound.c.wamid.is_not(None),
                   outbound.c.recipient == bindparam("number"),
                   outbound.c.created_at >= bindparam("since"),
                   outbound.c.created_at <= bindparam("until"))
            .order_by(outbound.c.created_at.desc(), outbound.c.id.desc()).limit(1))
        self.find_recipient = select(recipient.c.id).where(
            recipient.c.account_id == bindparam("account_id"),
            recipient.c.phone == bindparam("phone"), recipient.c.opted_in.is_(True))
        self.insert_status = insert_for(engine, status).on_conflict_do_nothing(
            index_elements=[status.c.wamid, status.c.status, status.c.timestamp])
        # Created when first seen; otherwise moved forward only: by rank, never out of
        # "failed", and a failed status brings its errors. One statement, so two receivers
        # racing on one wamid cannot lose either status.
        upsert = insert_for(engine, outbound)
        rank_of = {name: rank for name, rank in STATUS_RANK.items()}
        new_rank = case(rank_of, value=upsert.excluded.status, else_=0)
        old_rank = case(rank_of, value=outbound.c.status, else_=0)
        self.upsert_outbound = upsert.on_conflict_do_update(
            index_elements=[outbound.c.wamid],
            set_={"status": upsert.excluded.status, "status_at": upsert.excluded.status_at,
                  "errors": case((upsert.excluded.status == literal_column("'failed'"),
                                  upsert.excluded.errors), else_=outbound.c.errors),
                  "error_code": case((upsert.excluded.status == literal_column("'failed'"),
                                      upsert.excluded.error_code),
                                     else_=outbound.c.error_code)},
            where=(new_rank > old_rank) & (outbound.c.status != literal_column("'failed'")))
        self.insert_inbound = (insert_for(engine, inbound)
                               .on_conflict_do_nothing(index_elements=[inbound.c.wamid])
                               .returning(inbound.c.id))
        self.opt_out = (recipient.update()
                        .where(recipient.c.id == bindparam("rid"),
                               recipient.c.opted_in.is_(True))
                        .values(opted_in=False, consent_changed_at=bindparam("at")))
        self.insert_consent = ConsentEvent.__table__.insert()


_STATEMENTS: dict[str, _Statements] = {}
_SQLITE_WRITERS: dict[str, threading.Lock] = {}
_SQLITE_WRITERS_LOCK = threading.Lock()


def _writer_turn(engine: Engine) -> AbstractContextManager[Any]:
    """SQLite allows one writer at a time, and a writer that finds the file locked sleeps in
    growing steps (busy_timeout). Deliveries of one process therefore take turns on a plain
    lock (handed over at once). PostgreSQL deliveries run concurrently (row locks)."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    key = str(engine.url.database)
    with _SQLITE_WRITERS_LOCK:
        lock = _SQLITE_WRITERS.setdefault(key, threading.Lock())
    return lock


def _statements(engine: Engine) -> _Statements:
    name = engine.dialect.name
    sql = _STATEMENTS.get(name)
    if sql is None:
        sql = _STATEMENTS[name] = _Statements(engine)
    return sql


class _AccountMap:
    """Which channel account (id, sandbox) events belong to, looked up once per
    (phone number ID, WABA ID) pair of a delivery."""

    def __init__(self, connection: Connection, sql: _Statements) -> None:
        self._connection = connection
        self._sql = sql
        self._cache: dict[tuple[str | None, str | None], tuple[int | None, bool]] = {}

    def of(self, event: wh.WebhookEvent) -> tuple[int | None, bool]:
        key = (getattr(event, "phone_number_id", None), getattr(event, "waba_id", None))
        if key not in self._cache:
            row = self._connection.execute(self._sql.find_account,
                                           {"phone": key[0], "waba": key[1]}).first()
            self._cache[key] = (row.id, bool(row.sandbox)) if row is not None else (None, False)
        return self._cache[key]


@dataclass(frozen=True)
class _Plan:
    """One event of a delivery, with what was read for it before the writes."""

    event: wh.WebhookEvent
    account: tuple[int | None, bool]
    reply_to: str | None = None
    opt_out_recipient: int | None = None  # an opted-in test recipient who sent a keyword

    def write(self, connection: Connection, sql: _Statements, event_id: int,
              signature_valid: bool, received_at: datetime) -> str | None:
        """Write the event; returns the test recipient's phone when it opted them out."""
        event = self.event
        if isinstance(event, wh.StatusEvent):
            at = _time(event.timestamp, received_at)
            errors = [_error_dict(e) for e in event.errors] or None
            pricing = ({"billable": event.billable, "pricing_model": event.pricing_model,
                        "category": event.pricing_category}
                       if event.pricing_model or event.pricing_category
                       or event.billable is not None else None)
            connection.execute(sql.insert_status, {
                "wamid": event.wamid, "status": event.status, "timestamp": at,
                "recipient": event.recipient_id, "errors": errors, "pricing": pricing,
                "event_id": event_id, "signature_valid": signature_valid,
                "received_at": received_at})
            connection.execute(sql.upsert_outbound, {
                "account_id": self.account[0], "wamid": event.wamid,
                "phone_number_id": event.phone_number_id, "recipient": event.recipient_id,
                "status": event.status, "status_at": at, "errors": errors,
                "error_code": first_error_code(errors),
                "created_at": received_at, "simulated": self.account[1]})
            return None
        if not isinstance(event, wh.InboundMessage):
            if self.account[0] is not None:  # quality webhooks: history + the current row
                record_webhook_quality(connection, event, account_id=self.account[0],
                                       event_id=event_id, simulated=self.account[1],
                                       received_at=received_at)
            return None  # the rest is kept in webhook_event only
        at = _time(event.timestamp, received_at)
        created = connection.scalar(sql.insert_inbound, {
            "account_id": self.account[0], "wamid": event.wamid,
            "phone_number_id": event.phone_number_id, "from_number": event.from_wa_id or "",
            "type": event.type, "text": _text_of(event), "timestamp": at,
            "context_wamid": event.context_id, "reply_to_wamid": self.reply_to,
            "event_id": event_id, "signature_valid": signature_valid,
            "received_at": received_at})
        if created is None or self.opt_out_recipient is None:
            return None  # a retry of a stored message changes nothing twice
        if not connection.execute(sql.opt_out, {"rid": self.opt_out_recipient,
                                                "at": at}).rowcount:
            return None  # opted out meanwhile (another delivery won)
        connection.execute(sql.insert_consent, {
            "recipient_id": self.opt_out_recipient, "kind": "opt_out", "at": at,
            "recorded_by": "inbound message", "method": "reply keyword",
            "detail": f"replied {event.text!r} (message {event.wamid})"})
        return "+" + (event.from_wa_id or "")


def _plan(connection: Connection, sql: _Statements, accounts: _AccountMap,
          event: wh.WebhookEvent, received_at: datetime) -> _Plan:
    account = accounts.of(event)
    if not isinstance(event, wh.InboundMessage):
        return _Plan(event, account)
    at = _time(event.timestamp, received_at)
    number = event.from_wa_id or ""
    reply_to = event.context_id
    if reply_to is None and number:
        reply_to = connection.scalar(sql.recent_test_send, {
            "number": number, "since": at - REPLY_WINDOW, "until": at})
    recipient_id = None
    if account[0] is not None and number and event.type == "text" and event.text:
        recipient_id = connection.scalar(sql.find_recipient, {"account_id": account[0],
                                                              "phone": "+" + number})
        if recipient_id is not None and not is_opt_out(
                event.text, _keywords(connection, account[0])):
            recipient_id = None
    return _Plan(event, account, reply_to, recipient_id)


def _keywords(connection: Connection, account_id: int) -> Any:
    from sqlalchemy.orm import Session

    from wa_console.core.consent import DEFAULT_OPT_OUT_KEYWORDS, OPT_OUT_KEYWORDS_KEY
    from wa_console.store.preferences import get_preference

    # A Session on our connection joins its transaction: the same snapshot as the writes.
    with Session(bind=connection) as session:
        return get_preference(session, account_id, OPT_OUT_KEYWORDS_KEY,
                              DEFAULT_OPT_OUT_KEYWORDS)


def _text_of(event: wh.InboundMessage) -> str | None:
    """What the person wrote or tapped (text, button, list/button reply, media caption)."""
    if event.text is not None:
        return event.text
    return event.button_text or event.reply_title or event.caption


def _time(timestamp: int | None, fallback: datetime) -> datetime:
    if timestamp is None:
        return fallback
    try:
        return datetime.fromtimestamp(timestamp, UTC)
    except (OverflowError, OSError, ValueError):  # absurd timestamps: keep the arrival time
        return fallback


def first_error_code(errors: list[dict[str, Any]] | None) -> int | None:
    """The first error's Meta code (OutboundMessage.error_code: health groups by it in SQL)."""
    if not errors:
        return None
    code = errors[0].get("code") if isinstance(errors[0], dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _error_dict(error: wh.ErrorDetail) -> dict[str, Any]:
    return {"code": error.code, "title": error.title, "message": error.message,
            "details": error.details, "href": error.href}


def _summary(event: wh.WebhookEvent) -> dict[str, Any]:
    """A small JSON summary of one typed event (the raw body keeps everything else)."""
    summary: dict[str, Any] = {"kind": _SUMMARY_KINDS.get(type(event), "unknown")}
    if isinstance(event, wh.StatusEvent):
        summary.update(wamid=event.wamid, status=event.status, timestamp=event.timestamp,
                       phone_number_id=event.phone_number_id,
                       error_codes=[e.code for e in event.errors])
        return summary
    if isinstance(event, wh.InboundMessage):
        summary.update(wamid=event.wamid, type=event.type, timestamp=event.timestamp,
                       phone_number_id=event.phone_number_id, context_id=event.context_id)
        return summary
    if isinstance(event, wh.UnknownEvent):
        summary.update(field=event.field, reason=event.reason, waba_id=event.waba_id)
        return summary
    for f in fields(event):  # type: ignore[arg-type]
        value = getattr(event, f.name)
        if f.name != "raw" and (value is None or type(value) in (str, int, bool)):
            summary[f.name] = value
        elif f.name == "errors":
            summary["error_codes"] = [e.code for e in value]
    return summary


# --- reads -------------------------------------------------------------------------------------


def latest_status(session: Session, wamid: str) -> tuple[str | None, datetime | None,
                                                         list[Any] | None]:
    """(status, its time, its errors) of `wamid` from its status callbacks, by rank; all None
    when no callback arrived yet."""
    from sqlalchemy import select

    from wa_console.store.models import MessageStatus

    table = MessageStatus.__table__
    rows = session.execute(select(table.c.status, table.c.timestamp, table.c.errors)
                           .where(table.c.wamid == wamid)
                           .order_by(table.c.timestamp, table.c.id))
    status: str | None = None
    at: datetime | None = None
    errors: list[Any] | None = None
    for row in rows:
        if status is None or advances(status, row.status):
            status, at, errors = row.status, as_utc(row.timestamp), row.errors
    return status, at, errors


def statuses_for(engine: Engine, wamid: str) -> list[StatusInfo]:
    """Every status callback of `wamid`, by Meta's timestamp (then rank)."""
    from wa_console.store.models import MessageStatus

    rows = _statuses(engine, MessageStatus.wamid == wamid)
    return sorted(rows, key=lambda s: (s.timestamp, STATUS_RANK.get(s.status, 0)))


def statuses_to_recipient_since(engine: Engine, recipient_digits: str,
                                since: datetime) -> list[StatusInfo]:
    """Status callbacks for messages to `recipient_digits` timed at or after `since` (to the
    second: Meta's timestamps have no fraction), oldest first. Resolves an "outcome unknown"
    send: a callback here carries the wamid the lost response would have had."""
    from sqlalchemy import and_

    from wa_console.store.models import MessageStatus

    floor = since.replace(microsecond=0)
    rows = _statuses(engine, and_(MessageStatus.recipient == recipient_digits,
                                  MessageStatus.timestamp >= floor))
    return sorted(rows, key=lambda s: (s.timestamp, STATUS_RANK.get(s.status, 0)))


def _statuses(engine: Engine, condition: Any) -> list[StatusInfo]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wa_console.store.models import MessageStatus

    table = MessageStatus.__table__
    with Session(engine) as session:
        return [StatusInfo(wamid=row.wamid, status=row.status, timestamp=as_utc(row.timestamp),
                           recipient=row.recipient, errors=row.errors,
                           signature_valid=bool(row.signature_valid),
                           received_at=as_utc(row.received_at), event_id=row.event_id)
                for row in session.execute(select(table).where(condition)
                                           .order_by(table.c.timestamp, table.c.id))]


def replies_to(engine: Engine, wamid: str) -> list[InboundInfo]:
    """Inbound messages mapped to the outbound `wamid` (by context.id or the reply window)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wa_console.store.models import InboundMessage

    table = InboundMessage.__table__
    with Session(engine) as session:
        return [InboundInfo(wamid=row.wamid, from_number=row.from_number, type=row.type,
                            text=row.text, timestamp=as_utc(row.timestamp),
                            context_wamid=row.context_wamid, reply_to_wamid=row.reply_to_wamid,
                            signature_valid=bool(row.signature_valid),
                            received_at=as_utc(row.received_at))
                for row in session.execute(select(table)
                                           .where(table.c.reply_to_wamid == wamid)
                                           .order_by(table.c.timestamp, table.c.id))]


def event_count(engine: Engine, account_id: int | None = None) -> int:
    """Stored webhook deliveries (of one account, or all)."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from wa_console.store.models import WebhookEvent

    query = select(func.count(WebhookEvent.id))
    if account_id is not None:
        query = query.where(WebhookEvent.account_id == account_id)
    with Session(engine) as session:
        return int(session.scalar(query) or 0)


def raw_event(engine: Engine, event_id: int) -> str | None:
    """The raw body of a stored delivery, exactly as received (as text)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wa_console.store.models import WebhookEvent

    with Session(engine) as session:
        return session.scalar(select(WebhookEvent.raw_body).where(WebhookEvent.id == event_id))
