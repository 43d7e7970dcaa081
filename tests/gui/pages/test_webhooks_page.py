"""The Webhooks page with real widgets and pools, a real SQLite file, the sandbox emulator and
the console's own receiver on loopback."""

from __future__ import annotations

import json

import requests
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.support.gui import ScriptedPrompts
from tests.support.sandbox_account import PHONE, WABA
from wa_console.core.sandbox_defaults import SANDBOX_SECRETS, SANDBOX_VALUES
from wa_console.gui.pages import PageContext
from wa_console.gui.pages.remote import KEY_ROLE
from wa_console.gui.pages.webhooks import WebhooksPage
from wa_console.meta.webhooks import SIGNATURE_HEADER, sign
from wa_console.ops.webhook_check import META_FINDINGS, PROBES
from wa_console.sandbox import SandboxServer
from wa_console.store.accounts import AccountStore
from wa_console.store.models import ChannelAccount

WAIT = 20000  # ms; generous for slow CI machines, never reached when things work
CONFIGURED = str(SANDBOX_VALUES["webhook_callback_url"])
APP_SECRET = SANDBOX_SECRETS["app_secret"]


def make_page(qtbot, ctx: PageContext,  # type: ignore[no-untyped-def]
              server: SandboxServer | None = None) -> WebhooksPage:
    page = WebhooksPage()
    page.prompts = ScriptedPrompts(page)
    qtbot.addWidget(page)
    page.show()
    if server is not None:
        ctx = PageContext(**{**ctx.__dict__, "base_url": server.base_url})
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.set_context(ctx)
    return page


def run(qtbot, page: WebhooksPage, button) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(page.action_finished, timeout=WAIT):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def set_callback(store: AccountStore, url: str) -> None:
    with Session(store.engine) as session, session.begin():
        session.execute(update(ChannelAccount).values(webhook_callback_url=url))


def start_receiver(qtbot, page: WebhooksPage) -> None:  # type: ignore[no-untyped-def]
    page.port_spin.setValue(0)  # any free port: tests never fight over 8765
    with qtbot.waitSignal(page.receiver_changed, timeout=WAIT):
        qtbot.mouseClick(page.receiver_button, Qt.MouseButton.LeftButton)
    assert page.receiver is not None, page.receiver_status.text()


def test_meta_side_shows_the_effective_callback(qtbot, ctx, server, store) -> None:
    """All fine: every finding ok, the effective callback shown with its source; a phone
    override then takes message events elsewhere and the page says so."""
    server.world.callback_url = CONFIGURED
    page = make_page(qtbot, ctx, server)
    assert page.table.rowCount() == 0 and "not checked" in page.effective_label.text()
    assert page.simulated_label.isVisible()
    run(qtbot, page, page.check_meta_button)
    outcomes = page.outcomes()
    assert outcomes["webhook.meta_side"] == "ok"
    assert {outcomes[f"webhook.meta.{n}"] for n in META_FINDINGS} == {"ok"}
    assert CONFIGURED in page.effective_label.text()
    assert "app's callback URL" in page.effective_label.text()
    assert CONFIGURED in page.template_label.text()
    assert page.table.item(0, 1).text() == "✔ OK"
    assert page.check_meta_button.isEnabled() and page.progress_row.isHidden()

    server.world.phone_numbers[PHONE].override_callback_uri = "https://phone.example.org/hook"
    run(qtbot, page, page.check_meta_button)
    assert "https://phone.example.org/hook" in page.effective_label.text()
    assert "phone number's override" in page.effective_label.text()
    assert page.outcomes()["webhook.meta.effective_callback"] == "failed"
    rows = {page.table.item(r, 0).data(KEY_ROLE): r for r in range(page.table.rowCount())}
    fix = page.table.item(rows["webhook.meta.phone_override"], 3).text()
    assert "override_callback_uri" in fix
    # Reopening the account shows the stored result again.
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.set_context(PageContext(**{**ctx.__dict__, "base_url": server.base_url}))
    assert "https://phone.example.org/hook" in page.effective_label.text()


