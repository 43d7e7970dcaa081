"""Delivery health reads: figures, the per-day series, failures by error code, the message
list and timeline, the quality panel, and the CSV exports.

Each message counts once, by its latest status (`outbound_message.status`, kept by the
receiver's ingest); the figure it counts in is decided in SQL (`_bucket`) with the rules of
`core.health`, so a period's figures and day series come from ONE `GROUP BY` over the
(account_id, created_at) index, never from Python over every row. Days are UTC calendar days of
`created_at`. Readers return frozen dataclasses; SQLAlchemy is imported inside the functions.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, TextIO

from wa_console.core.errors import explain
from wa_console.core.health import BUCKETS, CONFIRMED, FAILED, UNCONFIRMED_AFTER, Figures
from wa_console.store.proofs import mask_phone
from wa_console.store.times import as_utc

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from wa_console.store.messages import StatusInfo

__all__ = [
    "DayCounts",
    "EventInfo",
    "FailureGroup",
    "FilterChoices",
    "HealthFilter",
    "HealthReport",
    "MessageRow",
    "QualityChangeInfo",
    "QualityItem",
    "Timeline",
    "count_messages",
    "filter_choices",
    "health_report",
    "message_page",
    "message_timeline",
    "quality_overview",
    "quality_warnings",
    "write_failures_csv",
    "write_messages_csv",
]

_RED: Final = "RED"
_FLAGGED_PHONE_STATUS: Final = frozenset({"FLAGGED", "RESTRICTED"})
_FLAGGED_TEMPLATE_STATUS: Final = frozenset({"PAUSED", "DISABLED"})


@dataclass(frozen=True)
class HealthFilter:
    """Which messages: one account's, created in [since, until), optionally narrowed.
    `status` is a figure name (sent, delivered, read, failed, unconfirmed)."""

    account_id: int
    since: datetime
    until: datetime
    phone_number_id: str | None = None
    template_name: str | None = None
    error_code: int | None = None
    status: str | None = None


@dataclass(frozen=True, kw_only=True)
class DayCounts(Figures):
    """One day's figures (the chart's bars)."""

    day: date


@dataclass(frozen=True)
class FailureGroup:
    code: int | None
    title: str
    meaning: str
    fix: str
    count: int
    templates: tuple[str, ...]  # most hit first
    senders: tuple[str, ...]  # sender labels (the phone number ID when no sender has it)


@dataclass(frozen=True)
class HealthReport:
    figures: Figures
    days: tuple[DayCounts, ...]
    failures: tuple[FailureGroup, ...]  # most first
    failure_rate: float


@dataclass(frozen=True)
class MessageRow:
    id: int
    wamid: str | None
    created_at: datetime
    recipient: str  # masked: +1555•••4567
    phone_number_id: str | None
    template: str | None
    status: str  # a figure name, "unconfirmed" included
    status_at: datetime | None
    error_code: int | None


@dataclass(frozen=True)
class EventInfo:
    event_id: int
    received_at: datetime
    signature_valid: bool
    raw_body: str


@dataclass(frozen=True)
class Timeline:
    message: MessageRow
    statuses: tuple[StatusInfo, ...]  # by Meta's timestamp
    events: tuple[EventInfo, ...]  # the webhook deliveries that carried them


@dataclass(frozen=True)
class QualityChangeInfo:
    field: str
    old_value: str | None
    new_value: str | None
    at: datetime
    source: str  # "sync" | "webhook"


@dataclass(frozen=True)
class QualityItem:
    subject: str  # "phone" | "template"
    key: str  # phone number ID / template Meta ID
    name: str
    current: dict[str, str | None]
    changes: tuple[QualityChangeInfo, ...]  # newest first
    flagged: bool
    flag_reason: str | None


@dataclass(frozen=True)
class FilterChoices:
    senders: tuple[tuple[str, str], ...]  # (phone_number_id, label)
    templates: tuple[str, ...]
    error_codes: tuple[int, ...]


# --- SQL building blocks --------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return as_utc(now) if now is not None else datetime.now(UTC)


def _bucket(table: Any, cutoff: Any) -> Any:
    """The figure of a message, in SQL (core.health.bucket_of)."""
    from sqlalchemy import case, literal_column

    return case(
        (table.c.status.in_(sorted(CONFIRMED)), table.c.status),
        (table.c.status.in_(sorted(FAILED)), literal_column("'failed'")),
        (table.c.created_at <= cutoff, literal_column("'unconfirmed'")),
        else_=literal_column("'sent'"))


def _day(engine_or_conn: Any, column: Any) -> Any:
    """'YYYY-MM-DD' of a UTC timestamp column, per dialect."""
    from sqlalchemy import func

    if engine_or_conn.dialect.name == "sqlite":
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC: the first ten characters are the day.
        return func.substr(column, 1, 10)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")


def _conditions(table: Any, flt: HealthFilter, cutoff: Any) -> list[Any]:
    where = [table.c.account_id == flt.account_id, table.c.created_at >= as_utc(flt.since),
             table.c.created_at < as_utc(flt.until)]
    if flt.phone_number_id is not None:
        where.append(table.c.phone_number_id == flt.phone_number_id)
    if flt.template_name is not None:
        where.append(table.c.template_name == flt.template_name)
    if flt.error_code is not None:
        where.append(table.c.error_code == flt.error_code)
    if flt.status is not None:
        if flt.status not in BUCKETS:
            raise ValueError(f"status must be one of {', '.join(BUCKETS)}, not {flt.status!r}")
        where.append(_bucket(table, cutoff) == flt.status)
    return where


def _outbound() -> Any:
    from wa_console.store.models import OutboundMessage

    return OutboundMessage.__table__


def _sender_labels(connection: Connection, account_id: int) -> dict[str, str]:
    from sqlalchemy import select

    from wa_console.store.models import Sender

    c = Sender.__table__.c
    return dict(connection.execute(select(c.phone_meta_id, c.label)
                                   .where(c.account_id == account_id)).all())


# --- the report -----------------------------------------------------------------------------


def health_report(engine: Engine, flt: HealthFilter, *,
                  unconfirmed_after: timedelta = UNCONFIRMED_AFTER,
                  now: datetime | None = None) -> HealthReport:
    """Figures, the per-day series (every day of the period, zeros included) and the failures
    by error code (most first), from one GROUP BY over the period's messages."""
    from sqlalchemy import case, func, null, select

    table = _outbound()
    cutoff = _now(now) - unconfirmed_after
    bucket = _bucket(table, cutoff)
    is_failed = table.c.status.in_(sorted(FAILED))
    # Failed messages are also grouped by code, template and sender; the others by day and
    # figure only (their extra keys are NULL), so one pass yields everything.
    code = case((is_failed, table.c.error_code), else_=null())
    template = case((is_failed, table.c.template_name), else_=null())
    phone = case((is_failed, table.c.phone_number_id), else_=null())
    day = _day(engine, table.c.created_at)
    # Labelled in a subquery so the GROUP BY names the columns (PostgreSQL would not match
    # the same expression rendered twice with its own bound parameters).
    keyed = (select(day.label("day"), bucket.label("bucket"), code.label("code"),
                    template.label("template"), phone.label("phone"))
             .where(*_conditions(table, flt, cutoff)).subquery())
    keys = (keyed.c.day, keyed.c.bucket, keyed.c.code, keyed.c.template, keyed.c.phone)
    query = select(*keys, func.count()).group_by(*keys)
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    by_code: dict[int | None, Counter[tuple[str | None, str | None]]] = defaultdict(Counter)
    with engine.connect() as connection:
        for day_text, name, error_code, template_name, phone_id, n in connection.execute(query):
            per_day[day_text][name] += n
            if name == "failed":
                by_code[error_code][(template_name, phone_id)] += n
        failures = _failure_groups(connection, flt.account_id, by_code) if by_code else ()
    totals: Counter[str] = Counter()
    for counts in per_day.values():
        totals.update(counts)
    figures = Figures(**{name: totals[name] for name in BUCKETS})
    days = tuple(DayCounts(day=day, **{name: per_day[day.isoformat()][name] for name in BUCKETS})
                 for day in _period_days(flt.since, flt.until))
    return HealthReport(figures=figures, days=days, failures=failures,
                        failure_rate=figures.rate("failed"))


