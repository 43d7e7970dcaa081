"""The Verify & sync page with real widgets, real thread pools, a real SQLite file and the
sandbox emulator on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import QApplication
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.support.sandbox_account import WABA
from wa_console.core.credentials import SecretEdit
from wa_console.core.sandbox_defaults import SANDBOX_ACCOUNT_NAME, SANDBOX_SECRETS, SANDBOX_VALUES
from wa_console.gui.error_panel import ErrorPanel
from wa_console.gui.pages import PageContext
from wa_console.gui.pages.remote import CANCELLED_TEXT, KEY_ROLE
from wa_console.gui.pages.verify import VerifyPage
from wa_console.meta.errors import GraphApiError
from wa_console.ops import sync as sync_module
from wa_console.ops.verify import APP_SUBSCRIBED, CHECK_KEYS, TOKEN_EXPIRY, TOKEN_VALID
from wa_console.sandbox import SandboxServer, World, seeded_world
from wa_console.store.accounts import AccountStore
from wa_console.store.models import MessageTemplate
from wa_console.store.secrets import SecretStore

WAIT = 20000  # ms; generous for slow CI machines, never reached when things work


@pytest.fixture
def templates() -> int:
    """How many templates the emulator seeds (tests parametrize it)."""
    return 0


@pytest.fixture
def world(templates: int) -> World:
    w = seeded_world(templates=templates, seed=0)
    w.review_delay = 0
    return w


@pytest.fixture
def server(world: World) -> Iterator[SandboxServer]:
    with SandboxServer(world, "127.0.0.1", 0) as running:
        yield running


@pytest.fixture
def store(open_db, sqlite_url: str) -> AccountStore:  # type: ignore[no-untyped-def]
    return AccountStore(open_db(sqlite_url), SecretStore())


@pytest.fixture
def pools(qapp) -> Iterator[tuple[QThreadPool, QThreadPool]]:  # type: ignore[no-untyped-def]
    storage, remote = QThreadPool(), QThreadPool()
    storage.setMaxThreadCount(1)
    yield storage, remote
    for pool in (remote, storage):
        pool.waitForDone(WAIT)


def make_page(qtbot, store: AccountStore, server: SandboxServer,  # type: ignore[no-untyped-def]
              pools: tuple[QThreadPool, QThreadPool], token: str) -> VerifyPage:
    """A shown page on a new sandbox account whose access token is `token`; stored state
    already loaded."""
    record = store.create(
        {**SANDBOX_VALUES, "account_name": SANDBOX_ACCOUNT_NAME},
        {"access_token": SecretEdit("set", token),
         "app_secret": SecretEdit("set", SANDBOX_SECRETS["app_secret"]),
         "webhook_verify_token": SecretEdit("set", SANDBOX_SECRETS["webhook_verify_token"])})
    page = VerifyPage()
    qtbot.addWidget(page)
    page.show()
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.set_context(PageContext(store=store, account_id=record.id,
                                     account_name=record.name, sandbox=True,
                                     storage_pool=pools[0], remote_pool=pools[1],
                                     base_url=server.base_url))
    return page


def click_and_wait(qtbot, page: VerifyPage, button) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(page.data_changed, timeout=WAIT):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def idle(page: VerifyPage) -> bool:
    return (not page.busy and page.verify_button.isEnabled()
            and page.sync_templates_button.isEnabled() and page.run_all_button.isEnabled()
            and page.progress_row.isHidden())


def template_rows(store: AccountStore) -> int:
    with Session(store.engine) as session:
        return session.scalar(select(func.count()).select_from(MessageTemplate)) or 0


def test_verify_shows_all_checks_ok(qtbot, store, server, world, pools) -> None:
    """Clicking Verify provider fills the table with every check ok, labelled simulated."""
    page = make_page(qtbot, store, server, pools, world.tokens["valid"].value)
    assert page.table.rowCount() == 0 and page.last_verified_label.text() == "Last verified: never"
    assert page.simulated_label.isVisible() and "not proof" in page.simulated_label.text()
    assert not page.subscribe_button.isEnabled()
    click_and_wait(qtbot, page, page.verify_button)
    assert page.outcomes() == dict.fromkeys(CHECK_KEYS, "ok")
    assert page.table.rowCount() == len(CHECK_KEYS)
    assert all(page.table.item(r, 1).text() == "✔ OK" for r in range(page.table.rowCount()))
    assert "12 of 12 checks ok" in page.last_verified_label.text()
    assert page.status_label.text() == f"All {len(CHECK_KEYS)} checks ok."
    assert idle(page) and not page.subscribe_button.isEnabled()
    assert page.error_panel.isHidden()


def test_expired_token_shows_failures_with_fixes(qtbot, store, server, world, pools) -> None:
    """An expired token gives failed rows with their fix text, and no error panel."""
    page = make_page(qtbot, store, server, pools, world.tokens["expired"].value)
    click_and_wait(qtbot, page, page.verify_button)
    outcomes = page.outcomes()
    assert outcomes[TOKEN_VALID] == "failed" and outcomes[TOKEN_EXPIRY] == "failed"
    rows = {page.table.item(r, 0).data(KEY_ROLE): r for r in range(page.table.rowCount())}
    row = rows[TOKEN_VALID]
    assert page.table.item(row, 1).text() == "✘ Failed"
    assert page.table.item(row, 3).text(), "a failed check shows its fix"
    assert "need attention" in page.status_label.text()
    assert page.error_panel.isHidden() and idle(page)
    assert world.tokens["expired"].value not in page.table.item(row, 2).text()


def test_subscribe_app_when_unsubscribed(qtbot, store, server, world, pools) -> None:
    """An unsubscribed app enables Subscribe app; confirmed, it subscribes and turns ok."""
    world.wabas[WABA].subscribed_app_ids.clear()
    page = make_page(qtbot, store, server, pools, world.tokens["valid"].value)
    click_and_wait(qtbot, page, page.verify_button)
    assert page.outcomes()[APP_SUBSCRIBED] == "failed"
    assert page.subscribe_button.isEnabled()
    asked: list[str] = []
    page.confirm = lambda title, text: asked.append(text) or True
    click_and_wait(qtbot, page, page.subscribe_button)
    assert len(asked) == 1 and SANDBOX_ACCOUNT_NAME in asked[0]
    assert page.outcomes()[APP_SUBSCRIBED] == "ok"
    assert world.app.id in world.wabas[WABA].subscribed_app_ids
    assert not page.subscribe_button.isEnabled() and page.verify_button.isEnabled()


def test_subscribe_declined_changes_nothing(qtbot, store, server, world, pools) -> None:
    """Declining the confirmation starts nothing and leaves the app unsubscribed."""
    world.wabas[WABA].subscribed_app_ids.clear()
    page = make_page(qtbot, store, server, pools, world.tokens["valid"].value)
    click_and_wait(qtbot, page, page.verify_button)
    page.confirm = lambda title, text: False
    page.subscribe_button.click()
    assert not page.busy and page.subscribe_button.isEnabled()
    assert world.wabas[WABA].subscribed_app_ids == []


@pytest.mark.parametrize("templates", [6000])
def test_cancel_template_sync(qtbot, store, server, world, pools) -> None:
    """Cancel during a 6,000-template sync: "Cancelled", nothing stored, buttons usable."""
    page = make_page(qtbot, store, server, pools, world.tokens["valid"].value)
    seen: list[str] = []

    def on_progress(pct: int, text: str) -> None:
        seen.append(text)
        if text.startswith("page ") and page.cancel_button.isEnabled():
            page.cancel_button.click()

    page.progressed.connect(on_progress)
    with qtbot.waitSignal(page.action_finished, timeout=WAIT):
        page.sync_templates_button.click()
        assert not page.verify_button.isEnabled() and not page.sync_templates_button.isEnabled()
        assert page.progress_row.isVisible() and page.cancel_button.isEnabled()
    assert page.status_label.text() == CANCELLED_TEXT and idle(page)
    assert any(t.startswith("page 1 of ~6") for t in seen), seen
    assert template_rows(store) == 0
    assert "the last attempt cancelled" in page.templates_synced_label.text()
    assert page.error_panel.isHidden()


def test_server_error_on_account_sync_shows_panel(qtbot, store, server, world, pools,
                                                  monkeypatch) -> None:
    """A WABA answering 5xx forever shows the error panel with title, fix and Meta's code."""
    real = sync_module.client_for

    def no_pause(*args, **kwargs):  # type: ignore[no-untyped-def]
        client = real(*args, **kwargs)
        client._sleep = lambda seconds: None  # the retries happen, without waiting
        return client

    monkeypatch.setattr(sync_module, "client_for", no_pause)
    server.faults.inject(kind="http_5xx", method="GET", path=rf"/{WABA}$", times=None,
                         status=503)
    page = make_page(qtbot, store, server, pools, world.tokens["valid"].value)
    with qtbot.waitSignal(page.action_finished, timeout=WAIT):
        page.sync_account_button.click()
    panel: ErrorPanel = page.error_panel
    assert not panel.isHidden()
    text = panel.error_text
    assert text is not None
    assert panel.title.text() == "The API service is temporarily unavailable."
    assert panel.fix.text() == "What to do: Wait and retry."
    assert "Meta error code: 2" in panel.codes.text() and "fbtrace_id: " in panel.codes.text()
    assert "Traceback" not in text.as_text()
    panel.copy_button.click()
    assert QApplication.clipboard().text() == text.as_text()
    assert "failed" in page.status_label.text() and idle(page)
    assert "the last attempt failed" in page.accounts_synced_label.text()


