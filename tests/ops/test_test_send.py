"""The guided test send through real servers: the sandbox emulator sends signed webhooks to the
real receiver (waitress on loopback), which writes the same SQLite database the ops read.

Also the shared set-up of the wizard and Proofs page tests (`round_trip`)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from tests.support.sandbox_account import PHONE
from wa_console.core.consent import CONSENT_METHODS
from wa_console.core.credentials import SecretEdit
from wa_console.core.readiness import SIMULATED_LABEL
from wa_console.core.sandbox_defaults import SANDBOX_SECRETS, SANDBOX_VALUES
from wa_console.ops.context import OpContext
from wa_console.ops.sync import sync_channel_account, sync_templates
from wa_console.ops.test_send import (
    MISSING_REPLY,
    MISSING_SIGNED_STATUS,
    Progress,
    SendOutcome,
    TestSendError,
    diagnose,
    prepare_send,
    record_proof,
    send_test,
    verdict,
    watch,
)
from wa_console.sandbox import SandboxServer, seeded_world
from wa_console.store.accounts import AccountStore
from wa_console.store.checks import CheckResultData, save_checks
from wa_console.store.proofs import list_proofs
from wa_console.store.recipients import NotOptedIn, add_recipient, record_opt_in
from wa_console.store.secrets import SecretStore
from wa_console.store.senders import create_sender
from wa_console.store.synced import template_list
from wa_console.store.test_sends import OUTCOME_UNKNOWN, REJECTED, send_record
from wa_console.webhook.app import account_secrets
from wa_console.webhook.server import ReceiverServer

RECIPIENT = "+15551234567"
UNREACHABLE = "+15551239999"  # the emulator fails it with 131026
ORDER_VALUES = {"header_1": "A-2002", "body_1": "Ana", "body_2": "Monday"}


@dataclass
class RoundTrip:
    """A synced sandbox account with a sender and an opted-in recipient, an emulator whose
    webhooks go to a receiver writing the account's database."""

    store: AccountStore
    account_id: int
    server: SandboxServer
    receiver: ReceiverServer
    sender_id: int
    recipient_id: int

    @property
    def engine(self) -> Any:
        return self.store.engine

    def template(self, name: str, language: str = "en_US") -> int:
        return next(t.id for t in template_list(self.engine, self.account_id)
                    if t.name == name and t.language == language and t.meta_id)

    def recipient(self, phone: str, opted_in: bool = True) -> int:
        added = add_recipient(self.engine, self.account_id, phone, "tester")
        if opted_in:
            record_opt_in(self.engine, added.id, recorded_by="QA lead",
                          method=CONSENT_METHODS[0])
        return added.id

    def message_posts(self) -> list[Any]:
        return [r for r in self.server.requests
                if r.method == "POST" and r.path.endswith("/messages")]


@contextmanager
def round_trip(store: AccountStore) -> Iterator[RoundTrip]:
    """The whole loop on loopback: emulator -> signed webhooks -> receiver -> database."""
    account_id = store.list_accounts()[0].id
    with SandboxServer(seeded_world(templates=20, seed=0), "127.0.0.1", 0) as server:
        sync_channel_account(OpContext(), store, account_id, server.base_url)
        sync_templates(OpContext(), store, account_id, server.base_url)
        receiver = ReceiverServer(store.engine, account_secrets(store), port=0).start()
        try:
            server.world.callback_url = receiver.url
            sender = create_sender(store.engine, account_id, PHONE)
            trip = RoundTrip(store, account_id, server, receiver, sender.id, 0)
            trip.recipient_id = trip.recipient(RECIPIENT)
            yield trip
        finally:
            server.world.callback_url = None
            receiver.stop()


