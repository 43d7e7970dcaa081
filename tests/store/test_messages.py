"""Webhook ingest and message reads on real databases (SQLite always, PostgreSQL too where a
server can be started)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.meta.webhook_samples import (
    DOC_TEMPLATE_REJECTED,
    body_of,
    change,
    contact,
    entry,
    envelope,
    message,
    messages_value,
    status,
)
from wa_console.core.consent import OPT_OUT_KEYWORDS_KEY
from wa_console.core.sandbox_defaults import SANDBOX_VALUES
from wa_console.meta.webhooks import WebhookFormatError
from wa_console.store import messages
from wa_console.store.models import (
    ConsentEvent,
    InboundMessage,
    MessageStatus,
    OutboundMessage,
    Sender,
    WebhookEvent,
)
from wa_console.store.models import (
    TestRecipient as RecipientRow,
)
from wa_console.store.preferences import set_preference

PHONE_ID = str(SANDBOX_VALUES["phone_number_id"])
WABA = str(SANDBOX_VALUES["waba_id"])
USER = "15551234567"
NOW = int(datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp())




def status_body(wamid: str, state: str, ts: int = NOW, *, phone_id: str = PHONE_ID,
                waba: str = WABA, recipient: str = USER, **extra: Any) -> bytes:
    return body_of(envelope(entry(change("messages", messages_value(
        statuses=[status(wamid, state, timestamp=str(ts), recipient=recipient, **extra)],
        phone_id=phone_id)), waba_id=waba)))


def inbound_body(wamid: str, text: str, ts: int = NOW, *, sender: str = USER,
                 context_id: str | None = None, phone_id: str = PHONE_ID) -> bytes:
    extra = {"context": {"from": "15550100001", "id": context_id}} if context_id else {}
    return body_of(envelope(entry(change("messages", messages_value(
        contacts=[contact(sender)], phone_id=phone_id,
        messages=[message(wamid, "text", {"body": text}, sender=sender,
                          timestamp=str(ts), **extra)])))))


def count(engine, model) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def outbound(engine, wamid: str) -> OutboundMessage:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        row = session.scalar(sa.select(OutboundMessage).where(OutboundMessage.wamid == wamid))
        assert row is not None
        session.expunge(row)
        return row


def add_test_send(engine, wamid: str, created_at: datetime,  # type: ignore[no-untyped-def]
                  recipient: str = USER, client_ref: str | None = "ref") -> None:
    with Session(engine) as session, session.begin():
        session.add(OutboundMessage(wamid=wamid, client_ref=client_ref, recipient=recipient,
                                    status="sent", created_at=created_at, simulated=True))


def add_recipient(engine, account_id: int, phone: str = "+" + USER,  # type: ignore[no-untyped-def]
                  opted_in: bool = True) -> int:
    with Session(engine) as session, session.begin():
        row = RecipientRow(account_id=account_id, phone=phone, opted_in=opted_in)
        session.add(row)
        session.flush()
        return row.id


def test_status_creates_outbound_and_maps_account(engine, account_id: int) -> None:
    """A status for an unknown wamid creates the platform send, on the phone's account."""
    result = messages.ingest(engine, status_body("wamid.A", "sent"), signature_valid=True)
    assert (result.duplicate, result.account_id, result.statuses, result.inbound) == (
        False, account_id, 1, 0)
    row = outbound(engine, "wamid.A")
    assert (row.status, row.account_id, row.recipient, row.simulated) == (
        "sent", account_id, USER, True)
    assert messages.event_count(engine) == 1
    assert messages.event_count(engine, account_id) == 1
    assert messages.raw_event(engine, result.event_id) == status_body("wamid.A", "sent").decode()


def test_same_body_twice_is_one_event_and_one_status(engine, account_id: int) -> None:
    """A Meta retry (same bytes) is a no-op reporting the first event."""
    body = status_body("wamid.A", "delivered")
    first = messages.ingest(engine, body, signature_valid=True)
    again = messages.ingest(engine, body, signature_valid=True)
    assert again.duplicate and again.event_id == first.event_id
    assert again.account_id == account_id and again.statuses == 0
    assert count(engine, WebhookEvent) == 1
    assert count(engine, MessageStatus) == 1


