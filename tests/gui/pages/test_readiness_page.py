"""The Readiness page: checklist, fix buttons and feature toggles, on real widgets, a real SQLite
database, the real thread pools and (for realistic state) the sandbox emulator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from wa_console.core.readiness import (
    AccountState,
    AccountSyncState,
    Action,
    Check,
    CheckKey,
    CheckOutcome,
    GateState,
    ItemState,
    PhoneIdentity,
    Readiness,
    ReadinessInput,
    Requirement,
    SenderState,
    TemplateState,
    WebhookState,
    evaluate,
)
from wa_console.gui.app import create_application
from wa_console.gui.pages import PageContext
from wa_console.gui.pages.readiness import STATE_TEXT, ReadinessPage
from wa_console.ops.context import OpContext
from wa_console.ops.readiness import run_all_checks
from wa_console.store.toggles import load_toggles, set_toggle

FEATURE_KEYS = ("inbox", "profile_activity", "class_group_messaging", "campaigns", "automations")


@pytest.fixture
def open_page(qtbot, ctx: PageContext) -> Callable[..., ReadinessPage]:
    create_application()

    def _open(loader: Callable[..., Readiness] | None = None) -> ReadinessPage:
        page = ReadinessPage()
        qtbot.addWidget(page)
        page.readiness_loader = loader
        page.show()
        with qtbot.waitSignal(page.refreshed, timeout=10000):
            page.set_context(ctx)
        return page

    return _open


def states(page: ReadinessPage) -> dict[Requirement, ItemState | None]:
    return {req: row.state for req, row in page.rows.items()}


def world(*, token_ok: bool = True, quality: str = "GREEN") -> Callable[..., Readiness]:
    """A loader for a test world where webhook and sender readiness are set directly."""
    now = datetime.now(UTC)
    checks = tuple(
        Check(key, CheckOutcome.OK, "ok", None, now, simulated=True) for key in CheckKey
        if token_ok or key is not CheckKey.TOKEN_VALID)
    if not token_ok:
        checks += (Check(CheckKey.TOKEN_VALID, CheckOutcome.FAILED,
                         "The access token expired on 2026-11-20", None, now, simulated=True),)
    hook = Check("webhook.meta", CheckOutcome.OK, "Meta delivers", None, now, simulated=True)
    readiness = evaluate(ReadinessInput(
        account=AccountState(sandbox=True), now=now, verify_checks=checks,
        account_sync=AccountSyncState(
            synced_at=now, simulated=True, waba_review_status="APPROVED",
            phone=PhoneIdentity(display_phone_number="+1 555-010-0001", verified_name="Store",
                                status="CONNECTED", name_status="APPROVED",
                                quality_rating=quality)),
        templates=TemplateState(synced_at=now, counts=(("APPROVED", 3),), simulated=True),
        webhook=WebhookState(meta_side=hook, platform_side=hook),
        senders=SenderState(valid_count=1)))
    return lambda store, account_id: readiness


def test_fresh_account_shows_seven_unchecked_items(open_page) -> None:
    """A fresh sandbox account: seven items, none OK, each with a fix button; simulated label."""
    page = open_page()
    assert len(page.rows) == 7
    shown = states(page)
    assert ItemState.OK not in shown.values()
    assert shown[Requirement.PROVIDER_ACCOUNT] is ItemState.NOT_CHECKED
    assert shown[Requirement.WEBHOOK] is ItemState.NOT_CHECKED
    for row in page.rows.values():
        assert row.mark.text() == STATE_TEXT[row.state]
        assert row.button.isVisible() and row.button.text() == row.action.label
    assert page.headline.text().startswith("Not ready: 7 of 7")
    assert page.simulated.isVisible() and "simulated" in page.simulated.text().lower()


def test_after_run_all_five_items_are_ok_and_toggles_stay_greyed(open_page, ctx, server) -> None:
    """After Run all against an emulator with no app callback and no sender: five OK (no
    button), webhook and sender failing with their fixes; toggles greyed, explained; the proof
    line says there is none."""
    result = run_all_checks(OpContext(), ctx.store, ctx.account_id, server.base_url)
    assert result.stopped_at is None
    page = open_page()
    shown = states(page)
    assert [r for r, s in shown.items() if s is not ItemState.OK] == [
        Requirement.WEBHOOK, Requirement.SENDER]
    assert shown[Requirement.WEBHOOK] is shown[Requirement.SENDER] is ItemState.FAILING
    assert page.proof.text() == "Production proof: no; run the guided test send and reply"
    assert not page.rows[Requirement.TEMPLATE_SYNC].button.isVisible()
    assert page.rows[Requirement.SENDER].button.text() == "Open senders"
    assert page.headline.text().startswith("Not ready: 2 of 7")
    for key in FEATURE_KEYS:
        box = page.checkboxes[key]
        assert box.objectName() == key
        assert not box.isEnabled() and not box.isChecked()
        assert box.property("gateState") == GateState.DISABLED.value
        assert "Webhook readiness" in box.toolTip() and "Sender readiness" in box.toolTip()
        assert "Template sync" not in box.toolTip()


def test_fix_button_emits_its_action(qtbot, open_page, ctx, server) -> None:
    """Clicking an item's fix button emits action_requested with that item's core Action."""
    run_all_checks(OpContext(), ctx.store, ctx.account_id, server.base_url)
    page = open_page()
    with qtbot.waitSignal(page.action_requested, timeout=2000) as blocker:
        page.rows[Requirement.WEBHOOK].button.click()
    assert blocker.args == [Action.CHECK_WEBHOOKS]
    with qtbot.waitSignal(page.action_requested, timeout=2000) as blocker:
        page.rows[Requirement.SENDER].button.click()
    assert blocker.args == [Action.OPEN_SENDERS]


def test_ready_world_enables_toggles_and_switching_on_persists(qtbot, open_page, ctx) -> None:
    """With every requirement met the toggles are enabled; switching one on is saved and stays."""
    page = open_page(world(quality="YELLOW"))
    assert page.advisory_box.isVisible()
    assert any("YELLOW quality" in label.text() and label.isVisible()
               for label in page.advisory_labels)
    assert page.headline.text() == "Sandbox ready (simulated – not proof)"  # noqa: RUF001
    assert all(s is ItemState.OK for s in states(page).values())
    assert not any(row.button.isVisible() for row in page.rows.values())
    for key in FEATURE_KEYS:
        assert page.checkboxes[key].isEnabled() and not page.checkboxes[key].isChecked()
    changed: list[bool] = []
    page.data_changed.connect(lambda: changed.append(True))
    with qtbot.waitSignal(page.refreshed, timeout=10000):
        page.checkboxes["inbox"].click()
    assert changed == [True]
    assert load_toggles(ctx.store.engine, ctx.account_id) == {"inbox": True}
    assert page.checkboxes["inbox"].isChecked()
    assert page.checkboxes["inbox"].property("gateState") == GateState.ON.value

    reopened = open_page(world())
    assert reopened.checkboxes["inbox"].isChecked()
    assert not reopened.checkboxes["campaigns"].isChecked()


def test_lost_readiness_suspends_without_switching_off(qtbot, open_page, ctx) -> None:
    """A feature on when readiness is lost stays checked, shown suspended with the reason."""
    set_toggle(ctx.store.engine, ctx.account_id, "campaigns", True)
    page = open_page(world(token_ok=False))
    assert page.rows[Requirement.CREDENTIAL_REFERENCE].state is ItemState.FAILING
    box = page.checkboxes["campaigns"]
    assert box.isChecked() and box.isEnabled()
    assert box.property("gateState") == GateState.SUSPENDED.value
    assert "suspended" in box.text()
    assert "expired" in box.toolTip() and "Credential reference" in box.toolTip()
    assert load_toggles(ctx.store.engine, ctx.account_id) == {"campaigns": True}
    assert not page.checkboxes["inbox"].isEnabled()

    with qtbot.waitSignal(page.refreshed, timeout=10000):
        box.click()  # the admin may switch a suspended feature off
    assert load_toggles(ctx.store.engine, ctx.account_id) == {"campaigns": False}
    assert not box.isChecked() and not box.isEnabled()
    assert box.property("gateState") == GateState.DISABLED.value


def test_real_loader_can_be_monkeypatched(monkeypatch, open_page) -> None:
    """Without a hook the page calls ops.readiness.load_readiness at refresh time."""
    from wa_console.ops import readiness as ops_readiness

    monkeypatch.setattr(ops_readiness, "load_readiness", world())
    page = open_page()
    assert page.readiness is not None and page.readiness.ready
    assert all(page.checkboxes[key].isEnabled() for key in FEATURE_KEYS)


def test_no_account_clears_the_page(open_page) -> None:
    """set_context(None) empties the checklist and greys every toggle."""
    page = open_page(world())
    page.set_context(None)
    assert page.headline.text() == "No account selected"
    assert all(row.state is None and not row.button.isVisible() for row in page.rows.values())
    assert not any(box.isEnabled() for box in page.checkboxes.values())
    assert not page.simulated.isVisible()


def test_failed_save_is_shown_and_the_truth_restored(qtbot, monkeypatch, open_page, ctx) -> None:
    """A toggle that cannot be saved shows the error and goes back to its stored state."""
    from wa_console.store import toggles

    def refuse(*args: object) -> None:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(toggles, "set_toggle", refuse)
    page = open_page(world())
    changed: list[bool] = []
    page.data_changed.connect(lambda: changed.append(True))
    with qtbot.waitSignal(page.refreshed, timeout=10000):
        page.checkboxes["automations"].click()
    assert "database is locked" in page.error.text() and page.error.isVisible()
    assert not page.checkboxes["automations"].isChecked()
    assert page.checkboxes["automations"].isEnabled() and changed == []
    assert load_toggles(ctx.store.engine, ctx.account_id) == {}
