"""The account's tabs inside the main window: a newcomer's sandbox path end to end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from tests.support.gui import ScriptedPrompts
from wa_console.core.readiness import Action, ItemState, Requirement
from wa_console.gui.app import create_application
from wa_console.gui.main_window import MainWindow
from wa_console.sandbox import SandboxServer, seeded_world


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(seeded_world(templates=300, seed=0), "127.0.0.1", 0) as running:
        yield running


def test_sandbox_account_run_all_checks_fills_every_tab(qtbot, sqlite_url, server) -> None:
    """Create the sandbox account, Run all checks: readiness shows five requirements met,
    the toggles stay disabled (no webhook callback, no sender), templates and phones are
    listed, and each fix button shows the tab where the fix happens."""
    create_application()
    window = MainWindow(sqlite_url, base_url=server.base_url)
    window.prompts = ScriptedPrompts(window)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.store_opened, timeout=15000):
        window.show()
    with qtbot.waitSignal(window.record_loaded, timeout=10000):
        qtbot.mouseClick(window.ui.createSandboxButton, Qt.MouseButton.LeftButton)  # click 1
    tabs = window.ui.accountTabs
    assert [tabs.tabText(i).replace("&", "") for i in range(tabs.count())] == [
        "Settings", "Verify  sync", "Phone numbers", "Senders", "Templates", "Template studio",
        "Webhooks", "Proofs", "Delivery health", "Readiness"]
    verify, readiness = window.pages["verify"], window.pages["readiness"]
    tabs.setCurrentWidget(verify)  # click 2
    qtbot.waitUntil(lambda: verify.run_all_button.isEnabled(), timeout=10000)
    with qtbot.waitSignal(readiness.refreshed, timeout=30000):
        qtbot.mouseClick(verify.run_all_button, Qt.MouseButton.LeftButton)  # click 3
    qtbot.waitUntil(lambda: readiness.rows[Requirement.TEMPLATE_SYNC].state is ItemState.OK,
                    timeout=15000)
    ok = {r for r, row in readiness.rows.items() if row.state is ItemState.OK}
    assert ok == {Requirement.PROVIDER_ACCOUNT, Requirement.IDENTITY,
                  Requirement.CREDENTIAL_REFERENCE, Requirement.APPROVED_TEMPLATES,
                  Requirement.TEMPLATE_SYNC}
    inbox = readiness.checkboxes["inbox"]
    assert not inbox.isEnabled() and "Webhook readiness" in inbox.toolTip()
    qtbot.waitUntil(lambda: window.pages["templates"].proxy.rowCount() > 300, timeout=10000)
    qtbot.waitUntil(lambda: len(window.pages["phones"].cards) >= 3, timeout=10000)

    readiness.action_requested.emit(Action.SYNC_TEMPLATES)
    assert tabs.currentWidget() is verify
    readiness.action_requested.emit(Action.ENTER_TOKEN)
    assert tabs.currentWidget() is window.ui.settingsTab
    readiness.action_requested.emit(Action.OPEN_TEMPLATES)
    assert tabs.currentWidget() is window.pages["studio"]
    readiness.action_requested.emit(Action.CHECK_WEBHOOKS)
    assert tabs.currentWidget() is window.pages["webhooks"]
    readiness.action_requested.emit(Action.OPEN_SENDERS)
    assert tabs.currentWidget() is window.pages["senders"]
    window.pages["senders"].action_requested.emit("sync_account")  # a page names it by value
    assert tabs.currentWidget() is verify
    window.close()


def test_new_unsaved_account_disables_the_account_tabs(qtbot, open_window) -> None:
    """While a new account is not saved, only its Settings tab can be used."""
    window = open_window()
    qtbot.mouseClick(window.ui.addButton, Qt.MouseButton.LeftButton)
    tabs = window.ui.accountTabs
    assert tabs.isTabEnabled(0)
    assert not any(tabs.isTabEnabled(i) for i in range(1, tabs.count()))


def test_saving_unchanged_context_keeps_the_pages(qtbot, open_window) -> None:
    """Saving settings that leave the account's context as it was does not reset the pages
    (which would cancel a running sync)."""
    window = open_window()
    with qtbot.waitSignal(window.record_loaded, timeout=10000):
        qtbot.mouseClick(window.ui.createSandboxButton, Qt.MouseButton.LeftButton)
    verify = window.pages["verify"]
    calls: list[object] = []
    original = verify.set_context
    verify.set_context = lambda ctx: (calls.append(ctx), original(ctx))
    field = window.binder.widgets["app_id"]
    field.setText("300000000000004")
    window._on_field_changed("app_id")
    qtbot.waitUntil(lambda: window._busy is None)
    with qtbot.waitSignal(window.saved, timeout=10000):
        window.save()
    assert calls == []
    window.prompts.rename_to = "Renamed sandbox"
    qtbot.waitUntil(lambda: window._busy is None)
    with qtbot.waitSignal(window.saved, timeout=10000):
        qtbot.mouseClick(window.ui.renameButton, Qt.MouseButton.LeftButton)
    assert len(calls) == 1 and calls[0].account_name == "Renamed sandbox"