def _period_days(since: datetime, until: datetime) -> list[date]:
    first = as_utc(since).date()
    last = (as_utc(until) - timedelta(microseconds=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _failure_groups(connection: Connection, account_id: int,
                    by_code: dict[int | None, Counter[tuple[str | None, str | None]]]
                    ) -> tuple[FailureGroup, ...]:
    labels = _sender_labels(connection, account_id)
    groups = []
    for error_code, hits in by_code.items():
        templates: Counter[str] = Counter()
        senders: Counter[str] = Counter()
        for (template_name, phone_id), n in hits.items():
            if template_name:
                templates[template_name] += n
            if phone_id:
                senders[labels.get(phone_id, phone_id)] += n
        title, meaning, fix = _explanation(connection, account_id, error_code)
        groups.append(FailureGroup(
            code=error_code, title=title, meaning=meaning, fix=fix, count=sum(hits.values()),
            templates=tuple(name for name, _ in templates.most_common()),
            senders=tuple(name for name, _ in senders.most_common())))
    groups.sort(key=lambda g: (-g.count, g.code if g.code is not None else -1))
    return tuple(groups)


def _explanation(connection: Connection, account_id: int,
                 error_code: int | None) -> tuple[str, str, str]:
    """(title, meaning, fix): the catalog's words, Meta's title from one stored error."""
    from sqlalchemy import select

    table = _outbound()
    if error_code is None:
        return ("No error code", "Meta reported the failure without an error code.",
                "Open a message's timeline and read the raw webhook for Meta's explanation.")
    sample = connection.scalar(select(table.c.errors).where(
        table.c.account_id == account_id, table.c.error_code == error_code,
        table.c.errors.is_not(None)).limit(1))
    first = sample[0] if isinstance(sample, list) and sample and isinstance(
        sample[0], dict) else {}
    info = explain(error_code)
    title = str(first.get("title") or (info.meaning if info else f"Error {error_code}"))
    if info is not None:
        return title, info.meaning, info.action
    message = first.get("message") or first.get("details") or "no description"
    return (title, f"Meta says: {message}",
            "This code is not in the console's catalog: look it up on Meta's error-code page "
            "(developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).")


# --- the message list ------------------------------------------------------------------------


def count_messages(engine: Engine, flt: HealthFilter, *, now: datetime | None = None,
                   unconfirmed_after: timedelta = UNCONFIRMED_AFTER) -> int:
    from sqlalchemy import func, select

    table = _outbound()
    cutoff = _now(now) - unconfirmed_after
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count())
                                     .where(*_conditions(table, flt, cutoff))) or 0)


