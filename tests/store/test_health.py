"""Delivery health reads on hand-made histories (SQLite always, PostgreSQL where available):
figures by latest status, day series, failures by code, list, timeline, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.meta.webhook_samples import body_of, change, entry, envelope, messages_value, status
from wa_console.core.health import Figures
from wa_console.core.sandbox_defaults import SANDBOX_VALUES
from wa_console.store import messages
from wa_console.store.health import (
    HealthFilter,
    count_messages,
    filter_choices,
    health_report,
    message_page,
    message_timeline,
    write_failures_csv,
    write_messages_csv,
)
from wa_console.store.models import OutboundMessage, Sender

PHONE = str(SANDBOX_VALUES["phone_number_id"])
OTHER_PHONE = "300000000000003"
WABA = str(SANDBOX_VALUES["waba_id"])
NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
DAY1 = datetime(2026, 3, 1, tzinfo=UTC)




def send(engine: Any, account_id: int, wamid: str, at: datetime, template: str = "order_update",
         phone: str = PHONE, recipient: str = "15551234567") -> None:
    """The row a send creates before any webhook."""
    with engine.begin() as connection:
        connection.execute(OutboundMessage.__table__.insert(), [{
            "account_id": account_id, "wamid": wamid, "phone_number_id": phone,
            "recipient": recipient, "template_name": template, "template_language": "en_US",
            "status": "accepted", "status_at": at, "created_at": at, "simulated": True}])


def deliver(engine: Any, wamid: str, state: str, at: datetime, *, phone: str = PHONE,
            code: int | None = None, signature_valid: bool = True, **extra: Any) -> None:
    """One status webhook through the receiver's ingest."""
    if code is not None:
        extra["errors"] = [{"code": code, "title": f"Title {code}", "message": "m",
                            "error_data": {"details": "d"}}]
    body = body_of(envelope(entry(change("messages", messages_value(
        statuses=[status(wamid, state, timestamp=str(int(at.timestamp())), **extra)],
        phone_id=phone)), waba_id=WABA)))
    messages.ingest(engine, body, signature_valid=signature_valid, received_at=at)


def period(account_id: int, **narrow: Any) -> HealthFilter:
    return HealthFilter(account_id, DAY1, DAY1 + timedelta(days=10), **narrow)


@pytest.fixture
def history(engine, account_id: int) -> None:  # type: ignore[no-untyped-def]
    """Day 1: read (out of order, duplicated), delivered, failed after sent (131026).
    Day 2: failed 131047 on another template/sender, failed 131026 on the other sender,
    one only "sent" (old: unconfirmed), one with no status at all (unconfirmed).
    Day 10 (1 h before NOW): one "sent" (in flight)."""
    t = DAY1 + timedelta(hours=9)
    send(engine, account_id, "w.read", t)
    deliver(engine, "w.read", "read", t + timedelta(minutes=5))
    deliver(engine, "w.read", "sent", t + timedelta(seconds=2))  # late "sent" changes nothing
    deliver(engine, "w.read", "delivered", t + timedelta(seconds=3))
    deliver(engine, "w.read", "delivered", t + timedelta(seconds=3))  # duplicate
    send(engine, account_id, "w.deliv", t + timedelta(hours=1))
    deliver(engine, "w.deliv", "sent", t + timedelta(hours=1, seconds=1))
    deliver(engine, "w.deliv", "delivered", t + timedelta(hours=1, seconds=9))
    send(engine, account_id, "w.fail1", t + timedelta(hours=2))
    deliver(engine, "w.fail1", "sent", t + timedelta(hours=2, seconds=1))
    deliver(engine, "w.fail1", "failed", t + timedelta(hours=2, seconds=5), code=131026)
    deliver(engine, "w.fail1", "delivered", t + timedelta(hours=2, seconds=9))  # failed is final
    t2 = DAY1 + timedelta(days=1, hours=23, minutes=59)
    send(engine, account_id, "w.fail2", t2, template="promo", phone=OTHER_PHONE)
    deliver(engine, "w.fail2", "failed", t2 + timedelta(seconds=5), phone=OTHER_PHONE,
            code=131047)
    send(engine, account_id, "w.fail3", t2, template="promo", phone=OTHER_PHONE)
    deliver(engine, "w.fail3", "failed", t2 + timedelta(seconds=6), phone=OTHER_PHONE,
            code=131026)
    send(engine, account_id, "w.sentonly", t2 - timedelta(hours=1))
    deliver(engine, "w.sentonly", "sent", t2 - timedelta(hours=1) + timedelta(seconds=1))
    send(engine, account_id, "w.silent", t2 - timedelta(hours=2), recipient="4915112345678")
    send(engine, account_id, "w.young", NOW - timedelta(hours=1))
    deliver(engine, "w.young", "sent", NOW - timedelta(hours=1) + timedelta(seconds=1))
    with engine.begin() as connection:  # the other number is a sender with a label
        connection.execute(Sender.__table__.insert(), [{
            "account_id": account_id, "label": "Support line", "phone_meta_id": OTHER_PHONE,
            "display_phone_number": "+1 555-000-3333", "sender_value": "display_number",
            "created_at": DAY1}])


