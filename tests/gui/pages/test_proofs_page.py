"""The Proofs page: the proof records listed with their details and JSON export, and the test
send wizard opened from it, on real widgets, the real pools, a real SQLite file and the
emulator + receiver loop."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from tests.gui.test_wizard import WAIT, drain, drive_to_review, make_wizard, page_context, send
from tests.ops.test_test_send import RoundTrip, round_trip, sandbox_store
from tests.support.gui import ScriptedPrompts
from wa_console.core.readiness import SIMULATED_LABEL
from wa_console.gui.app import create_application
from wa_console.gui.pages import PageContext
from wa_console.gui.pages.proofs import COLUMNS, EMPTY_TEXT, ProofsPage
from wa_console.store.proofs import save_proof


@pytest.fixture
def trip(sqlite_url: str, open_db) -> Iterator[RoundTrip]:
    with round_trip(sandbox_store(sqlite_url, open_db)) as running:
        yield running


@pytest.fixture
def page_ctx(trip: RoundTrip) -> Iterator[PageContext]:
    context = page_context(trip)
    yield context
    drain(context)


@pytest.fixture
def page(qtbot, page_ctx: PageContext, trip: RoundTrip) -> ProofsPage:
    create_application()
    prompts = ScriptedPrompts(None)
    proofs = ProofsPage(prompts=prompts, wizard_factory=lambda ctx, prompts, parent:
                        make_wizard(qtbot, ctx, trip, parent))
    qtbot.addWidget(proofs)
    proofs.show()
    with qtbot.waitSignal(proofs.refreshed, timeout=WAIT):
        proofs.set_context(page_ctx)
    return proofs


def cells(page: ProofsPage, row: int) -> dict[str, str]:
    return {name: page.table.item(row, i).text() for i, name in enumerate(COLUMNS)}


def test_empty_then_listed_with_details_and_export(qtbot, page: ProofsPage, trip: RoundTrip,
                                                   tmp_path) -> None:
    """No proof: the hint. Two stored proofs: newest first, live vs simulated, masked
    recipient; the selected one's record in the details; Export writes it through Prompts."""
    assert page.table.rowCount() == 0 and page.message.text() == EMPTY_TEXT
    assert not page.export_button.isEnabled()
    record = {"recipient": "+1555•••4567", "verdict_label": "Proven",
              "template": {"name": "hello_world", "language": "en_US"}}
    save_proof(trip.engine, trip.account_id, {**record, "verdict_label": "Sandbox proven"},
               "proven", "s", "wamid.S", simulated=True)
    save_proof(trip.engine, trip.account_id, record, "proven", "l", "wamid.L", simulated=False)
    with qtbot.waitSignal(page.refreshed, timeout=WAIT):
        page.refresh()
    assert page.table.rowCount() == 2
    newest = cells(page, 0)
    assert newest["Mode"] == "live" and newest["wamid"] == "wamid.L"
    assert newest["Recipient"] == "+1555•••4567" and newest["Template"] == "hello_world (en_US)"
    assert cells(page, 1)["Mode"] == SIMULATED_LABEL
    assert "1 live proof" in page.message.text()
    assert json.loads(page.details.toPlainText())["verdict_label"] == "Proven"

    page.table.selectRow(1)
    assert json.loads(page.details.toPlainText())["verdict_label"] == "Sandbox proven"
    target = tmp_path / "exported.json"
    page.prompts.path = str(target)
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(target.exists, timeout=WAIT)
    assert json.loads(target.read_text(encoding="utf-8"))["wamid"] == "wamid.S"


def test_run_test_send_opens_the_wizard_and_lists_its_proof(qtbot, page: ProofsPage,
                                                            trip: RoundTrip) -> None:
    """The button opens one wizard; its sandbox proof appears on the page when saved."""
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    wizard = page.wizard
    assert wizard is not None and wizard.isVisible() and not page.run_button.isEnabled()
    drive_to_review(qtbot, wizard)
    send(qtbot, wizard)
    page_ = wizard.timeline_page
    qtbot.waitUntil(page_.simulate_button.isEnabled, timeout=WAIT)
    qtbot.mouseClick(page_.simulate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=WAIT)
    row = cells(page, 0)
    assert row["Mode"] == SIMULATED_LABEL and SIMULATED_LABEL in row["Verdict"]
    assert row["Recipient"] == "+1555•••4567" and row["wamid"].startswith("wamid.")
    wizard.accept()
    qtbot.waitUntil(page.run_button.isEnabled, timeout=WAIT)
    assert page.wizard is None


def test_cancelling_the_wizard_after_sending_lists_an_incomplete_proof(
        qtbot, page: ProofsPage) -> None:
    """Cancel on the timeline: the wizard closes and the page lists the incomplete proof."""
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    wizard = page.wizard
    drive_to_review(qtbot, wizard)
    send(qtbot, wizard)
    wizard.reject()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=WAIT)
    assert cells(page, 0)["Verdict"].startswith("Incomplete: missing")
    assert json.loads(page.details.toPlainText())["note"] == "cancelled by the admin"
    assert page.run_button.isEnabled()