def test_same_status_in_other_bytes_is_stored_once(engine, account_id: int) -> None:
    """The same status re-batched (different bytes) is a second event but not a second status."""
    messages.ingest(engine, status_body("wamid.A", "sent"), signature_valid=True)
    rebatched = body_of(envelope(entry(change("messages", messages_value(
        statuses=[status("wamid.A", "sent", timestamp=str(NOW)),
                  status("wamid.B", "sent", timestamp=str(NOW))])))))
    result = messages.ingest(engine, rebatched, signature_valid=True)
    assert not result.duplicate and result.statuses == 2
    assert count(engine, WebhookEvent) == 2
    assert [s.status for s in messages.statuses_for(engine, "wamid.A")] == ["sent"]


def test_out_of_order_statuses_end_at_the_highest(engine, account_id: int) -> None:
    """read, then delivered, then sent: the message stays read; every callback is kept."""
    for state, ts in (("read", NOW + 2), ("delivered", NOW + 1), ("sent", NOW)):
        messages.ingest(engine, status_body("wamid.A", state, ts), signature_valid=True)
    row = outbound(engine, "wamid.A")
    assert row.status == "read"
    history = messages.statuses_for(engine, "wamid.A")
    assert [s.status for s in history] == ["sent", "delivered", "read"]
    assert history[0].timestamp == datetime.fromtimestamp(NOW, UTC)
    with Session(engine) as session:
        assert messages.latest_status(session, "wamid.A")[:2] == (
            "read", datetime.fromtimestamp(NOW + 2, UTC))


def test_failed_is_final_and_keeps_its_errors(engine, account_id: int) -> None:
    """sent, failed (with errors), then a late delivered: still failed, errors kept."""
    errors = [{"code": 131026, "title": "Message undeliverable",
               "error_data": {"details": "Message Undeliverable."}}]
    messages.ingest(engine, status_body("wamid.F", "sent", NOW), signature_valid=True)
    messages.ingest(engine, status_body("wamid.F", "failed", NOW + 1, errors=errors),
                    signature_valid=True)
    messages.ingest(engine, status_body("wamid.F", "delivered", NOW + 2), signature_valid=True)
    row = outbound(engine, "wamid.F")
    assert row.status == "failed"
    assert row.errors and row.errors[0]["code"] == 131026
    assert row.errors[0]["details"] == "Message Undeliverable."
    with Session(engine) as session:
        state, _, errs = messages.latest_status(session, "wamid.F")
    assert state == "failed" and errs and errs[0]["code"] == 131026


def test_status_advances_a_test_send_row(engine, account_id: int) -> None:
    """A status for a console test send moves that row forward (no second row)."""
    add_test_send(engine, "wamid.T", datetime.now(UTC))
    messages.ingest(engine, status_body("wamid.T", "delivered"), signature_valid=True)
    assert count(engine, OutboundMessage) == 1
    assert outbound(engine, "wamid.T").status == "delivered"


def test_advances_rules() -> None:
    """The rank rule on its own."""
    assert messages.advances(None, "sent") and messages.advances("sending", "sent")
    assert messages.advances("sent", "read") and messages.advances("read", "failed")
    assert not messages.advances("delivered", "sent")
    assert not messages.advances("failed", "read")
    assert not messages.advances("read", "played")


def test_unknown_account_is_stored_unmapped(engine) -> None:  # type: ignore[no-untyped-def]
    """No account has these IDs: the event is kept, not simulated, account None."""
    result = messages.ingest(engine, status_body("wamid.U", "sent", phone_id="999",
                                                 waba="888"), signature_valid=True)
    assert result.account_id is None and not result.duplicate
    with Session(engine) as session:
        event = session.get(WebhookEvent, result.event_id)
        assert event is not None and event.account_id is None and event.simulated is False
    assert outbound(engine, "wamid.U").account_id is None


def test_account_by_sender_then_by_waba(engine, account_id: int) -> None:
    """Another phone of the account is found through its sender, else through the WABA."""
    with Session(engine) as session, session.begin():
        session.add(Sender(account_id=account_id, label="second", phone_meta_id="777"))
    by_sender = messages.ingest(engine, status_body("wamid.S", "sent", phone_id="777",
                                                    waba="1"), signature_valid=True)
    by_waba = messages.ingest(engine, status_body("wamid.W", "sent", phone_id="666"),
                              signature_valid=True)
    assert by_sender.account_id == account_id and by_waba.account_id == account_id


