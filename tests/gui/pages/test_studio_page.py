"""The Template studio page: drafts list, autosave, submit and follow, conflicts, crash recovery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from wa_console.core.templates.model import Category, HeaderFormat, TemplateDraft
from wa_console.gui.pages import PageContext
from wa_console.gui.pages.studio import KEYS_MISMATCH_TEXT, StudioPage
from wa_console.ops.context import OpContext
from wa_console.ops.sync import sync_templates
from wa_console.sandbox import SandboxServer
from wa_console.store import drafts
from wa_console.store.accounts import AccountStore

ROOT = Path(__file__).resolve().parents[3]
VALID = TemplateDraft(
    name="attendance_absent", language="en_US", category=Category.UTILITY,
    body="Hello {{1}}, {{2}} was absent today. Reply if you need help.",
    header_format=HeaderFormat.TEXT, header_text="Class {{1}}", footer="Example School",
    header_keys=("class_name",), body_keys=("guardian", "student"),
    samples={"class_name": "7B", "guardian": "Ana", "student": "Rui"})


@pytest.fixture
def live(ctx: PageContext, server: SandboxServer) -> PageContext:
    server.world.review_delay = 0
    return replace(ctx, base_url=server.base_url)


@pytest.fixture
def make_page(qtbot: Any) -> Iterator[Any]:
    pages: list[StudioPage] = []

    def make(ctx: PageContext | None, **kwargs: Any) -> StudioPage:
        page = StudioPage(**kwargs)
        qtbot.addWidget(page)
        page.set_context(ctx)
        pages.append(page)
        return page

    yield make
    for page in pages:
        page.shutdown()


def stored(ctx: PageContext) -> list[drafts.DraftRecord]:
    return drafts.list_drafts(ctx.store.engine, ctx.account_id)


def open_saved(qtbot: Any, page: StudioPage, rec: drafts.DraftRecord) -> None:
    qtbot.waitUntil(lambda: any(i == rec.id for i, _ in page.drafts()))
    page.open_draft(rec.id)
    qtbot.waitUntil(lambda: page.current_id == rec.id)


def test_new_draft_autosaves_and_reopens(qtbot: Any, ctx: PageContext, make_page: Any) -> None:
    """A typed new draft is autosaved; a fresh page on the same context lists and loads it."""
    page = make_page(ctx)
    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(page.editor.name_edit, "absence_notice")
    qtbot.keyClicks(page.editor.body_edit, "Your child was absent today.")
    qtbot.waitUntil(lambda: [r.draft.body for r in stored(ctx)]
                    == ["Your child was absent today."] and not page.saving, timeout=5000)
    assert page.current_id == stored(ctx)[0].id
    qtbot.waitUntil(lambda: [t for _, t in page.drafts()] == ["absence_notice · en_US · DRAFT"])

    fresh = make_page(ctx)
    qtbot.waitUntil(lambda: len(fresh.drafts()) == 1)
    fresh.drafts_list.setCurrentRow(0)
    qtbot.waitUntil(lambda: fresh.editor.body_edit.toPlainText()
                    == "Your child was absent today.")
    assert fresh.editor.name_edit.text() == "absence_notice"


def test_submit_then_refresh_status(qtbot: Any, live: PageContext, make_page: Any,
                                    server: SandboxServer) -> None:
    """Submit a valid draft: PENDING, data_changed; Refresh status then shows APPROVED."""
    page = make_page(live)
    page.editor.set_draft(VALID)
    assert page.editor.submit_button.isEnabled()
    with qtbot.waitSignal(page.data_changed, timeout=10000):
        qtbot.mouseClick(page.editor.submit_button, Qt.MouseButton.LeftButton)
    assert "PENDING" in page.status_label.text()
    assert "(simulated)" in page.status_label.text()
    assert page.error_panel.error_text is None
    qtbot.waitUntil(lambda: not page.busy)
    (rec,) = stored(live)
    assert rec.meta_id in server.world.templates and rec.status == "PENDING"
    with qtbot.waitSignal(page.data_changed, timeout=10000):
        qtbot.mouseClick(page.refresh_status_button, Qt.MouseButton.LeftButton)
    assert "APPROVED" in page.status_label.text()
    qtbot.waitUntil(lambda: any("APPROVED" in t for _, t in page.drafts()))


def test_rejected_status_shows_reason(qtbot: Any, live: PageContext, make_page: Any,
                                      server: SandboxServer) -> None:
    """A template the review rejects shows REJECTED with Meta's reason after a refresh."""
    server.world.review_overrides[VALID.name] = ("REJECTED", "TAG_CONTENT_MISMATCH")
    page = make_page(live)
    page.editor.set_draft(VALID)
    with qtbot.waitSignal(page.data_changed, timeout=10000):
        qtbot.mouseClick(page.editor.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.refresh_status_button.isEnabled())
    with qtbot.waitSignal(page.data_changed, timeout=10000):
        qtbot.mouseClick(page.refresh_status_button, Qt.MouseButton.LeftButton)
    assert "REJECTED (TAG_CONTENT_MISMATCH)" in page.status_label.text()