def message_page(engine: Engine, flt: HealthFilter, offset: int, limit: int, *,
                 now: datetime | None = None,
                 unconfirmed_after: timedelta = UNCONFIRMED_AFTER) -> list[MessageRow]:
    """Messages newest first, rows [offset, offset + limit)."""
    from sqlalchemy import select

    table = _outbound()
    cutoff = _now(now) - unconfirmed_after
    # The page's ids first: skipping rows then walks the (account_id, created_at) index only,
    # so a page deep into 200,000 rows does not read the skipped rows themselves.
    ids = (select(table.c.id).where(*_conditions(table, flt, cutoff))
           .order_by(table.c.created_at.desc(), table.c.id.desc())
           .offset(max(offset, 0)).limit(max(limit, 0)).subquery())
    query = (select(*_row_columns(table, cutoff)).join(ids, ids.c.id == table.c.id)
             .order_by(table.c.created_at.desc(), table.c.id.desc()))
    with engine.connect() as connection:
        return [_message_row(row) for row in connection.execute(query)]


def _row_columns(table: Any, cutoff: Any) -> list[Any]:
    return [table.c.id, table.c.wamid, table.c.created_at, table.c.recipient,
            table.c.phone_number_id, table.c.template_name,
            _bucket(table, cutoff).label("bucket"), table.c.status_at, table.c.error_code]


def _message_row(row: Any) -> MessageRow:
    return MessageRow(id=row.id, wamid=row.wamid, created_at=as_utc(row.created_at),
                      recipient=mask_phone(row.recipient), phone_number_id=row.phone_number_id,
                      template=row.template_name, status=row.bucket,
                      status_at=as_utc(row.status_at), error_code=row.error_code)