@pytest.mark.parametrize("templates", [250])
def test_run_all_checks(qtbot, store, server, world, pools) -> None:
    """Run all checks shows progress through every step and ends with data_changed."""
    page = make_page(qtbot, store, server, pools, world.tokens["valid"].value)
    seen: list[tuple[int, str]] = []
    page.progressed.connect(lambda pct, text: seen.append((pct, text)))
    click_and_wait(qtbot, page, page.run_all_button)
    steps = {text.split(":")[0] for _, text in seen}
    assert {"Verify provider", "Sync channel account", "Sync templates"} <= steps
    assert max(pct for pct, _ in seen) == 100
    assert page.status_label.text().startswith("All checks ran")
    assert page.outcomes() == dict.fromkeys(CHECK_KEYS, "ok")
    total = template_rows(store)  # the 250 seeded ones plus the emulator's sample templates
    assert total >= 250 and f"{total} templates" in page.templates_synced_label.text()
    assert "phone numbers" in page.accounts_synced_label.text()
    assert idle(page) and page.error_panel.isHidden()


def test_error_panel_generic_exception_is_redacted(qtbot) -> None:
    """A non-Meta exception shows its redacted message, no codes and no traceback."""
    from wa_console.core.redaction import register_secret

    panel = ErrorPanel()
    qtbot.addWidget(panel)
    register_secret("SECRET-TOKEN-123456")
    panel.show_error(RuntimeError("boom with SECRET-TOKEN-123456 inside"))
    assert panel.title.text() == "Unexpected problem"
    assert "SECRET-TOKEN-123456" not in panel.meaning.text()
    assert "RuntimeError: boom" in panel.meaning.text()
    assert panel.codes.isHidden() and "Traceback" not in panel.error_text.as_text()
    panel.clear()
    assert panel.isHidden() and panel.error_text is None