@pytest.mark.usefixtures("history")
def test_figures_count_each_message_once_by_latest_status(engine, account_id: int) -> None:
    """Out-of-order and duplicate statuses, failed after sent, old and young "sent"."""
    report = health_report(engine, period(account_id), now=NOW)
    assert report.figures == Figures(sent=1, delivered=1, read=1, failed=3, unconfirmed=2)
    assert report.failure_rate == pytest.approx(3 / 8)


@pytest.mark.usefixtures("history")
def test_day_series_has_every_day_with_zeros(engine, account_id: int) -> None:
    """UTC calendar days of created_at; a message at 23:59 stays on its day."""
    days = health_report(engine, period(account_id), now=NOW).days
    assert [d.day.day for d in days] == list(range(1, 11))
    assert (days[0].read, days[0].delivered, days[0].failed) == (1, 1, 1)
    assert (days[1].failed, days[1].unconfirmed, days[1].total) == (2, 2, 4)
    assert all(d.total == 0 for d in days[2:9])
    assert (days[9].sent, days[9].total) == (1, 1)


@pytest.mark.usefixtures("history")
def test_failures_grouped_by_code_with_meaning_and_fix(engine, account_id: int) -> None:
    """Most frequent code first; catalog meaning and fix; templates and sender labels hit."""
    failures = health_report(engine, period(account_id), now=NOW).failures
    assert [(g.code, g.count) for g in failures] == [(131026, 2), (131047, 1)]
    undeliverable = failures[0]
    assert undeliverable.title == "Title 131026"  # Meta's own title
    assert undeliverable.meaning.startswith("Message undeliverable")
    assert undeliverable.fix
    assert set(undeliverable.templates) == {"order_update", "promo"}
    assert set(undeliverable.senders) == {PHONE, "Support line"}  # label, else the ID
    assert "24 hours" in failures[1].meaning
    assert failures[1].templates == ("promo",) and failures[1].senders == ("Support line",)


@pytest.mark.usefixtures("history")
def test_unknown_error_code_shows_metas_message(engine, account_id: int) -> None:
    """A code outside the catalog is not guessed at: Meta's message, and where to look."""
    at = DAY1 + timedelta(days=3)
    send(engine, account_id, "w.odd", at)
    deliver(engine, "w.odd", "failed", at + timedelta(seconds=1), code=987654)
    group = next(g for g in health_report(engine, period(account_id), now=NOW).failures
                 if g.code == 987654)
    assert group.meaning == "Meta says: m"
    assert "error-code page" in group.fix


def test_ingest_writes_the_first_error_code(engine, account_id: int) -> None:
    """The receiver stores the failed status' first error code for grouping in SQL."""
    send(engine, account_id, "w.x", DAY1)
    deliver(engine, "w.x", "failed", DAY1 + timedelta(seconds=1), code=132000)
    [row] = message_page(engine, period(account_id), 0, 10, now=NOW)
    assert (row.status, row.error_code) == ("failed", 132000)


