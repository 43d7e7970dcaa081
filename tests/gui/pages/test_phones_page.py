"""The Phone numbers page: identity cards of the synced numbers, on real widgets, a real SQLite
database, the real thread pools and the sandbox emulator's seeded numbers."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from PySide6.QtCore import QCoreApplication

from tests.support.sandbox_account import PHONE
from wa_console.core.sandbox_defaults import SANDBOX_VALUES
from wa_console.gui.app import create_application
from wa_console.gui.pages import PageContext
from wa_console.gui.pages.phones import BAD, EMPTY_TEXT, GOOD, WARN, PhonesPage
from wa_console.ops.context import OpContext
from wa_console.ops.readiness import run_all_checks


@pytest.fixture
def open_page(qtbot, ctx: PageContext) -> Callable[[], PhonesPage]:
    create_application()

    def _open() -> PhonesPage:
        page = PhonesPage()
        qtbot.addWidget(page)
        page.show()
        with qtbot.waitSignal(page.refreshed, timeout=10000):
            page.set_context(ctx)
        return page

    return _open


def test_not_synced_yet_shows_the_empty_state(open_page) -> None:
    """Before any account sync: no cards, the hint to sync, and the simulated label."""
    page = open_page()
    assert page.cards == {}
    assert page.message.text() == EMPTY_TEXT and page.message.isVisible()
    assert page.simulated.isVisible() and "simulated" in page.simulated.text().lower()


def test_synced_numbers_are_cards_with_badges(open_page, ctx, server) -> None:
    """After Run all: the WABA's seeded numbers as cards, badges coloured, configured one first."""
    run_all_checks(OpContext(), ctx.store, ctx.account_id, server.base_url)
    page = open_page()
    expected = {p.id for p in server.world.phones_of(str(SANDBOX_VALUES["waba_id"]))}
    assert set(page.cards) == expected and len(expected) == 4
    assert page.card_layout.itemAt(0).widget() is page.cards[PHONE]  # shown first

    configured = page.cards[PHONE]
    assert configured.configured and configured.property("configured") is True
    assert configured.configured_label.isVisible()
    assert configured.number.text() == "+1 555-010-0001"
    assert configured.name.text() == "Sandbox Store (simulated)"
    assert PHONE in configured.phone_id.text()
    assert configured.badges["quality"].text() == "Quality: GREEN"
    assert configured.badges["quality"].property("colour") == GOOD
    assert configured.badges["status"].text() == "Status: CONNECTED"
    assert configured.badges["tier"].text() == "Tier: 1K"
    assert configured.badges["throughput"].text() == "Throughput: STANDARD"

    outlet = page.cards["200000000000013"]
    assert not outlet.configured and not outlet.configured_label.isVisible()
    assert outlet.badges["quality"].text() == "Quality: RED"
    assert outlet.badges["quality"].property("colour") == BAD
    assert outlet.badges["status"].property("colour") == WARN  # FLAGGED
    assert outlet.badges["tier"].text() == "Tier: 250"
    support = page.cards["200000000000012"]
    assert support.badges["name_status"].text() == "Name: PENDING_REVIEW"
    assert support.badges["name_status"].property("colour") == WARN
    assert "4 phone numbers" in page.message.text()
    assert page.simulated.isVisible()


def test_no_account_clears_the_cards(open_page, ctx, server) -> None:
    """set_context(None) removes the cards and says no account is selected."""
    run_all_checks(OpContext(), ctx.store, ctx.account_id, server.base_url)
    page = open_page()
    assert page.cards
    page.set_context(None)
    assert page.cards == {} and page.message.text() == "No account selected"
    assert not page.simulated.isVisible()


def test_page_deleted_before_its_load_finishes_is_harmless(qtbot, ctx) -> None:
    """A load that finishes after its page was deleted is dropped, without an error."""
    create_application()
    gate = threading.Event()
    ctx.storage_pool.start(gate.wait)  # holds the one storage thread: the load queues behind
    page = PhonesPage()
    page.set_context(ctx)
    with qtbot.waitSignal(page.destroyed, timeout=5000):
        page.deleteLater()
    gate.set()
    assert ctx.storage_pool.waitForDone(10000)
    QCoreApplication.processEvents()  # delivers the queued result to the dropped callback
