"""The Senders page on real widgets, a real SQLite database, the real pools and the emulator's
seeded numbers (synced for real): adding senders, refusals with their reason, recipients and
their consent, opt-out keywords."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt

from tests.support.gui import ScriptedPrompts
from tests.support.sandbox_account import PHONE
from wa_console.gui.app import create_application
from wa_console.gui.pages import PageContext
from wa_console.gui.pages.senders import NO_SYNC_TEXT, SendersPage
from wa_console.gui.prompts import ConsentAnswer, ConsentDialog
from wa_console.ops.context import OpContext
from wa_console.ops.sync import sync_channel_account
from wa_console.store.recipients import list_recipients, opt_out_keywords
from wa_console.store.senders import list_senders

KIOSK = "200000000000014"


@pytest.fixture
def open_page(qtbot, ctx: PageContext) -> Callable[[], SendersPage]:
    create_application()

    def _open() -> SendersPage:
        page = SendersPage()
        page.prompts = ScriptedPrompts(page)
        qtbot.addWidget(page)
        page.show()
        with qtbot.waitSignal(page.refreshed, timeout=10000):
            page.set_context(ctx)
        return page

    return _open


@pytest.fixture
def synced(ctx: PageContext, server) -> PageContext:  # type: ignore[no-untyped-def]
    sync_channel_account(OpContext(), ctx.store, ctx.account_id, base_url=server.base_url)
    return ctx


def click_and_reload(qtbot, page: SendersPage, button) -> None:  # type: ignore[no-untyped-def]
    """Click a change button; wait for the save (data_changed) and the reload after it."""
    with qtbot.waitSignals([page.data_changed, page.refreshed], timeout=10000, order="strict"):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def cell(table, row: int, column: int) -> str:  # type: ignore[no-untyped-def]
    return table.item(row, column).text()


def test_before_a_sync_the_page_offers_the_sync(qtbot, open_page) -> None:
    """No synced numbers: the hint and a button that asks the window to sync."""
    page = open_page()
    assert page.message.text() == NO_SYNC_TEXT and page.sync_button.isVisible()
    assert page.phone_combo.count() == 0 and not page.add_sender_button.isEnabled()
    with qtbot.waitSignal(page.action_requested, timeout=2000) as asked:
        qtbot.mouseClick(page.sync_button, Qt.MouseButton.LeftButton)
    assert asked.args == ["sync_account"]


def test_add_change_and_remove_a_sender_from_synced_numbers(qtbot, open_page, synced) -> None:
    """The WABA's four numbers are offered (unsendable kiosk disabled with its reason); adding
    the main number by phone number ID shows a valid sender; change value; remove."""
    page = open_page()
    assert not page.sync_button.isVisible()
    texts = [page.phone_combo.itemText(i) for i in range(page.phone_combo.count())]
    assert len(texts) == 4 and all(" — ID 2000000000000" in t for t in texts)
    model = page.phone_combo.model()
    kiosk = page.phone_combo.findData(KIOSK)
    assert not model.item(kiosk).isEnabled()
    assert "cannot send: +1 555-010-0004 is not registered" in texts[kiosk]
    assert page.phone_combo.currentData() == PHONE  # the first number that can send

    page.value_combo.setCurrentIndex(page.value_combo.findData("phone_number_id"))
    qtbot.keyClicks(page.label_edit, "Main")
    click_and_reload(qtbot, page, page.add_sender_button)
    table = page.senders_table
    assert table.rowCount() == 1
    assert [cell(table, 0, c) for c in range(8)] == [
        "Main", "+1 555-010-0001", PHONE, f"{PHONE} (phone number id)",
        "Sandbox Store (simulated)", "GREEN", "1K", "Valid"]
    main = page.phone_combo.findData(PHONE)
    assert "already the sender 'Main'" in page.phone_combo.itemText(main)
    assert not model.item(main).isEnabled()

    table.selectRow(0)
    click_and_reload(qtbot, page, page.change_value_button)
    assert cell(table, 0, 3) == "+15550100001 (display number)"
    assert [s.sender_value for s in list_senders(synced.store.engine, synced.account_id)] == [
        "display_number"]

    table.selectRow(0)
    click_and_reload(qtbot, page, page.remove_sender_button)
    assert page.prompts.asked == [("remove", "Main")]
    assert table.rowCount() == 0 and list_senders(synced.store.engine, synced.account_id) == []


def test_an_invalid_number_is_refused_with_its_reason(qtbot, open_page, synced) -> None:
    """Even if chosen (e.g. the list was stale), the store refuses it and the page says why."""
    page = open_page()
    page.phone_combo.setCurrentIndex(page.phone_combo.findData(KIOSK))
    with qtbot.waitSignal(page.action_failed, timeout=10000) as failed:
        qtbot.mouseClick(page.add_sender_button, Qt.MouseButton.LeftButton)
    assert "not registered with the Cloud API (status PENDING)" in failed.args[0]
    assert page.sender_error.isVisible() and page.sender_error.text() == failed.args[0]
    assert list_senders(synced.store.engine, synced.account_id) == []


def test_warnings_show_in_the_status(qtbot, open_page, synced) -> None:
    """The FLAGGED, RED, TIER_250 outlet is a sender with three warnings, listed in the tip."""
    page = open_page()
    page.phone_combo.setCurrentIndex(page.phone_combo.findData("200000000000013"))
    click_and_reload(qtbot, page, page.add_sender_button)
    status = page.senders_table.item(0, 7)
    assert status.text() == "Valid (3 warnings)" and "FLAGGED" in status.toolTip()


def test_recipient_bad_then_good_number_opt_in_and_out(qtbot, open_page, ctx) -> None:
    """A bad number is refused inline; a good one is added, opted in (who/how), opted out;
    the history lists both."""
    page = open_page()
    qtbot.keyClicks(page.recipient_phone, "555 010 0199")
    with qtbot.waitSignal(page.action_failed, timeout=10000):
        qtbot.mouseClick(page.add_recipient_button, Qt.MouseButton.LeftButton)
    assert page.recipient_error.isVisible()
    assert "start with + and the country code" in page.recipient_error.text()
    assert page.recipients_table.rowCount() == 0

    page.recipient_phone.clear()
    qtbot.keyClicks(page.recipient_phone, "+1 555 123 4567")
    qtbot.keyClicks(page.recipient_label, "Ana's phone")
    click_and_reload(qtbot, page, page.add_recipient_button)
    table = page.recipients_table
    assert not page.recipient_error.isVisible() and page.recipient_phone.text() == ""
    assert [cell(table, 0, c) for c in range(3)] == [
        "+15551234567", "Ana's phone", "No opt-in recorded"]
    # The new recipient is selected, ready for the opt-in that must come next.
    assert page.selected_recipient().phone == "+15551234567" and page.opt_in_button.isEnabled()

    page.prompts.consent_answer = ConsentAnswer("Ana (comms)", "written consent", "form 12")
    click_and_reload(qtbot, page, page.opt_in_button)
    assert ("opt_in", "+15551234567") in page.prompts.asked
    assert [cell(table, 0, c) for c in (2, 4, 5, 6)] == [
        "Opted in", "Ana (comms)", "written consent", ""]

    table.selectRow(0)
    page.prompts.consent_answer = ConsentAnswer("Ben", "admin", "left the team")
    click_and_reload(qtbot, page, page.opt_out_button)
    assert [cell(table, 0, c) for c in (2, 4, 6)] == ["Opted out", "Ben", "left the team"]
    [stored] = list_recipients(ctx.store.engine, ctx.account_id)
    assert not stored.opted_in and [e.kind for e in stored.history] == ["opt_in", "opt_out"]

    table.selectRow(0)
    qtbot.mouseClick(page.history_button, Qt.MouseButton.LeftButton)
    kind, text = page.prompts.asked[-1]
    assert kind == "history" and "opted in" in text and "opted out" in text
    assert not page.opt_out_button.isEnabled()  # already opted out


def test_cancelled_consent_dialog_changes_nothing(qtbot, open_page, ctx) -> None:
    page = open_page()
    qtbot.keyClicks(page.recipient_phone, "+15551234567")
    click_and_reload(qtbot, page, page.add_recipient_button)
    page.recipients_table.selectRow(0)
    page.prompts.consent_answer = None
    with qtbot.assertNotEmitted(page.data_changed, wait=100):
        qtbot.mouseClick(page.opt_in_button, Qt.MouseButton.LeftButton)
    assert list_recipients(ctx.store.engine, ctx.account_id)[0].history == ()


def test_opt_out_keywords_are_saved_and_never_empty(qtbot, open_page, ctx) -> None:
    page = open_page()
    assert page.keywords_edit.text() == "STOP, UNSUBSCRIBE"
    page.keywords_edit.setText("STOP, alto, ")
    click_and_reload(qtbot, page, page.save_keywords_button)
    assert opt_out_keywords(ctx.store.engine, ctx.account_id) == ("STOP", "alto")
    assert page.keywords_edit.text() == "STOP, alto"
    page.keywords_edit.setText(" , ")
    with qtbot.waitSignal(page.action_failed, timeout=10000):
        qtbot.mouseClick(page.save_keywords_button, Qt.MouseButton.LeftButton)
    assert "at least one opt-out keyword" in page.keywords_error.text()
    assert opt_out_keywords(ctx.store.engine, ctx.account_id) == ("STOP", "alto")


def test_consent_dialog_needs_who_and_how(qtbot) -> None:
    """OK stays disabled until "recorded by" and a method are given; methods are editable."""
    create_application()
    dialog = ConsentDialog("opt_in", "+15551234567")
    qtbot.addWidget(dialog)
    assert not dialog.ok_button.isEnabled()
    assert dialog.method.currentText() == "written consent"
    qtbot.keyClicks(dialog.recorded_by, "Ana")
    assert dialog.ok_button.isEnabled()
    dialog.method.setEditText("signed at onboarding")
    qtbot.keyClicks(dialog.detail, "HR file")
    assert dialog.answer() == ConsentAnswer("Ana", "signed at onboarding", "HR file")
    dialog.method.setEditText("")
    assert not dialog.ok_button.isEnabled()


def test_a_later_sync_shows_the_sender_s_problem(qtbot, open_page, synced, server) -> None:
    """The main number disconnected at Meta and re-synced: the sender's status names it."""
    page = open_page()
    click_and_reload(qtbot, page, page.add_sender_button)
    assert page.senders_table.item(0, 7).text() == "Valid"
    world = server.world
    with world.lock:
        world.phone_numbers[PHONE].status = "DISCONNECTED"
    sync_channel_account(OpContext(), synced.store, synced.account_id, base_url=server.base_url)
    with qtbot.waitSignal(page.refreshed, timeout=10000):
        page.refresh()
    assert page.senders_table.item(0, 7).text().startswith(
        "Problem: +1 555-010-0001 is DISCONNECTED, not CONNECTED")
    assert "0 valid" in page.message.text()