@pytest.mark.usefixtures("history")
def test_period_boundaries(engine, account_id: int) -> None:
    """`since` is included and `until` excluded."""
    t = DAY1 + timedelta(hours=9)  # w.read's creation
    just = HealthFilter(account_id, t, t + timedelta(hours=1))
    assert health_report(engine, just, now=NOW).figures == Figures(read=1)
    assert count_messages(engine, HealthFilter(account_id, t + timedelta(microseconds=1),
                                               t + timedelta(hours=1))) == 0
    one_day = HealthFilter(account_id, DAY1, DAY1 + timedelta(days=1))
    report = health_report(engine, one_day, now=NOW)
    assert report.figures.total == 3 and len(report.days) == 1


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize(("narrow", "expected"), [
    ({"phone_number_id": OTHER_PHONE}, Figures(failed=2)),
    ({"template_name": "order_update"},
     Figures(sent=1, delivered=1, read=1, failed=1, unconfirmed=2)),
    ({"error_code": 131026}, Figures(failed=2)),
    ({"status": "unconfirmed"}, Figures(unconfirmed=2)),
    ({"status": "failed", "template_name": "promo"}, Figures(failed=2)),
])
def test_filters_narrow_figures_list_and_count(engine, account_id: int, narrow: dict[str, Any],
                                               expected: Figures) -> None:
    """Every filter narrows the figures, the count and the list alike."""
    flt = period(account_id, **narrow)
    assert health_report(engine, flt, now=NOW).figures == expected
    assert count_messages(engine, flt, now=NOW) == expected.total
    rows = message_page(engine, flt, 0, 100, now=NOW)
    assert len(rows) == expected.total
    assert sorted(r.status for r in rows) == sorted(
        name for name in ("sent", "delivered", "read", "failed", "unconfirmed")
        for _ in range(getattr(expected, name)))


def test_unknown_status_filter_is_refused(engine, account_id: int) -> None:
    """A status filter must name a figure."""
    with pytest.raises(ValueError, match="status must be one of"):
        count_messages(engine, period(account_id, status="bounced"))


@pytest.mark.usefixtures("history")
def test_message_page_newest_first_masked_and_paged(engine, account_id: int) -> None:
    """Newest first; pages join up; recipients masked."""
    flt = period(account_id)
    everything = message_page(engine, flt, 0, 100, now=NOW)
    # Same creation time: the later row first.
    assert [r.wamid for r in everything][:3] == ["w.young", "w.fail3", "w.fail2"]
    assert [r.created_at for r in everything] == sorted((r.created_at for r in everything),
                                                        reverse=True)
    pages = [r.wamid for start in range(0, 8, 3) for r in message_page(engine, flt, start, 3,
                                                                      now=NOW)]
    assert pages == [r.wamid for r in everything]
    silent = next(r for r in everything if r.wamid == "w.silent")
    assert silent.recipient == "+4915•••5678" and silent.status == "unconfirmed"
    assert message_page(engine, flt, 100, 10, now=NOW) == []


@pytest.mark.usefixtures("history")
def test_timeline_lists_each_status_and_raw_event(engine, account_id: int) -> None:
    """Every stored callback (duplicates once) with the raw body and signature flag."""
    deliver(engine, "w.deliv", "read", DAY1 + timedelta(days=1), signature_valid=False)
    timeline = message_timeline(engine, "w.deliv", now=NOW)
    assert timeline is not None
    assert timeline.message.status == "read"
    assert [s.status for s in timeline.statuses] == ["sent", "delivered", "read"]
    assert len(timeline.events) == 3
    assert [e.signature_valid for e in timeline.events] == [True, True, False]
    assert all('"w.deliv"' in e.raw_body for e in timeline.events)
    assert message_timeline(engine, "w.nope") is None


@pytest.mark.usefixtures("history")
def test_messages_csv_masks_recipients(engine, account_id: int) -> None:
    """Header, one row per filtered message, never a full phone number."""
    out = io.StringIO()
    assert write_messages_csv(engine, period(account_id, template_name="promo"), out,
                              now=NOW) == 2
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0][:3] == ["created_at", "wamid", "recipient"]
    assert {r[1] for r in rows[1:]} == {"w.fail2", "w.fail3"}
    assert {r[2] for r in rows[1:]} == {"+1555•••4567"}
    assert {r[7] for r in rows[1:]} == {"131026", "131047"}
    assert "15551234567" not in out.getvalue()


@pytest.mark.usefixtures("history")
def test_failures_csv(engine, account_id: int) -> None:
    """One row per error code with meaning, fix, templates and senders."""
    out = io.StringIO()
    assert write_failures_csv(health_report(engine, period(account_id), now=NOW), out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["error_code"], r["count"]) for r in rows] == [("131026", "2"), ("131047", "1")]
    assert rows[1]["templates"] == "promo" and rows[1]["senders"] == "Support line"
    assert rows[0]["fix"]


@pytest.mark.usefixtures("history")
def test_filter_choices(engine, account_id: int) -> None:
    """Senders (labelled), templates and error codes the account's messages use."""
    choices = filter_choices(engine, account_id)
    assert choices.senders == ((PHONE, PHONE), (OTHER_PHONE, "Support line"))
    assert choices.templates == ("order_update", "promo")
    assert choices.error_codes == (131026, 131047)