def sandbox_store(url: str, open_db: Callable[[str], Any]) -> AccountStore:
    store = AccountStore(open_db(url), SecretStore())
    store.create({**SANDBOX_VALUES, "account_name": "Sandbox (simulated)"},
                 {k: SecretEdit("set", v) for k, v in SANDBOX_SECRETS.items()})
    return store


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll `check` until it returns something truthy (the webhooks arrive asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        time.sleep(0.02)


@pytest.fixture
def trip(sqlite_url: str, open_db) -> Iterator[RoundTrip]:
    with round_trip(sandbox_store(sqlite_url, open_db)) as running:
        yield running


def _send(trip: RoundTrip, client_ref: str = "ref-1", recipient_id: int | None = None,
          template: str = "order_update", values: dict[str, str] | None = None) -> SendOutcome:
    return send_test(OpContext(), trip.store, trip.account_id, sender_id=trip.sender_id,
                     template_row_id=trip.template(template),
                     recipient_id=recipient_id or trip.recipient_id,
                     values=ORDER_VALUES if values is None else values, client_ref=client_ref,
                     base_url=trip.server.base_url)


def test_sandbox_round_trip_is_proven_but_simulated(trip: RoundTrip) -> None:
    """wamid, signed status callbacks and the mapped reply: proven, labelled simulated, and the
    POST body is byte for byte the payload the review showed."""
    plan = prepare_send(trip.store, trip.account_id, sender_id=trip.sender_id,
                        template_row_id=trip.template("order_update"),
                        recipient_id=trip.recipient_id, values=ORDER_VALUES)
    outcome = _send(trip)
    assert outcome.state == "accepted" and outcome.wamid and outcome.wamid.startswith("wamid.")
    posts = trip.message_posts()
    assert len(posts) == 1
    assert posts[0].body == json.dumps(plan.payload).encode()
    assert plan.payload["template"]["components"][1]["parameters"][0]["text"] == "Ana"

    progress = wait_for(lambda: (p := watch(trip.engine, "ref-1")).reached is not None
                        and p.reached.status == "read" and p)
    assert progress.wamid == outcome.wamid
    assert all(s.signature_valid for s in progress.statuses)
    assert [s.status for s in progress.statuses] == ["sent", "delivered", "read"]
    assert verdict(progress, simulated=True).missing == (MISSING_REPLY,)

    trip.server.world.simulate_reply(outcome.wamid, "Got it")
    progress = wait_for(lambda: (p := watch(trip.engine, "ref-1")).reply is not None and p)
    assert progress.reply.text == "Got it" and progress.reply.context_wamid == outcome.wamid
    result = verdict(progress, simulated=True)
    assert result.proven and result.kind == "proven" and SIMULATED_LABEL in result.label

    proof = record_proof(trip.engine, plan, progress, result)
    assert [p.id for p in list_proofs(trip.engine, trip.account_id)] == [proof.id]
    assert proof.simulated and not proof.counts_as_production_proof
    record = proof.record
    assert record["recipient"] == "+1555•••4567" and "15551234567" not in json.dumps(record)
    assert record["wamid"] == outcome.wamid and record["reply"]["text"] == "Got it"
    assert record["template"] == {"name": "order_update", "language": "en_US"}
    assert [s["signature_valid"] for s in record["statuses"]] == [True, True, True]
    assert SIMULATED_LABEL in record["mode"]
    assert not any(secret in json.dumps(record) for secret in SANDBOX_SECRETS.values())


def test_the_same_client_ref_sends_once(trip: RoundTrip) -> None:
    """Two concurrent calls and a later one with one client_ref: one POST, one row, one wamid."""
    outcomes: list[SendOutcome] = []
    barrier = threading.Barrier(2)

    def send() -> None:
        barrier.wait()
        outcomes.append(_send(trip, "double"))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    later = _send(trip, "double")
    assert len(trip.message_posts()) == 1
    assert later.state == "accepted" and later.wamid == send_record(trip.engine,
                                                                    "double").wamid


def test_lost_response_is_outcome_unknown_and_resolved_by_the_status_callback(
        trip: RoundTrip) -> None:
    """The emulator sends the message, then drops the answer: "outcome unknown", never resent;
    the status callback to the recipient gives the send its wamid."""
    trip.server.faults.inject(method="POST", path=r"/messages$", kind="drop_after_processing")
    outcome = _send(trip, "lost")
    assert outcome.state == "outcome_unknown" and outcome.wamid is None
    assert send_record(trip.engine, "lost").status == OUTCOME_UNKNOWN
    sent = list(trip.server.world.sent)
    assert len(sent) == 1 and len(trip.message_posts()) == 1

    progress = wait_for(lambda: (p := watch(trip.engine, "lost")).wamid is not None and p)
    assert progress.wamid == sent[0]
    wait_for(lambda: watch(trip.engine, "lost").signed_statuses)
    assert send_record(trip.engine, "lost").status in ("sent", "delivered", "read")
    assert len(trip.message_posts()) == 1  # resolved by watching, not by resending


def test_not_opted_in_recipient_is_refused_before_anything_is_stored(trip: RoundTrip) -> None:
    """No opt-in record: NotOptedIn names the fix; no row, no request."""
    stranger = trip.recipient("+15551234568", opted_in=False)
    with pytest.raises(NotOptedIn, match="no recorded opt-in"):
        _send(trip, "stranger", recipient_id=stranger)
    assert send_record(trip.engine, "stranger") is None
    assert trip.message_posts() == []


def test_only_approved_templates_can_be_sent(trip: RoundTrip) -> None:
    """A PAUSED template is refused before sending, with the way out."""
    with pytest.raises(TestSendError, match="PAUSED; only APPROVED"):
        _send(trip, "paused", template="spring_sale", values={})
    assert trip.message_posts() == []


def test_blank_parameter_values_are_refused(trip: RoundTrip) -> None:
    """Lint of the entered values: a blank value stops the send."""
    with pytest.raises(TestSendError, match="no sample value"):
        _send(trip, "blank", values={**ORDER_VALUES, "body_2": " "})


def test_a_refused_send_is_rejected_with_the_meaning(trip: RoundTrip) -> None:
    """Meta refuses (131030 not in the allow-list): "rejected", the row keeps the error."""
    trip.server.faults.inject(method="POST", path=r"/messages$", kind="graph_error",
                              code=131030, status=400)
    outcome = _send(trip, "refused")
    assert outcome.state == "rejected" and "131030" in (outcome.error or "")
    record = send_record(trip.engine, "refused")
    assert record.status == REJECTED and record.errors[0]["code"] == 131030
    assert len(trip.message_posts()) == 1  # not retried
    result = verdict(watch(trip.engine, "refused"), simulated=True)
    assert result.kind == "failed" and "131030" in result.label


def test_failed_status_shows_the_meaning_and_fix(trip: RoundTrip) -> None:
    """The emulator fails +15551239999 with 131026: verdict and diagnosis explain it."""
    unreachable = trip.recipient(UNREACHABLE)
    outcome = _send(trip, "fail", recipient_id=unreachable)
    assert outcome.state == "accepted"
    progress = wait_for(lambda: (p := watch(trip.engine, "fail")).failed is not None and p)
    result = verdict(progress, simulated=True)
    assert result.kind == "failed" and not result.proven
    assert "131026" in result.label and "undeliverable" in result.label.lower()
    text = diagnose(trip.engine, trip.store, trip.account_id, progress, 120)
    assert "131026" in text and "What to do:" in text


def _meta_side(trip: RoundTrip, **evidence: Any) -> None:
    save_checks(trip.engine, trip.account_id, [CheckResultData(
        key="webhook.meta_side", outcome="failed", detail="checked", evidence=evidence)],
        simulated=True)


def test_status_timeout_diagnosis_names_the_callback_and_the_fix(trip: RoundTrip) -> None:
    """No webhooks reach us: the diagnosis quotes the stored Meta-side evidence, or says the
    webhooks were never checked."""
    trip.server.world.callback_url = None  # Meta delivers nowhere
    _send(trip, "silent")
    progress = watch(trip.engine, "silent")
    assert progress.statuses == () and MISSING_SIGNED_STATUS in verdict(progress, True).missing
    never = diagnose(trip.engine, trip.store, trip.account_id, progress, 120)
    assert never == ("No status callback within 120 s: webhooks were never checked: run Check "
                     "Meta side on the Webhooks page.")
    _meta_side(trip, effective_callback="https://hooks.example.com/wa", effective_source="app",
               app_subscribed_to_waba=False, messages_field=True)
    text = diagnose(trip.engine, trip.store, trip.account_id, progress, 120)
    assert text.startswith("No status callback within 120 s: the effective callback for "
                           "message events is https://hooks.example.com/wa (app); the app is "
                           "not subscribed to the WABA: subscribe it on Verify & sync")


def test_missing_reply_diagnosis(trip: RoundTrip) -> None:
    """Delivered but no reply: say when, from which phone, and how replies are mapped."""
    _send(trip, "quiet")
    progress = wait_for(lambda: (p := watch(trip.engine, "quiet")).reached is not None
                        and p.reached.status == "read" and p)
    text = diagnose(trip.engine, trip.store, trip.account_id, progress, 300)
    assert text.startswith("Read at ")
    assert "but no reply from +15551234567 within 300 s: reply from that phone" in text
    assert "replies are mapped by context or within 24 h" in text
    assert verdict(progress, simulated=False).label == ("Incomplete: missing the reply from the "
                                                        "test phone")


def test_progress_elapsed_counts_from_the_send(trip: RoundTrip) -> None:
    """`elapsed_s` is measured from the stored send time (the wizard's timeouts use it)."""
    _send(trip, "clock")
    record = send_record(trip.engine, "clock")
    later = watch(trip.engine, "clock", now=lambda: record.created_at + timedelta(seconds=42))
    assert isinstance(later, Progress) and later.elapsed_s == pytest.approx(42)
