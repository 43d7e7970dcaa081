"""The test send wizard, driven like an admin with pytest-qt, through real servers: the sandbox
emulator sends signed webhooks to the real receiver, which writes the SQLite database the
wizard polls on the real thread pools."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import QWizard

from tests.ops.test_test_send import RECIPIENT, UNREACHABLE, RoundTrip, round_trip, sandbox_store
from tests.support.gui import ScriptedPrompts
from wa_console.core.readiness import SIMULATED_LABEL
from wa_console.gui.app import create_application
from wa_console.gui.pages import PageContext
from wa_console.gui.wizard import TestSendWizard
from wa_console.store.proofs import list_proofs
from wa_console.store.recipients import record_opt_out
from wa_console.store.senders import delete_sender
from wa_console.store.test_sends import send_record

WAIT = 15000  # ms; generous for slow machines, never reached when things work


@pytest.fixture
def trip(sqlite_url: str, open_db) -> Iterator[RoundTrip]:
    with round_trip(sandbox_store(sqlite_url, open_db)) as running:
        yield running


def page_context(trip: RoundTrip, sandbox: bool = True) -> PageContext:
    storage, remote = QThreadPool(), QThreadPool()
    storage.setMaxThreadCount(1)
    return PageContext(store=trip.store, account_id=trip.account_id,
                       account_name="Sandbox (simulated)", sandbox=sandbox,
                       storage_pool=storage, remote_pool=remote, base_url=trip.server.base_url)


def drain(ctx: PageContext) -> None:
    ctx.storage_pool.waitForDone(10000)
    ctx.remote_pool.waitForDone(10000)


@pytest.fixture
def ctx(trip: RoundTrip) -> Iterator[PageContext]:
    context = page_context(trip)
    yield context
    drain(context)


def make_wizard(qtbot, ctx: PageContext, trip: RoundTrip,  # type: ignore[no-untyped-def]
                parent: Any = None) -> TestSendWizard:
    create_application()
    wizard = TestSendWizard(ctx, ScriptedPrompts(None), parent,
                            simulator=lambda wamid: trip.server.world.simulate_reply(wamid,
                                                                                     "Got it"))
    wizard.poll_ms = 50
    return wizard


@pytest.fixture
def open_wizard(qtbot, ctx: PageContext, trip: RoundTrip) -> Callable[..., TestSendWizard]:
    def _open(context: PageContext = ctx) -> TestSendWizard:
        wizard = make_wizard(qtbot, context, trip)
        qtbot.addWidget(wizard)
        wizard.show()
        return wizard

    return _open


def click_next(qtbot, wizard: TestSendWizard) -> None:  # type: ignore[no-untyped-def]
    commit = wizard.currentPage().isCommitPage()  # review and timeline: no way back
    button = wizard.button(QWizard.WizardButton.CommitButton if commit
                           else QWizard.WizardButton.NextButton)
    qtbot.waitUntil(button.isEnabled, timeout=WAIT)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def pick(qtbot, items, text: str) -> None:  # type: ignore[no-untyped-def]
    """Select the list entry starting with `text` once the list is loaded."""
    qtbot.waitUntil(lambda: any(items.item(i).text().startswith(text)
                                for i in range(items.count())), timeout=WAIT)
    row = next(i for i in range(items.count()) if items.item(i).text().startswith(text))
    items.setCurrentRow(row)


def drive_to_review(qtbot, wizard: TestSendWizard,  # type: ignore[no-untyped-def]
                    recipient: str = RECIPIENT, template: str = "order_update — en_US") -> None:
    """Sender -> template (searched) -> recipient -> values, ending on the review page."""
    qtbot.waitUntil(lambda: wizard.sender_page.chosen() is not None, timeout=WAIT)
    click_next(qtbot, wizard)
    qtbot.keyClicks(wizard.template_page.search, template.split(" ")[0])
    pick(qtbot, wizard.template_page.items, template)
    click_next(qtbot, wizard)
    pick(qtbot, wizard.recipient_page.items, recipient)
    click_next(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.values_page.isComplete(), timeout=WAIT)
    click_next(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.review_page.plan is not None, timeout=WAIT)


def send(qtbot, wizard: TestSendWizard) -> None:  # type: ignore[no-untyped-def]
    button = wizard.review_page.send_button
    qtbot.waitUntil(button.isEnabled, timeout=WAIT)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.timeline_page, timeout=WAIT)


def timeline_lines(wizard: TestSendWizard) -> list[str]:
    items = wizard.timeline_page.timeline
    return [items.item(i).text() for i in range(items.count())]


def test_the_whole_wizard_in_sandbox_ends_in_a_simulated_proof(
        qtbot, open_wizard, trip: RoundTrip, tmp_path) -> None:
    """Sender, approved template, opted-in recipient, values, exact payload, one send, signed
    statuses, the simulated reply, verdict "simulated – not proof", proof saved and exported."""
    wizard = open_wizard()
    qtbot.waitUntil(lambda: wizard.sender_page.items.count() == 1, timeout=WAIT)
    assert "+15550100001" in wizard.sender_page.items.item(0).text()
    click_next(qtbot, wizard)

    templates = wizard.template_page.items
    qtbot.waitUntil(lambda: templates.count() > 0, timeout=WAIT)
    listed = [templates.item(i).text() for i in range(templates.count())]
    assert "order_update — pt_BR" in listed and "order_update — en_US" in listed
    assert not any(t.startswith(("spring_sale", "draft_notice", "rejected_offer"))
                   for t in listed)  # PAUSED, PENDING, REJECTED are not offered
    qtbot.keyClicks(wizard.template_page.search, "order_up")
    visible = [templates.item(i).text() for i in range(templates.count())
               if not templates.item(i).isHidden()]
    assert visible == ["order_update — en_US", "order_update — pt_BR"]
    pick(qtbot, templates, "order_update — en_US")
    click_next(qtbot, wizard)

    pick(qtbot, wizard.recipient_page.items, RECIPIENT)
    click_next(qtbot, wizard)

    values = wizard.values_page
    qtbot.waitUntil(lambda: set(values.fields) == {"header_1", "body_1", "body_2"},
                    timeout=WAIT)
    assert values.fields["body_1"].text() == "Ana"  # the template's example
    assert values.fields["body_1"].isVisible()
    values.fields["body_2"].clear()
    assert values.inline["body_2"].text() == "Enter a value."
    assert "no sample value" in values.errors.text()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    qtbot.keyClicks(values.fields["body_2"], "Monday")
    assert values.errors.text() == "" and values.isComplete()
    click_next(qtbot, wizard)

    review = wizard.review_page
    qtbot.waitUntil(lambda: review.plan is not None, timeout=WAIT)
    shown = json.loads(review.payload_view.toPlainText())
    assert shown["to"] == "15551234567" and shown["template"]["name"] == "order_update"
    assert shown["template"]["components"][1]["parameters"][1]["text"] == "Monday"
    assert not review.confirm.isVisibleTo(wizard) and review.simulated.isVisibleTo(wizard)
    send(qtbot, wizard)

    posts = trip.message_posts()
    assert len(posts) == 1 and json.loads(posts[0].body) == shown  # what was shown was sent
    page = wizard.timeline_page
    qtbot.waitUntil(lambda: "wamid." in page.wamid_label.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: len(timeline_lines(wizard)) == 3, timeout=WAIT)
    assert [line.split(" ")[0] for line in timeline_lines(wizard)] == ["sent", "delivered",
                                                                       "read"]
    assert all("(signature valid)" in line for line in timeline_lines(wizard))
    assert "Reply from the phone now" in page.instruction.text()
    assert RECIPIENT in page.instruction.text()
    qtbot.waitUntil(page.simulate_button.isEnabled, timeout=WAIT)
    qtbot.mouseClick(page.simulate_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.verdict_page, timeout=WAIT)
    verdict_page = wizard.verdict_page
    qtbot.waitUntil(verdict_page.export_button.isEnabled, timeout=WAIT)
    assert SIMULATED_LABEL in verdict_page.verdict_label.text()
    assert not wizard.button(QWizard.WizardButton.BackButton).isEnabled()  # sent is sent
    assert verdict_page.simulated.isVisibleTo(wizard)
    proofs = list_proofs(trip.engine, trip.account_id)
    assert len(proofs) == 1 and proofs[0].verdict == "proven" and proofs[0].simulated
    assert proofs[0].record["reply"]["text"] == "Got it"
    assert proofs[0].wamid == wizard.outcome.wamid

    target = tmp_path / "proof.json"
    wizard.prompts.path = str(target)
    qtbot.mouseClick(verdict_page.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ("info", f"The proof record was written to {target}.")
                    in wizard.prompts.asked, timeout=WAIT)
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert exported["verdict"] == "proven" and exported["counts_as_production_proof"] is False
    assert len(trip.message_posts()) == 1


def test_double_click_on_send_sends_once(qtbot, open_wizard, trip: RoundTrip) -> None:
    """A double click (and a stray third click) on Send: one POST to /messages."""
    wizard = open_wizard()
    drive_to_review(qtbot, wizard)
    button = wizard.review_page.send_button
    qtbot.waitUntil(button.isEnabled, timeout=WAIT)
    qtbot.mouseDClick(button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    wizard.review_page._send()  # even a programmatic repeat does nothing
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.timeline_page, timeout=WAIT)
    qtbot.waitUntil(lambda: len(timeline_lines(wizard)) == 3, timeout=WAIT)
    assert len(trip.message_posts()) == 1
    assert len(trip.server.world.sent) == 1


def test_lost_response_shows_outcome_unknown_then_the_resolved_wamid(
        qtbot, open_wizard, trip: RoundTrip) -> None:
    """The answer is dropped after the emulator sent the message: "outcome unknown", not
    resent; the status callback resolves it and the timeline carries on."""
    trip.server.faults.inject(method="POST", path=r"/messages$", kind="drop_after_processing")
    wizard = open_wizard()
    drive_to_review(qtbot, wizard)
    send(qtbot, wizard)
    assert wizard.outcome.state == "outcome_unknown"
    page = wizard.timeline_page
    qtbot.waitUntil(lambda: "Resolved from a status callback" in page.wamid_label.text(),
                    timeout=WAIT)
    assert next(iter(trip.server.world.sent)) in page.wamid_label.text()
    qtbot.waitUntil(lambda: len(timeline_lines(wizard)) == 3, timeout=WAIT)
    assert len(trip.message_posts()) == 1


def test_failed_status_shows_the_meaning_and_fix(qtbot, open_wizard, trip: RoundTrip) -> None:
    """131026 from the emulator: the timeline and the diagnosis explain it; verdict failed."""
    trip.recipient(UNREACHABLE)
    wizard = open_wizard()
    drive_to_review(qtbot, wizard, recipient=UNREACHABLE)
    send(qtbot, wizard)
    page = wizard.timeline_page
    qtbot.waitUntil(lambda: page.isComplete(), timeout=WAIT)
    assert "131026" in page.diagnosis.text() and "What to do:" in page.diagnosis.text()
    assert timeline_lines(wizard)[0].startswith("failed at ")
    assert "undeliverable" in timeline_lines(wizard)[0].lower()
    click_next(qtbot, wizard)
    qtbot.waitUntil(wizard.verdict_page.export_button.isEnabled, timeout=WAIT)
    assert wizard.verdict_page.verdict_label.text().startswith("Failed: ")
    assert list_proofs(trip.engine, trip.account_id)[0].verdict == "failed"


def test_status_timeout_ends_in_the_diagnosis(qtbot, open_wizard, trip: RoundTrip) -> None:
    """No webhook arrives within the (shortened) status timeout: the page says why and what to
    do, and the proof is saved as incomplete."""
    trip.server.world.callback_url = None
    wizard = open_wizard()
    wizard.status_timeout_s = 0.3
    drive_to_review(qtbot, wizard)
    send(qtbot, wizard)
    page = wizard.timeline_page
    qtbot.waitUntil(lambda: page.diagnosis.text() != "", timeout=WAIT)
    assert page.diagnosis.text() == ("No status callback within 0.3 s: webhooks were never "
                                     "checked: run Check Meta side on the Webhooks page.")
    click_next(qtbot, wizard)
    qtbot.waitUntil(wizard.verdict_page.export_button.isEnabled, timeout=WAIT)
    proof = list_proofs(trip.engine, trip.account_id)[0]
    assert proof.verdict == "incomplete"
    assert proof.record["missing"] == ["a status callback with a valid signature",
                                       "the reply from the test phone"]


def test_reply_timeout_ends_in_the_diagnosis(qtbot, open_wizard, trip: RoundTrip) -> None:
    """Statuses arrive but nobody replies within the (shortened) reply timeout."""
    wizard = open_wizard()
    wizard.reply_timeout_s = 0.3
    drive_to_review(qtbot, wizard)
    send(qtbot, wizard)
    page = wizard.timeline_page
    qtbot.waitUntil(lambda: page.diagnosis.text() != "", timeout=WAIT)
    assert f"but no reply from {RECIPIENT} within 0.3 s" in page.diagnosis.text()


def test_cancel_after_sending_keeps_a_consistent_record(
        qtbot, open_wizard, trip: RoundTrip, ctx: PageContext) -> None:
    """Cancel while waiting: polling stops, the message record stays, an incomplete proof
    says it was cancelled."""
    wizard = open_wizard()
    drive_to_review(qtbot, wizard)
    send(qtbot, wizard)
    client_ref = wizard.client_ref
    wizard.reject()
    drain(ctx)
    assert not wizard.timeline_page.timer.isActive()
    proofs = list_proofs(trip.engine, trip.account_id)
    assert len(proofs) == 1 and proofs[0].verdict == "incomplete"
    assert proofs[0].record["note"] == "cancelled by the admin"
    assert send_record(trip.engine, client_ref).wamid == proofs[0].wamid is not None


def test_live_account_needs_the_confirmation_naming_the_recipient(
        qtbot, open_wizard, trip: RoundTrip) -> None:
    """For a live account, Send stays disabled until the admin ticks the confirmation."""
    live = page_context(trip, sandbox=False)
    try:
        wizard = open_wizard(live)
        drive_to_review(qtbot, wizard)
        review = wizard.review_page
        assert review.confirm.isVisibleTo(wizard)
        assert review.confirm.text() == ("I understand a real WhatsApp message will be sent "
                                         f"to {RECIPIENT}")
        assert not review.send_button.isEnabled()
        review.confirm.setChecked(True)
        assert review.send_button.isEnabled()
        review.confirm.setChecked(False)
        assert not review.send_button.isEnabled()
        assert trip.message_posts() == []
    finally:
        drain(live)


def test_no_valid_sender_or_recipient_explains_where_to_fix_it(
        qtbot, open_wizard, trip: RoundTrip) -> None:
    """Without a sender the first page points to the Senders page; without an opted-in
    recipient the recipient page explains the opt-in."""
    delete_sender(trip.engine, trip.sender_id)
    record_opt_out(trip.engine, trip.recipient_id, recorded_by="QA lead")
    wizard = open_wizard()
    page = wizard.sender_page
    qtbot.waitUntil(lambda: page.loaded, timeout=WAIT)
    assert page.items.count() == 0 and "Senders page" in page.message.text()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()

    recipients = wizard.recipient_page
    recipients.initializePage()
    qtbot.waitUntil(lambda: recipients.loaded, timeout=WAIT)
    assert recipients.items.count() == 0
    assert "no opted-in test recipient" in recipients.message.text()


def test_a_refused_send_can_be_sent_again_under_a_new_client_ref(
        qtbot, open_wizard, trip: RoundTrip) -> None:
    """Meta refuses (131030): the meaning is shown, nothing moved on; Send again works once
    more with a fresh client_ref (the refused one stays recorded as rejected)."""
    trip.server.faults.inject(method="POST", path=r"/messages$", kind="graph_error",
                              code=131030, status=400)
    wizard = open_wizard()
    drive_to_review(qtbot, wizard)
    review, first_ref = wizard.review_page, wizard.client_ref
    qtbot.waitUntil(review.send_button.isEnabled, timeout=WAIT)
    qtbot.mouseClick(review.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "131030" in review.send_error.text(), timeout=WAIT)
    assert wizard.currentPage() is review and wizard.client_ref != first_ref
    assert send_record(trip.engine, first_ref).status == "rejected"
    send(qtbot, wizard)
    assert wizard.outcome.state == "accepted"
    assert len(trip.message_posts()) == 2