def test_error_panel_graph_error_codes(qtbot) -> None:
    """A Graph error shows Meta's code, subcode and fbtrace_id in the copyable block."""
    panel = ErrorPanel()
    qtbot.addWidget(panel)
    panel.show_error(GraphApiError(400, {"code": 100, "error_subcode": 33, "message": "bad id",
                                         "fbtrace_id": "AbC123xyz"}, "GET", "v23.0/123"))
    block = panel.error_text.as_text()
    for part in ("Meta error code: 100", "Subcode: 33", "fbtrace_id: AbC123xyz",
                 "Meta said: “bad id”", "What to do:"):
        assert part in block
    assert panel.codes.textInteractionFlags()


@pytest.mark.parametrize("templates", [6000])
def test_shutdown_cancels_running_sync(qtbot, store, server, world, pools) -> None:
    """shutdown() (the window closing) cancels a running sync; nothing is stored."""
    page = make_page(qtbot, store, server, pools, world.tokens["valid"].value)
    changed: list[bool] = []
    page.data_changed.connect(lambda: changed.append(True))
    with qtbot.waitSignal(page.action_finished, timeout=WAIT):
        page.sync_templates_button.click()
        page.shutdown()
    assert page.status_label.text() == CANCELLED_TEXT and idle(page)
    assert template_rows(store) == 0 and changed == []


def test_no_account_disables_actions(qtbot, store, server, world, pools) -> None:
    """Without an account every action is disabled and the simulated label hidden."""
    page = make_page(qtbot, store, server, pools, world.tokens["valid"].value)
    page.set_context(None)
    assert not any(button.isEnabled() for button in page.buttons.values())
    assert page.simulated_label.isHidden() and page.table.rowCount() == 0
    assert page.start("verify") is None


@pytest.mark.parametrize("templates", [20])
def test_run_all_asks_before_signed_probes_to_a_public_host(qtbot, store, server, world, pools,
                                                            monkeypatch) -> None:
    """Run all's webhook self-test asks (through Prompts, on the GUI thread) before signed
    events go to a callback that is not loopback; declined, they are skipped, not sent."""
    from tests.support.gui import ScriptedPrompts
    from wa_console.ops import webhook_check
    from wa_console.store.checks import load_checks
    from wa_console.webhook.app import account_secrets
    from wa_console.webhook.server import ReceiverServer

    page = make_page(qtbot, store, server, pools, world.tokens["valid"].value)
    page.prompts = ScriptedPrompts(page)
    account = store.list_accounts()[0].id
    with ReceiverServer(store.engine, account_secrets(store), port=0) as receiver:
        url = f"http://localhost:{receiver.port}/webhooks/whatsapp"
        record = store.get(account)
        store.save(account, record.version, {**record.values, "webhook_callback_url": url}, {})
        monkeypatch.setattr(webhook_check, "is_loopback_host", lambda host, resolve: False)
        click_and_wait(qtbot, page, page.run_all_button)
        assert receiver.events_accepted == 0
    assert page.prompts.asked == [("signed_probe", url)]
    stored = {c.key: c.outcome for c in load_checks(store.engine, account)}
    assert stored["webhook.platform.challenge"] == "ok"
    assert stored["webhook.platform.signed_post"] == "unknown"