def test_self_test_against_the_local_receiver(qtbot, ctx, store) -> None:
    """Start the local receiver, point the account at it, run the self-test: every probe ok,
    latencies shown, the live count moves; shutdown stops the receiver."""
    page = make_page(qtbot, ctx)
    start_receiver(qtbot, page)
    receiver = page.receiver
    assert page.receiver_url.text() == receiver.url and page.copy_url_button.isEnabled()
    assert not page.port_spin.isEnabled()
    qtbot.mouseClick(page.copy_url_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == receiver.url
    set_callback(store, receiver.url)
    run(qtbot, page, page.self_test_button)
    outcomes = page.outcomes()
    assert {outcomes[f"webhook.platform.{p}"] for p in PROBES} == {"ok"}, page.rows
    assert outcomes["webhook.platform_side"] == "ok"
    rows = {page.table.item(r, 0).data(KEY_ROLE): r for r in range(page.table.rowCount())}
    assert page.table.item(rows["webhook.platform.challenge"], 4).text().endswith(" ms")
    qtbot.waitUntil(lambda: "accepted: 1" in page.receiver_counts.text()
                    and "refused: 2" in page.receiver_counts.text(), timeout=WAIT)
    assert ("signed_probe", receiver.url) not in page.prompts.asked  # loopback: not asked
    page.shutdown()
    assert not receiver.running and page.receiver is None


def test_signed_probes_need_confirmation_for_a_public_host(qtbot, ctx, store) -> None:
    """A host that does not resolve to loopback: the page asks through Prompts; declined, the
    signed probes are skipped (unknown) and the summary says so."""
    page = make_page(qtbot, ctx)
    start_receiver(qtbot, page)
    url = f"http://localhost:{page.receiver.port}/webhooks/whatsapp"
    set_callback(store, url)
    page.resolve = lambda host: ["203.0.113.10"]
    run(qtbot, page, page.self_test_button)
    assert ("signed_probe", url) in page.prompts.asked
    outcomes = page.outcomes()
    assert outcomes["webhook.platform.challenge"] == "ok"
    assert outcomes["webhook.platform.signed_post"] == "unknown"
    assert outcomes["webhook.platform_side"] == "unknown"
    assert page.receiver.events_accepted == 0
    page.prompts.signed_probe_ok = True
    run(qtbot, page, page.self_test_button)
    assert page.outcomes()["webhook.platform.signed_post"] == "ok"
    page.shutdown()


def test_receiver_port_in_use_is_reported(qtbot, ctx) -> None:
    """A taken port: the start fails with the reason inline, nothing runs."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        page = make_page(qtbot, ctx)
        page.port_spin.setValue(taken.getsockname()[1])
        with qtbot.waitSignal(page.receiver_changed, timeout=WAIT):
            qtbot.mouseClick(page.receiver_button, Qt.MouseButton.LeftButton)
    assert page.receiver is None
    assert "did not start" in page.receiver_status.text()
    assert "in use" in page.receiver_status.text()
    assert page.receiver_button.isEnabled() and page.receiver_button.text() == "Start receiver"


def test_receiver_starts_by_itself_for_a_sandbox_account(qtbot, ctx, monkeypatch) -> None:
    """A sandbox account's page starts the local receiver once, without a click; a second
    context does not start another."""
    monkeypatch.setattr(WebhooksPage, "autostart_for_sandbox", True)
    page = WebhooksPage()
    page.prompts = ScriptedPrompts(page)
    qtbot.addWidget(page)
    page.port_spin.setValue(0)  # a free port here; 8765 in the console
    with qtbot.waitSignal(page.receiver_changed, timeout=WAIT):
        page.set_context(ctx)
    receiver = page.receiver
    assert receiver is not None and receiver.running
    assert page.receiver_status.text() == f"Listening on {receiver.url}."
    page.set_context(None)
    page.set_context(ctx)
    assert page.receiver is receiver
    page.shutdown()
    assert not receiver.running


def _status_body(wamid: str = "wamid.IMPORTED-1") -> bytes:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550100001", "phone_number_id": PHONE},
             "statuses": [{"id": wamid, "status": "delivered", "timestamp": "1767225600",
                           "recipient_id": "15551234567"}]}
    return json.dumps({"object": "whatsapp_business_account", "entry": [
        {"id": WABA, "changes": [{"value": value, "field": "messages"}]}]}).encode()


def test_import_captured_webhook(qtbot, ctx) -> None:
    """A capture with its valid signature is recorded (and a second time is a duplicate); a
    wrong signature is refused inline with the reason."""
    page = make_page(qtbot, ctx)
    dialog = page.open_import_dialog()
    assert dialog is not None
    qtbot.addWidget(dialog)
    body = _status_body()
    dialog.body_edit.setPlainText(body.decode())
    qtbot.keyClicks(dialog.signature_edit, sign(APP_SECRET, body))
    recorded: list = []
    page.imported.connect(recorded.append)
    with qtbot.waitSignal(dialog.finished_import, timeout=WAIT):
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert len(recorded) == 1 and recorded[0].statuses == 1 and not recorded[0].duplicate
    assert dialog.result_label.text().startswith("Recorded with a valid signature")
    with qtbot.waitSignal(dialog.finished_import, timeout=WAIT):
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert dialog.result_label.text().startswith("Already recorded")
    assert len(recorded) == 2 and recorded[1].duplicate

    dialog.signature_edit.setText(sign("0" * 32, body))
    with qtbot.waitSignal(dialog.finished_import, timeout=WAIT):
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert "does not match this account's app secret" in dialog.result_label.text()
    assert dialog.import_button.isEnabled()


def test_receiver_counts_a_delivery_live(qtbot, ctx) -> None:
    """The event counter polls the running receiver: a signed POST shows up, a bad one as
    refused."""
    page = make_page(qtbot, ctx)
    start_receiver(qtbot, page)
    body = _status_body("wamid.LIVE-COUNT-1")
    url = page.receiver.url
    ok = requests.post(url, data=body, timeout=5,
                       headers={SIGNATURE_HEADER: sign(APP_SECRET, body),
                                "Content-Type": "application/json"})
    bad = requests.post(url, data=body, timeout=5, headers={SIGNATURE_HEADER: "sha256=00"})
    assert ok.status_code == 200 and bad.status_code in (401, 403)
    qtbot.waitUntil(lambda: "accepted: 1" in page.receiver_counts.text()
                    and "refused: 1" in page.receiver_counts.text(), timeout=WAIT)
    with qtbot.waitSignal(page.receiver_changed, timeout=WAIT):
        qtbot.mouseClick(page.receiver_button, Qt.MouseButton.LeftButton)
    assert page.receiver is None and page.receiver_url.text() == ""