def test_lint_blocked_draft_cannot_be_submitted(qtbot: Any, live: PageContext, make_page: Any,
                                                server: SandboxServer) -> None:
    """A draft with lint errors has Submit disabled and nothing reaches the emulator."""
    page = make_page(live)
    count = len(server.world.templates)
    page.editor.set_draft(replace(VALID, body="{{1}} was absent today.", body_keys=(),
                                  samples={}))
    assert not page.editor.submit_button.isEnabled()
    qtbot.mouseClick(page.editor.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.saving)
    assert not page.busy
    assert len(server.world.templates) == count
    assert all(r.meta_id is None for r in stored(live))


def test_refused_submit_shows_error_panel(qtbot: Any, live: PageContext, make_page: Any,
                                          server: SandboxServer) -> None:
    """A submit the op refuses (SubmitBlocked) is saved, not sent, and explained in the panel."""
    page = make_page(live)
    count = len(server.world.templates)
    bad = replace(VALID, body="{{1}} was absent today.", body_keys=(), samples={})
    page.submit(bad)  # as if the button had been pressed
    qtbot.waitUntil(lambda: page.error_panel.error_text is not None, timeout=10000)
    assert "was not submitted" in page.error_panel.error_text.meaning
    qtbot.waitUntil(lambda: not page.busy)
    assert len(server.world.templates) == count
    assert [r.draft.body for r in stored(live)] == [bad.body]


def test_conflict_shows_changed_elsewhere_banner(qtbot: Any, ctx: PageContext,
                                                 make_page: Any) -> None:
    """A draft saved by another console meanwhile: the next autosave shows the banner."""
    rec = drafts.save_draft(ctx.store.engine, ctx.account_id, VALID)
    page = make_page(ctx)
    open_saved(qtbot, page, rec)
    drafts.save_draft(ctx.store.engine, ctx.account_id, replace(VALID, footer="Other console"),
                      draft_id=rec.id, expected_version=rec.version)
    qtbot.keyClicks(page.editor.footer_edit, "!")
    qtbot.waitUntil(lambda: page.conflict_banner.isVisibleTo(page), timeout=5000)
    assert "changed elsewhere — reload" in page.conflict_label.text()
    assert drafts.load_draft(ctx.store.engine, rec.id).draft.footer == "Other console"
    qtbot.mouseClick(page.reload_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.editor.footer_edit.text() == "Other console")
    assert not page.conflict_banner.isVisibleTo(page)


def test_open_synced_template_as_draft(qtbot: Any, live: PageContext, make_page: Any) -> None:
    """Open synced template… copies the chosen APPROVED order_update into a new draft."""
    sync_templates(OpContext(), live.store, live.account_id, base_url=live.base_url)
    offered: list[Any] = []

    def choose(rows: list[Any]) -> int | None:
        offered.extend(rows)
        return next(r.id for r in rows if (r.name, r.language) == ("order_update", "en_US"))

    page = make_page(live, choose_synced=choose)
    with qtbot.waitSignal(page.data_changed, timeout=5000):
        qtbot.mouseClick(page.open_synced_button, Qt.MouseButton.LeftButton)
    assert offered and all(r.status == "APPROVED" for r in offered)
    assert page.editor.name_edit.text() == "order_update"
    assert page.editor.body_edit.toPlainText()
    (rec,) = stored(live)
    assert rec.meta_id is None and page.current_id == rec.id
    qtbot.waitUntil(lambda: page.drafts() == [(rec.id, "order_update · en_US · DRAFT")])


