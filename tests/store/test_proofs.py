"""Test sends and proof records in storage: the send row before the request leaves, its wamid
(merged with a row the receiver made first), the proof list, production proof and export. Real
SQLite, and PostgreSQL where a server can be started."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.meta.webhook_samples import body_of, change, entry, envelope, messages_value, status
from wa_console.core.credentials import SecretEdit
from wa_console.core.sandbox_defaults import SANDBOX_SECRETS, SANDBOX_VALUES
from wa_console.store.accounts import AccountStore
from wa_console.store.messages import ingest
from wa_console.store.models import OutboundMessage
from wa_console.store.proofs import (
    export_proof_json,
    latest_live_proof,
    list_proofs,
    mask_phone,
    save_proof,
)
from wa_console.store.secrets import SecretStore
from wa_console.store.test_sends import (
    ACCEPTED,
    OUTCOME_UNKNOWN,
    REJECTED,
    SENDING,
    WamidTaken,
    attach_wamid,
    begin_send,
    claim_send,
    mark_outcome_unknown,
    mark_rejected,
    send_record,
)

PAYLOAD = {"messaging_product": "whatsapp", "recipient_type": "individual",
           "to": "15551234567", "type": "template",
           "template": {"name": "hello_world", "language": {"code": "en_US",
                                                            "policy": "deterministic"}}}


@pytest.fixture
def store(db_url: str, open_db) -> AccountStore:
    store = AccountStore(open_db(db_url), SecretStore())
    store.create({**SANDBOX_VALUES, "account_name": "Proof test"},
                 {k: SecretEdit("set", v) for k, v in SANDBOX_SECRETS.items()})
    return store


@pytest.fixture
def account_id(store: AccountStore) -> int:
    return store.list_accounts()[0].id


def _begin(store: AccountStore, account_id: int, client_ref: str = "ref-1") -> int:
    return begin_send(store.engine, account_id=account_id, client_ref=client_ref,
                      phone_number_id="200000000000002", recipient_digits="15551234567",
                      template_name="hello_world", language="en_US", payload=PAYLOAD,
                      simulated=True)


def _status_body(wamid: str, state: str, at: datetime) -> bytes:
    return body_of(envelope(entry(change("messages", messages_value(
        statuses=[status(wamid, state, timestamp=str(int(at.timestamp())))])))))


def test_begin_send_records_sending_before_the_request_and_is_idempotent(store, account_id):
    """The row exists with status "sending" and the exact payload; the same client_ref again
    returns the same row and creates nothing."""
    first = _begin(store, account_id)
    again = _begin(store, account_id)
    assert first == again
    record = send_record(store.engine, "ref-1")
    assert record is not None and record.id == first
    assert record.status == SENDING and record.wamid is None and record.simulated
    assert record.payload == PAYLOAD and record.recipient == "15551234567"
    _, created = claim_send(store.engine, account_id=account_id, client_ref="ref-1",
                            phone_number_id="x", recipient_digits="1", template_name="t",
                            language="en", payload={}, simulated=True)
    assert created is False


def test_concurrent_claims_of_one_client_ref_let_exactly_one_send(store, account_id):
    """Eight threads claim the same client_ref at once (a double click racing): one wins."""
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        results.append(claim_send(
            store.engine, account_id=account_id, client_ref="race", phone_number_id="p",
            recipient_digits="15551234567", template_name="t", language="en", payload={},
            simulated=True)[1])

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]


def test_attach_wamid_merges_the_row_the_receiver_made_first(store, account_id):
    """A status callback stored before the send's answer made a receiver row for the wamid;
    attaching drops it, ours gets the wamid and the callback's status."""
    _begin(store, account_id)
    now = datetime.now(UTC)
    ingest(store.engine, _status_body("wamid.EARLY", "sent", now), signature_valid=True,
           source="receiver")
    ingest(store.engine, _status_body("wamid.EARLY", "delivered", now + timedelta(seconds=1)),
           signature_valid=True, source="receiver")
    record = attach_wamid(store.engine, "ref-1", "wamid.EARLY")
    assert record.wamid == "wamid.EARLY" and record.status == "delivered"
    assert record.client_ref == "ref-1"

    with Session(store.engine) as session:
        assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 1
    # A later callback moves our row (the receiver finds it by wamid now).
    ingest(store.engine, _status_body("wamid.EARLY", "read", now + timedelta(seconds=2)),
           signature_valid=True, source="receiver")
    assert send_record(store.engine, "ref-1").status == "read"