def message_timeline(engine: Engine, wamid: str, *, now: datetime | None = None,
                     unconfirmed_after: timedelta = UNCONFIRMED_AFTER) -> Timeline | None:
    """The message, each status callback and the raw webhook deliveries; None if unknown."""
    from sqlalchemy import select

    from wa_console.store.messages import statuses_for
    from wa_console.store.models import WebhookEvent

    table = _outbound()
    cutoff = _now(now) - unconfirmed_after
    with engine.connect() as connection:
        row = connection.execute(select(*_row_columns(table, cutoff))
                                 .where(table.c.wamid == wamid)).first()
        if row is None:
            return None
        statuses = statuses_for(engine, wamid)
        event_ids = sorted({s.event_id for s in statuses if s.event_id is not None})
        events = WebhookEvent.__table__
        found = connection.execute(
            select(events.c.id, events.c.received_at, events.c.signature_valid,
                   events.c.raw_body).where(events.c.id.in_(event_ids))
            .order_by(events.c.received_at, events.c.id)).all() if event_ids else []
    return Timeline(message=_message_row(row), statuses=tuple(statuses),
                    events=tuple(EventInfo(event_id=e.id, received_at=as_utc(e.received_at),
                                           signature_valid=bool(e.signature_valid),
                                           raw_body=e.raw_body) for e in found))


def filter_choices(engine: Engine, account_id: int) -> FilterChoices:
    """What the filters offer: the senders, templates and error codes the account's messages
    use (senders also from the sender list)."""
    from sqlalchemy import select

    table = _outbound()
    with engine.connect() as connection:
        labels = _sender_labels(connection, account_id)
        phones = {p for (p,) in connection.execute(
            select(table.c.phone_number_id).where(table.c.account_id == account_id,
                                                  table.c.phone_number_id.is_not(None))
            .distinct())}
        templates = sorted(t for (t,) in connection.execute(
            select(table.c.template_name).where(table.c.account_id == account_id,
                                                table.c.template_name.is_not(None))
            .distinct()))
        codes = sorted(c for (c,) in connection.execute(
            select(table.c.error_code).where(table.c.account_id == account_id,
                                             table.c.error_code.is_not(None)).distinct()))
    senders = sorted(((p, labels.get(p, p)) for p in phones | set(labels)),
                     key=lambda pair: (pair[1].lower(), pair[0]))
    return FilterChoices(senders=tuple(senders), templates=tuple(templates),
                         error_codes=tuple(codes))


# --- quality ----------------------------------------------------------------------------------


def quality_overview(engine: Engine, account_id: int) -> list[QualityItem]:
    """Phone numbers and synced templates with their current quality and history; flagged
    items first (RED quality, FLAGGED/RESTRICTED number, PAUSED/DISABLED template)."""
    from sqlalchemy import select

    from wa_console.store.models import MessageTemplate, PhoneNumber, QualityChange

    phones, templates = PhoneNumber.__table__, MessageTemplate.__table__
    changes_table = QualityChange.__table__
    with engine.connect() as connection:
        history: dict[tuple[str, str], list[QualityChangeInfo]] = defaultdict(list)
        for row in connection.execute(
                select(changes_table).where(changes_table.c.account_id == account_id)
                .order_by(changes_table.c.at.desc(), changes_table.c.id.desc())):
            history[(row.subject, row.subject_key)].append(QualityChangeInfo(
                field=row.field, old_value=row.old_value, new_value=row.new_value,
                at=as_utc(row.at), source=row.source))
        items = []
        for p in connection.execute(select(phones).where(phones.c.account_id == account_id)
                                    .order_by(phones.c.meta_id)):
            current = {"quality_rating": p.quality_rating,
                       "messaging_limit_tier": p.messaging_limit_tier, "status": p.status}
            reason = _phone_flag(current)
            items.append(QualityItem(
                subject="phone", key=p.meta_id, name=p.display_phone_number or p.meta_id,
                current=current, changes=tuple(history.get(("phone", p.meta_id), ())),
                flagged=reason is not None, flag_reason=reason))
        for t in connection.execute(
                select(templates.c.meta_id, templates.c.name, templates.c.language,
                       templates.c.status, templates.c.quality_score)
                .where(templates.c.account_id == account_id, templates.c.meta_id.is_not(None),
                       templates.c.removed_at.is_(None))
                .order_by(templates.c.name, templates.c.language)):
            current = {"status": t.status, "quality_score": t.quality_score}
            reason = _template_flag(current)
            changes = history.get(("template", t.meta_id)) or history.get(
                ("template", f"{t.name}/{t.language}"), [])
            items.append(QualityItem(
                subject="template", key=t.meta_id, name=f"{t.name} ({t.language})",
                current=current, changes=tuple(changes), flagged=reason is not None,
                flag_reason=reason))
    items.sort(key=lambda item: not item.flagged)  # stable: flagged first, order kept
    return items