def test_duplicate_to_language(qtbot: Any, ctx: PageContext, make_page: Any) -> None:
    """Duplicate to language… makes a copy in the language asked for and opens it."""
    rec = drafts.save_draft(ctx.store.engine, ctx.account_id, VALID)
    page = make_page(ctx, ask_language=lambda current: "pt_BR")
    open_saved(qtbot, page, rec)
    with qtbot.waitSignal(page.data_changed, timeout=5000):
        qtbot.mouseClick(page.duplicate_button, Qt.MouseButton.LeftButton)
    assert page.current_id != rec.id
    assert page.editor.language_combo.currentText() == "pt_BR"
    assert sorted(r.draft.language for r in stored(ctx)) == ["en_US", "pt_BR"]


def test_delete_with_confirmation(qtbot: Any, ctx: PageContext, make_page: Any) -> None:
    """Delete… asks first: refused keeps the draft, confirmed removes it."""
    rec = drafts.save_draft(ctx.store.engine, ctx.account_id, VALID)
    answers = [False, True]
    asked: list[str] = []

    def confirm(text: str) -> bool:
        asked.append(text)
        return answers.pop(0)

    page = make_page(ctx, confirm=confirm)
    open_saved(qtbot, page, rec)
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert len(stored(ctx)) == 1
    with qtbot.waitSignal(page.data_changed, timeout=5000):
        qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert "attendance_absent" in asked[0]
    assert stored(ctx) == []
    qtbot.waitUntil(lambda: page.drafts() == [])
    assert page.current_id is None


def test_no_account(make_page: Any) -> None:
    """Without an account the page is disabled and says so."""
    page = make_page(None)
    assert not page.isEnabled()
    assert page.account_label.text() == "No account selected"


CHILD = textwrap.dedent("""
    import os, signal, sys
    from PySide6.QtCore import QThreadPool, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    from wa_console.gui.pages import PageContext
    from wa_console.gui.pages.studio import StudioPage
    from wa_console.store.accounts import AccountStore
    from wa_console.store.db import open_database
    from wa_console.store.secrets import SecretStore

    url, account_id, text, pause_ms = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    app = QApplication([])
    storage, remote = QThreadPool(), QThreadPool()
    storage.setMaxThreadCount(1)
    ctx = PageContext(store=AccountStore(open_database(url), SecretStore()),
                      account_id=account_id, account_name="child", sandbox=True,
                      storage_pool=storage, remote_pool=remote)
    page = StudioPage()
    page.set_context(ctx)
    page.show()
    QTest.keyClicks(page.editor.name_edit, "crash_test")
    chars = iter(text)

    def type_one():
        ch = next(chars, None)
        if ch is None:  # the last keystroke was just typed
            QTimer.singleShot(pause_ms, lambda: os.kill(os.getpid(), signal.SIGKILL))
            return
        QTest.keyClicks(page.editor.body_edit, ch)
        QTimer.singleShot(40, type_one)  # steady typing: never a 150 ms pause

    QTimer.singleShot(0, type_one)
    app.exec()
""")


@pytest.mark.parametrize("pause_ms", [0, 1900])
def test_crash_loses_at_most_two_seconds(store: AccountStore, sqlite_url: str,
                                         pause_ms: int) -> None:
    """A studio killed mid-typing (SIGKILL) lost at most ~2 s of typing; 1.9 s after the last
    keystroke it lost nothing."""
    account_id = store.list_accounts()[0].id
    text = "Dear parent, your child was absent today. " * 2  # 84 keystrokes, 40 ms apart
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", CHILD, sqlite_url, str(account_id), text,
                           str(pause_ms)], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    (rec,) = drafts.list_drafts(store.engine, account_id)
    assert rec.draft.name == "crash_test"
    if pause_ms:
        assert rec.draft.body == text
    else:
        assert text.startswith(rec.draft.body)
        assert len(text) - len(rec.draft.body) <= 2000 // 40  # ≤ 2 s of keystrokes lost
        assert len(rec.draft.body) > 0, "nothing saved while typing never paused"