def test_other_event_kinds_are_kept_in_webhook_event_only(engine, account_id: int) -> None:
    """A template status update is stored raw + summarised, and touches no message table."""
    result = messages.ingest(engine, DOC_TEMPLATE_REJECTED, signature_valid=True,
                             source="import")
    assert result.account_id == account_id and (result.statuses, result.inbound) == (0, 0)
    with Session(engine) as session:
        event = session.get(WebhookEvent, result.event_id)
        assert event is not None and event.source == "import"
        assert event.parsed == [{
            "kind": "template_status", "event": "REJECTED", "template_id": "300000000000003",
            "name": "order_update", "language": "en_US", "category": "UTILITY",
            "reason": "INVALID_FORMAT", "rejection_info": None, "waba_id": WABA,
            "time": 1730000100}]
    assert count(engine, OutboundMessage) == 0


def test_not_a_webhook_stores_nothing(engine) -> None:  # type: ignore[no-untyped-def]
    """A body that is not a webhook envelope raises and leaves no row."""
    with pytest.raises(WebhookFormatError):
        messages.ingest(engine, b'{"hello": "world"}', signature_valid=True)
    assert count(engine, WebhookEvent) == 0


def test_reply_maps_by_context_id(engine, account_id: int) -> None:
    """context.id names the outbound message the reply answers."""
    messages.ingest(engine, inbound_body("wamid.IN1", "Got it", context_id="wamid.OUT"),
                    signature_valid=True)
    [reply] = messages.replies_to(engine, "wamid.OUT")
    assert (reply.wamid, reply.from_number, reply.text, reply.context_wamid) == (
        "wamid.IN1", USER, "Got it", "wamid.OUT")
    assert reply.signature_valid and reply.timestamp == datetime.fromtimestamp(NOW, UTC)


def test_reply_maps_by_recipient_within_window(engine, account_id: int) -> None:
    """No context: the newest test send to that number in the last 24 h; platform sends and
    older test sends are not candidates."""
    sent_at = datetime.fromtimestamp(NOW, UTC)
    add_test_send(engine, "wamid.OLD", sent_at - timedelta(hours=2), client_ref="r1")
    add_test_send(engine, "wamid.NEW", sent_at - timedelta(hours=1), client_ref="r2")
    add_test_send(engine, "wamid.PLATFORM", sent_at - timedelta(minutes=5), client_ref=None)
    add_test_send(engine, "wamid.OTHER", sent_at - timedelta(minutes=5), recipient="1999",
                  client_ref="r3")
    messages.ingest(engine, inbound_body("wamid.IN1", "hi"), signature_valid=True)
    assert [r.wamid for r in messages.replies_to(engine, "wamid.NEW")] == ["wamid.IN1"]
    assert messages.replies_to(engine, "wamid.OLD") == []
    assert messages.replies_to(engine, "wamid.PLATFORM") == []


def test_reply_outside_window_is_not_mapped(engine, account_id: int) -> None:
    """A message 25 h after the only test send answers nothing."""
    add_test_send(engine, "wamid.OUT", datetime.fromtimestamp(NOW, UTC) - timedelta(hours=25))
    messages.ingest(engine, inbound_body("wamid.IN1", "hi"), signature_valid=True)
    assert messages.replies_to(engine, "wamid.OUT") == []
    with Session(engine) as session:
        row = session.scalar(sa.select(InboundMessage))
        assert row is not None and row.reply_to_wamid is None


@pytest.mark.parametrize("text", ["STOP", " stop! ", "Unsubscribe"])
def test_stop_opts_the_recipient_out(engine, account_id: int, text: str) -> None:
    """An opt-out keyword from an opted-in recipient opts them out, with the record kept."""
    recipient_id = add_recipient(engine, account_id)
    result = messages.ingest(engine, inbound_body("wamid.STOP", text), signature_valid=True)
    assert result.opted_out == ("+" + USER,)
    with Session(engine) as session:
        recipient = session.get(RecipientRow, recipient_id)
        assert recipient is not None and recipient.opted_in is False
        assert recipient.consent_changed_at is not None
        [event] = session.scalars(sa.select(ConsentEvent)).all()
        assert (event.kind, event.recorded_by, event.method, event.recipient_id) == (
            "opt_out", "inbound message", "reply keyword", recipient_id)
        assert event.detail == f"replied {text!r} (message wamid.STOP)"
    # Meta retrying the same message (other bytes, same wamid) does not record it twice.
    messages.ingest(engine, inbound_body("wamid.STOP", text, NOW + 1), signature_valid=True)
    assert count(engine, ConsentEvent) == 1