def _phone_flag(current: dict[str, str | None]) -> str | None:
    """"<what>: <what to do>" for a flagged phone number; None when it is fine."""
    if (current.get("status") or "").upper() in _FLAGGED_PHONE_STATUS:
        return (f"status {current['status']}: Meta limits this number; reduce sends from it "
                "and check Account Quality in WhatsApp Manager.")
    if (current.get("quality_rating") or "").upper() == _RED:
        return ("quality rating RED: recipients block or report its messages; pause "
                "marketing from this number and review the templates it sends.")
    return None


def _template_flag(current: dict[str, str | None]) -> str | None:
    """"<what>: <what to do>" for a flagged template; None when it is fine."""
    status = (current.get("status") or "").upper()
    if status == "PAUSED":
        return ("PAUSED for low quality: sends fail until it resumes (3 h, then 6 h); "
                "use another template meanwhile and review its content.")
    if status == "DISABLED":
        return ("DISABLED after repeated pauses: it can no longer be sent; create a new "
                "template with improved content.")
    if (current.get("quality_score") or "").upper() == _RED:
        return ("quality score RED: Meta may pause it soon; review its content and who "
                "receives it before the next campaign.")
    return None


def quality_warnings(engine: Engine, account_id: int) -> list[str]:
    """One short line per flagged phone number or template, e.g. "template order_update
    (en_US) PAUSED for low quality" (readiness lists them; the health page has the advice)."""
    return [f"{item.subject if item.subject == 'template' else 'number'} {item.name} "
            f"{(item.flag_reason or '').split(':')[0]}"
            for item in quality_overview(engine, account_id) if item.flagged]


# --- CSV exports --------------------------------------------------------------------------------

MESSAGE_CSV_HEADER: Final = ("created_at", "wamid", "recipient", "phone_number_id", "template",
                             "status", "status_at", "error_code")
FAILURE_CSV_HEADER: Final = ("error_code", "title", "count", "meaning", "fix", "templates",
                             "senders")
_CSV_PAGE: Final = 5000


def write_messages_csv(engine: Engine, flt: HealthFilter, stream: TextIO, *,
                       now: datetime | None = None) -> int:
    """The filtered message list as CSV (newest first; recipients masked); rows written."""
    now = _now(now)  # one "now" for every page: a row cannot change figure mid-export
    writer = csv.writer(stream)
    writer.writerow(MESSAGE_CSV_HEADER)
    written = 0
    while True:
        rows = message_page(engine, flt, written, _CSV_PAGE, now=now)
        for r in rows:
            writer.writerow([r.created_at.isoformat(), r.wamid or "", r.recipient,
                             r.phone_number_id or "", r.template or "", r.status,
                             r.status_at.isoformat() if r.status_at else "",
                             "" if r.error_code is None else r.error_code])
        written += len(rows)
        if len(rows) < _CSV_PAGE:
            return written


def write_failures_csv(report: HealthReport, stream: TextIO) -> int:
    """The report's failure groups as CSV; rows written."""
    writer = csv.writer(stream)
    writer.writerow(FAILURE_CSV_HEADER)
    for g in report.failures:
        writer.writerow(["" if g.code is None else g.code, g.title, g.count, g.meaning, g.fix,
                         "; ".join(g.templates), "; ".join(g.senders)])
    return len(report.failures)