def test_drift_vs_approved_shows_body_edit(qtbot: Any, live: PageContext,
                                           make_page: Any) -> None:
    """A draft opened from the approved order_update shows no drift; editing its body lists the
    body difference; the keys still fit, so no 'sends would fail' warning."""
    sync_templates(OpContext(), live.store, live.account_id, base_url=live.base_url)

    def choose(rows: list[Any]) -> int | None:
        return next(r.id for r in rows if (r.name, r.language) == ("order_update", "en_US"))

    page = make_page(live, choose_synced=choose)
    with qtbot.waitSignal(page.data_changed, timeout=5000):
        qtbot.mouseClick(page.open_synced_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.drift_texts() == ["No drift from the approved version"])
    assert not page.keys_warning.isVisibleTo(page)

    body = page.editor.body_edit.toPlainText()
    page.editor.body_edit.setPlainText(body.replace("Hi {{1}}", "Hello {{1}}"))
    qtbot.waitUntil(lambda: any(t.startswith("Body text:") for t in page.drift_texts()),
                    timeout=5000)
    assert not page.keys_warning.isVisibleTo(page)


def test_drift_shows_sends_would_fail_when_keys_stop_matching(qtbot: Any, live: PageContext,
                                                              make_page: Any) -> None:
    """Dropping a body key of a draft opened from the approved order_update shows the red
    'sends would fail' label; taking the keys from the text again hides it."""
    sync_templates(OpContext(), live.store, live.account_id, base_url=live.base_url)
    page = make_page(live, choose_synced=lambda rows: next(
        r.id for r in rows if (r.name, r.language) == ("order_update", "en_US")))
    with qtbot.waitSignal(page.data_changed, timeout=5000):
        qtbot.mouseClick(page.open_synced_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.drift_texts() == ["No drift from the approved version"])
    keys = page.editor.body_keys_edit.text()
    assert "," in keys  # order_update has more than one body variable
    page.editor.body_keys_edit.setText(keys.split(",")[0])
    qtbot.waitUntil(lambda: page.keys_warning.isVisibleTo(page), timeout=5000)
    assert page.keys_warning.text() == KEYS_MISMATCH_TEXT
    page.editor.take_keys_from_text()
    qtbot.waitUntil(lambda: not page.keys_warning.isVisibleTo(page), timeout=5000)


def test_record_fields_are_edited_and_saved(qtbot: Any, ctx: PageContext, make_page: Any) -> None:
    """The platform's record fields (declared in core/templates/fields.py) are typed into the
    generic form and saved with the draft; the external ID is shown read-only."""
    rec = drafts.save_draft(ctx.store.engine, ctx.account_id, VALID)
    page = make_page(ctx)
    open_saved(qtbot, page, rec)
    record = page.editor.record.widgets
    assert record["external_id"].isReadOnly()
    typed = {"event_key": "attendance.absent", "sender_account": "+15550100001",
             "provider_account": "Sandbox (simulated)", "description": "Absence notice"}
    for key, text in typed.items():
        record[key].clear()
        qtbot.keyClicks(record[key], text)

    def saved_record() -> dict[str, str]:
        draft = drafts.load_draft(ctx.store.engine, rec.id).draft
        return {key: getattr(draft, key) for key in typed}

    qtbot.waitUntil(lambda: saved_record() == typed, timeout=5000)
    qtbot.keyClicks(record["event_key"], " Now")
    qtbot.waitUntil(lambda: "event_key.format" in {f.code for f in page.editor.findings()})


def test_sender_account_naming_no_sender_is_flagged_inline(qtbot: Any, ctx: PageContext,
                                                           make_page: Any) -> None:
    """A template whose Sender account names no sender of the account shows the problem under
    that field (a warning: the draft still saves); naming nothing shows nothing."""
    rec = drafts.save_draft(ctx.store.engine, ctx.account_id,
                            replace(VALID, sender_account="Nobody"))
    plain = drafts.save_draft(ctx.store.engine, ctx.account_id, replace(VALID, name="other"))
    page = make_page(ctx)
    open_saved(qtbot, page, rec)
    message = page.editor.record.messages["sender_account"]
    qtbot.waitUntil(lambda: message.isVisibleTo(page), timeout=5000)
    assert "'Nobody' names no sender of this account" in message.text()
    open_saved(qtbot, page, plain)
    qtbot.waitUntil(lambda: not message.isVisibleTo(page), timeout=5000)