def test_stop_respects_configured_keywords(engine, account_id: int) -> None:
    """With keywords set to ALTO, ALTO opts out and STOP does not."""
    recipient_id = add_recipient(engine, account_id)
    set_preference(engine, account_id, OPT_OUT_KEYWORDS_KEY, ["ALTO"])
    assert messages.ingest(engine, inbound_body("wamid.1", "STOP"),
                           signature_valid=True).opted_out == ()
    assert messages.ingest(engine, inbound_body("wamid.2", "alto"),
                           signature_valid=True).opted_out == ("+" + USER,)
    with Session(engine) as session:
        recipient = session.get(RecipientRow, recipient_id)
        assert recipient is not None and recipient.opted_in is False


@pytest.mark.parametrize("text,sender", [("please don't stop the reminders", USER),
                                         ("STOP", "15550009999")])
def test_no_opt_out_for_other_text_or_unknown_number(engine, account_id: int, text: str,
                                                     sender: str) -> None:
    """Text that is not a keyword, or a number that is no test recipient, changes nothing."""
    recipient_id = add_recipient(engine, account_id)
    result = messages.ingest(engine, inbound_body("wamid.X", text, sender=sender),
                             signature_valid=True)
    assert result.opted_out == () and result.inbound == 1
    with Session(engine) as session:
        recipient = session.get(RecipientRow, recipient_id)
        assert recipient is not None and recipient.opted_in is True
    assert count(engine, ConsentEvent) == 0


def test_statuses_to_recipient_since(engine, account_id: int) -> None:
    """Callbacks to a number from a moment on (how a lost send response is resolved)."""
    since = datetime.fromtimestamp(NOW, UTC) + timedelta(microseconds=400_000)
    messages.ingest(engine, status_body("wamid.OLD", "sent", NOW - 60), signature_valid=True)
    messages.ingest(engine, status_body("wamid.NEW", "sent", NOW), signature_valid=True)
    messages.ingest(engine, status_body("wamid.ELSE", "sent", NOW, recipient="1999"),
                    signature_valid=True)
    found = messages.statuses_to_recipient_since(engine, USER, since)
    assert [(s.wamid, s.status, s.recipient) for s in found] == [("wamid.NEW", "sent", USER)]


def test_concurrent_deliveries_lose_nothing(engine, account_id: int) -> None:
    """8 threads deliver statuses of the same wamids at once: every callback is stored and
    every message ends at its highest status."""
    wamids = [f"wamid.C{i}" for i in range(6)]
    bodies = [status_body(w, state, NOW + offset)
              for w in wamids
              for offset, state in enumerate(("sent", "delivered", "read"))]
    bodies += bodies[:4]  # retries racing the originals
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def deliver(share: list[bytes]) -> None:
        try:
            barrier.wait(5)
            for body in share:
                messages.ingest(engine, body, signature_valid=True)
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(bodies[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert count(engine, WebhookEvent) == 18 and count(engine, MessageStatus) == 18
    assert {outbound(engine, w).status for w in wamids} == {"read"}


def test_account_deleted_mid_delivery_is_retried_unmapped(engine, account_id: int) -> None:
    """The account disappears between the delivery's reads and its writes (a foreign-key
    violation): the delivery runs again and is stored without an account, nothing lost."""
    from sqlalchemy import event as sa_event

    from wa_console.store.models import ChannelAccount

    fired: list[bool] = []

    def delete_account_once(_conn, _cursor, statement: str, *_args: Any) -> None:
        if not fired and statement.lstrip().upper().startswith("INSERT INTO WEBHOOK_EVENT"):
            fired.append(True)
            with Session(engine) as other, other.begin():
                other.execute(sa.delete(ChannelAccount).where(ChannelAccount.id == account_id))

    sa_event.listen(engine, "before_cursor_execute", delete_account_once)
    try:
        result = messages.ingest(engine, status_body("wamid.R", "sent"), signature_valid=True)
    finally:
        sa_event.remove(engine, "before_cursor_execute", delete_account_once)
    assert fired == [True]
    assert result.account_id is None and not result.duplicate
    assert outbound(engine, "wamid.R").account_id is None
    assert count(engine, WebhookEvent) == 1