def test_attach_without_callbacks_is_accepted_and_other_sends_wamids_are_refused(
        store, account_id):
    """No callback yet: "accepted". A wamid owned by another test send is never taken."""
    _begin(store, account_id, "ref-a")
    _begin(store, account_id, "ref-b")
    assert attach_wamid(store.engine, "ref-a", "wamid.A").status == ACCEPTED
    assert attach_wamid(store.engine, "ref-a", "wamid.A").wamid == "wamid.A"  # repeatable
    with pytest.raises(WamidTaken):
        attach_wamid(store.engine, "ref-b", "wamid.A")
    assert send_record(store.engine, "ref-b").wamid is None


def test_outcome_unknown_and_rejected(store, account_id):
    """A lost answer marks "outcome_unknown" only while still "sending"; a refusal keeps its
    errors."""
    _begin(store, account_id, "lost")
    assert mark_outcome_unknown(store.engine, "lost").status == OUTCOME_UNKNOWN
    attach_wamid(store.engine, "lost", "wamid.LATE")
    assert mark_outcome_unknown(store.engine, "lost").status == ACCEPTED  # resolved stays
    _begin(store, account_id, "refused")
    errors = [{"code": 131030, "message": "Recipient phone number not in allowed list"}]
    record = mark_rejected(store.engine, "refused", errors)
    assert record.status == REJECTED and record.errors == errors
    assert send_record(store.engine, "missing") is None


def test_mask_phone_keeps_country_prefix_and_last_four() -> None:
    """Recognisable, not dialable."""
    assert mask_phone("+15551234567") == "+1555•••4567"
    assert mask_phone("15551234567") == "+1555•••4567"
    assert mask_phone("+4477009") == "+44•••"
    assert mask_phone("") == ""


def test_proofs_are_listed_newest_first_and_only_live_proven_counts(store, account_id):
    """A simulated proven proof is never production proof; a live proven one is."""
    engine = store.engine
    record = {"recipient": mask_phone("+15551234567"), "template": {"name": "hello_world",
                                                                     "language": "en_US"}}
    assert latest_live_proof(engine, account_id) is None
    sandbox = save_proof(engine, account_id, record, "proven", "sandbox round trip",
                         "wamid.S", simulated=True)
    assert latest_live_proof(engine, account_id) is None
    incomplete = save_proof(engine, account_id, record, "incomplete", "no reply", "wamid.I",
                            simulated=False)
    assert latest_live_proof(engine, account_id) is None
    live = save_proof(engine, account_id, record, "proven", "live round trip", "wamid.L",
                      simulated=False)
    found = latest_live_proof(engine, account_id)
    assert found is not None and found.id == live.id and found.counts_as_production_proof
    listed = list_proofs(engine, account_id)
    assert [p.id for p in listed] == [live.id, incomplete.id, sandbox.id]
    assert listed[-1].record == record and listed[-1].simulated
    with pytest.raises(ValueError, match="unknown verdict"):
        save_proof(engine, account_id, record, "maybe", "", None, simulated=False)


def test_export_is_json_with_the_record_and_no_secret(store, account_id):
    """The export is valid JSON carrying the verdict, the mode and the record; no secret of
    the account appears in it."""
    proof = save_proof(store.engine, account_id,
                       {"recipient": "+1555•••4567", "statuses": [{"status": "sent"}]},
                       "proven", "ok", "wamid.X", simulated=True)
    text = export_proof_json(proof)
    document = json.loads(text)
    assert document["verdict"] == "proven" and document["simulated"] is True
    assert document["counts_as_production_proof"] is False
    assert document["record"]["recipient"] == "+1555•••4567"
    for secret in SANDBOX_SECRETS.values():
        assert secret not in text


def test_attach_racing_the_receiver_ends_with_one_row_per_wamid(store, account_id):
    """The send's answer and its first status callback land at the same moment, twenty times:
    every wamid ends on our row (client_ref kept) with the callback's status, never twice."""
    now = datetime.now(UTC)
    for i in range(20):
        _begin(store, account_id, f"race-{i}")
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def run(action, barrier=barrier, errors=errors) -> None:  # type: ignore[no-untyped-def]
            barrier.wait()
            try:
                action()
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)

        wamid = f"wamid.RACE{i}"
        threads = [
            threading.Thread(target=run, args=(lambda w=wamid: ingest(
                store.engine, _status_body(w, "sent", now), signature_valid=True,
                source="receiver"),)),
            threading.Thread(target=run, args=(lambda i=i, w=wamid: attach_wamid(
                store.engine, f"race-{i}", w),))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        record = send_record(store.engine, f"race-{i}")
        assert record.wamid == wamid and record.status == "sent"
    with Session(store.engine) as session:
        assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 20
