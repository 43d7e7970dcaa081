"""The Templates page over a real SQLite file holding 6,000 synced templates."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QPoint, Qt, QThreadPool
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QComboBox, QStyleOptionViewItem
from sqlalchemy.orm import Session

from tests.support.sandbox_account import TOKEN
from wa_console.core.credentials import SecretEdit
from wa_console.core.sandbox_defaults import SANDBOX_ACCOUNT_NAME, SANDBOX_VALUES
from wa_console.gui.pages import PageContext
from wa_console.gui.pages import templates as templates_module
from wa_console.gui.pages.templates import (
    COL_NAME,
    COL_REASON,
    COL_STATUS,
    EMPTY_TEXT,
    NO_ACCOUNT_TEXT,
    TemplatesPage,
)
from wa_console.gui.widgets import SIMULATED_TEXT
from wa_console.ops.context import OpContext
from wa_console.ops.sync import sync_templates
from wa_console.sandbox import SandboxServer, seeded_world
from wa_console.store.accounts import AccountStore
from wa_console.store.models import MessageTemplate
from wa_console.store.secrets import SecretStore
from wa_console.store.synced import write_template_sync

BASE = {"waba_id": "102290129340398", "phone_number_id": "106540352242922",
        "display_phone_number": "+447911123456", "app_id": "1234567890123456"}
TOPICS = ("order", "shipping", "payment", "welcome", "promo", "Order")
LANGUAGES = ("en_US", "pt_BR", "es")
STATUSES = ("APPROVED",) * 7 + ("PENDING", "REJECTED", "PAUSED")
TOTAL = 6000
MakeContext = Callable[..., PageContext]


def template(i: int) -> dict[str, Any]:
    """The i-th synced template, as Meta lists it."""
    topic = TOPICS[i % len(TOPICS)]
    status = STATUSES[i % len(STATUSES)]
    return {
        "id": str(900_000_000 + i),
        "name": f"{topic}_update_{i:04d}",
        "language": LANGUAGES[i % len(LANGUAGES)],
        "status": status,
        "category": "MARKETING" if topic in ("welcome", "promo") else "UTILITY",
        "quality_score": {"score": ("GREEN", "YELLOW", "RED", "UNKNOWN")[i % 4]},
        "rejected_reason": "INVALID_FORMAT" if status == "REJECTED" else "NONE",
    }


ALL = [template(i) for i in range(TOTAL)]
REMOVED_IDS = {t["id"] for i, t in enumerate(ALL) if i % 100 == 0}  # gone from Meta since
LIVE = [t for t in ALL if t["id"] not in REMOVED_IDS]


def expected(text: str = "", *, status: str | None = None, category: str | None = None,
             language: str | None = None, removed: bool = False) -> list[dict[str, Any]]:
    """The templates a filter should let through, computed straight from the fixture data."""
    return [t for t in (ALL if removed else LIVE)
            if text.lower() in t["name"].lower()
            and status in (None, t["status"]) and category in (None, t["category"])
            and language in (None, t["language"])]


@pytest.fixture
def pools() -> Iterator[tuple[QThreadPool, QThreadPool]]:
    storage, remote = QThreadPool(), QThreadPool()
    storage.setMaxThreadCount(1)
    yield storage, remote
    storage.waitForDone(5000)
    remote.waitForDone(5000)


@pytest.fixture
def make_context(sqlite_url: str, open_db: Any,
                 pools: tuple[QThreadPool, QThreadPool]) -> Callable[..., PageContext]:
    """A PageContext on a fresh account; `templates` are synced into it, then `later` (the
    second sync marks the rest removed)."""
    store = AccountStore(open_db(sqlite_url), SecretStore())

    def _make(name: str = "Main campus", *, sandbox: bool = False,
              templates: list[dict[str, Any]] | None = None,
              later: list[dict[str, Any]] | None = None) -> PageContext:
        account = store.create({**BASE, "account_name": name, "sandbox": sandbox},
                               {"access_token": SecretEdit("env", "WA_TOKEN")})
        now = datetime.now(UTC)
        for listing in (templates, later):
            if listing is not None:
                write_template_sync(store.engine, account.id, listing, simulated=sandbox,
                                    started_at=now, finished_at=now)
        return PageContext(store=store, account_id=account.id, account_name=name,
                           sandbox=sandbox, storage_pool=pools[0], remote_pool=pools[1])

    return _make


@pytest.fixture
def page(qtbot: Any) -> TemplatesPage:
    widget = TemplatesPage()
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    return widget


@pytest.fixture
def loaded_page(qtbot: Any, page: TemplatesPage, make_context: MakeContext) -> TemplatesPage:
    """The page showing the 6,000 templates (60 of them removed since)."""
    with qtbot.waitSignal(page.loaded, timeout=10000) as blocker:
        page.set_context(make_context(templates=ALL, later=LIVE))
    assert blocker.args == [TOTAL]
    return page


def shown_names(page: TemplatesPage) -> list[str]:
    proxy = page.proxy
    return [proxy.index(r, COL_NAME).data() for r in range(proxy.rowCount())]


def choose(combo: QComboBox, value: str) -> None:
    index = combo.findData(value)
    assert index > 0, f"{value} not offered"
    combo.setCurrentIndex(index)


def click_header(qtbot: Any, page: TemplatesPage, column: int) -> None:
    header = page.view.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))


def test_shows_all_synced_rows(loaded_page: TemplatesPage) -> None:
    """After set_context every synced (not removed) template is a row, counted in the label."""
    assert loaded_page.model.rowCount() == TOTAL
    assert loaded_page.proxy.rowCount() == len(LIVE) == 5940
    assert loaded_page.count_label.text() == "5,940 of 5,940 templates · 60 removed hidden"
    assert sorted(shown_names(loaded_page)) == sorted(t["name"] for t in LIVE)
    assert loaded_page.stack.currentWidget() is loaded_page.view


def test_rows_are_read_on_the_storage_pool(qtbot: Any, page: TemplatesPage,
                                           make_context: MakeContext,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """template_list runs on a pool thread, never on the GUI thread."""
    threads: list[threading.Thread] = []
    real = templates_module.template_list

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(templates_module, "template_list", spy)
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.set_context(make_context(templates=ALL[:10]))
    assert threads and threads[0] is not threading.main_thread()


def test_typing_narrows_the_rows_and_the_count(qtbot: Any, loaded_page: TemplatesPage) -> None:
    """Each typed character filters by name, case-insensitively, to exactly the expected rows."""
    page = loaded_page
    for typed in ("o", "R", "d", "e", "r", "_", "u", "p", "d", "a", "t", "e", "_", "0", "1"):
        qtbot.keyClicks(page.filter_edit, typed)
        want = expected(page.filter_edit.text())
        assert page.proxy.rowCount() == len(want)
        assert page.count_label.text().startswith(f"{len(want):,} of 5,940 templates")
    assert sorted(shown_names(page)) == sorted(t["name"] for t in expected("order_update_01"))
    assert len(expected("order_update_01")) == 34  # "order" + "Order" topics among 0100-0199
    for _ in range(len("order_update_01")):
        qtbot.keyClick(page.filter_edit, Qt.Key.Key_Backspace)
    assert page.proxy.rowCount() == len(LIVE)


def test_combos_combine_with_the_text(qtbot: Any, loaded_page: TemplatesPage) -> None:
    """Status, category and language combos and the text filter all apply together."""
    page = loaded_page
    assert page.status_combo.currentText() == "All statuses"
    assert [page.status_combo.itemText(i) for i in range(page.status_combo.count())] == [
        "All statuses", "APPROVED", "PAUSED", "PENDING", "REJECTED"]
    choose(page.status_combo, "REJECTED")
    assert page.proxy.rowCount() == len(expected(status="REJECTED"))
    choose(page.category_combo, "UTILITY")
    assert page.proxy.rowCount() == len(expected(status="REJECTED", category="UTILITY"))
    choose(page.language_combo, "en_US")
    qtbot.keyClicks(page.filter_edit, "ORDER")
    want = expected("order", status="REJECTED", category="UTILITY", language="en_US")
    assert len(want) == TOTAL // 30  # "order" (i % 6 == 0), REJECTED (i % 10 == 8), en_US
    assert sorted(shown_names(page)) == sorted(t["name"] for t in want)
    assert page.count_label.text().startswith(f"{len(want):,} of 5,940 templates")
    page.status_combo.setCurrentIndex(0)  # back to "All statuses"
    assert page.proxy.rowCount() == len(expected("order", category="UTILITY", language="en_US"))


def test_sorting_by_clicking_headers(qtbot: Any, loaded_page: TemplatesPage) -> None:
    """Clicking Name sorts descending then ascending; Status sorts by status; filters still hold."""
    page = loaded_page
    names = sorted((t["name"] for t in LIVE), key=str.casefold)
    assert shown_names(page) == names  # loaded sorted by name
    click_header(qtbot, page, COL_NAME)
    assert shown_names(page) == names[::-1]
    click_header(qtbot, page, COL_NAME)
    assert shown_names(page) == names
    click_header(qtbot, page, COL_STATUS)
    statuses = [page.proxy.index(r, COL_STATUS).data() for r in range(page.proxy.rowCount())]
    assert statuses == sorted(statuses)
    qtbot.keyClicks(page.filter_edit, "promo")
    assert sorted(shown_names(page)) == sorted(t["name"] for t in expected("promo"))
    statuses = [page.proxy.index(r, COL_STATUS).data() for r in range(page.proxy.rowCount())]
    assert statuses == sorted(statuses)
    click_header(qtbot, page, COL_NAME)  # re-sorting keeps the filter
    assert shown_names(page) == sorted((t["name"] for t in expected("promo")), key=str.casefold)


def test_selection_stays_on_its_template_when_sorting(qtbot: Any,
                                                      loaded_page: TemplatesPage) -> None:
    """A re-sort moves the selected row with its template (persistent indexes follow)."""
    page = loaded_page
    page.view.selectRow(7)
    chosen = page.proxy.index(7, COL_NAME).data()
    click_header(qtbot, page, COL_STATUS)
    (selected,) = page.view.selectionModel().selectedRows(COL_NAME)
    assert selected.data() == chosen
    assert selected.row() != 7


def test_removed_rows_only_with_show_removed(qtbot: Any, loaded_page: TemplatesPage) -> None:
    """Removed templates are hidden until "Show removed"; then they are italic, grey, marked."""
    page = loaded_page
    qtbot.keyClicks(page.filter_edit, "_0100")  # template 100 was removed from Meta
    assert page.proxy.rowCount() == 0
    page.show_removed.click()
    assert page.proxy.rowCount() == 1
    assert page.count_label.text() == "1 of 6,000 templates"
    status = page.proxy.index(0, COL_STATUS)
    assert status.data() == "APPROVED · removed"
    name = page.proxy.index(0, COL_NAME)
    assert isinstance(name.data(Qt.ItemDataRole.FontRole), QFont)
    assert name.data(Qt.ItemDataRole.FontRole).italic()
    assert name.data(Qt.ItemDataRole.ForegroundRole).color().name() == "#8a8d91"
    assert "Removed" in name.data(Qt.ItemDataRole.ToolTipRole)
    page.filter_edit.clear()
    assert page.proxy.rowCount() == TOTAL
    page.show_removed.click()
    assert page.proxy.rowCount() == len(LIVE)


def test_status_chips_and_rejected_reason(qtbot: Any, loaded_page: TemplatesPage) -> None:
    """Status cells are coloured chips; the rejected reason is a column and a tooltip."""
    page = loaded_page
    choose(page.status_combo, "REJECTED")
    rejected = page.proxy.index(0, COL_STATUS)
    assert rejected.data(Qt.ItemDataRole.BackgroundRole).color().name() == "#fde4e4"
    assert rejected.data(Qt.ItemDataRole.ForegroundRole).color().name() == "#9b1c1c"
    assert page.proxy.index(0, COL_REASON).data() == "INVALID_FORMAT"
    assert "INVALID_FORMAT" in rejected.data(Qt.ItemDataRole.ToolTipRole)
    choose(page.status_combo, "APPROVED")
    approved = page.proxy.index(0, COL_STATUS)
    assert approved.data(Qt.ItemDataRole.BackgroundRole).color().name() == "#e3f4e4"
    assert page.proxy.index(0, COL_REASON).data() == ""  # Meta's "NONE" is not a reason
    assert approved.data(Qt.ItemDataRole.ToolTipRole) is None


def test_the_delegate_paints_what_data_says(loaded_page: TemplatesPage) -> None:
    """The view's one-call-per-cell path (multiData) yields the same text, chip and font."""
    page = loaded_page
    page.show_removed.click()
    page.filter_edit.setText("_010")  # 0100 (removed) .. 0109, with 0108 REJECTED
    assert page.proxy.rowCount() == 10
    delegate = page.view.itemDelegate()
    for row in range(page.proxy.rowCount()):
        for column in range(page.proxy.columnCount()):
            index = page.proxy.index(row, column)
            option = QStyleOptionViewItem()
            delegate.initStyleOption(option, index)
            assert option.text == index.data()
            assert option.font.italic() == page.model.row_at(
                page.proxy.mapToSource(index).row()).removed
            background = index.data(Qt.ItemDataRole.BackgroundRole)
            if background is not None:
                assert option.backgroundBrush.color() == background.color()
            foreground = index.data(Qt.ItemDataRole.ForegroundRole)
            if foreground is not None:
                text = option.palette.color(QPalette.ColorRole.Text)
                assert text == foreground.color()


def test_empty_state(qtbot: Any, page: TemplatesPage, make_context: MakeContext) -> None:
    """An account without synced templates shows the hint to use Verify & sync."""
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.set_context(make_context())
    assert page.stack.currentWidget() is page.empty_label
    assert page.empty_label.isVisible()
    assert page.empty_label.text() == EMPTY_TEXT
    assert not page.filter_edit.isEnabled()


def test_sandbox_accounts_are_labelled_simulated(qtbot: Any, page: TemplatesPage,
                                                 make_context: MakeContext) -> None:
    """A sandbox account's list says "simulated – not proof"; a live one does not."""
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.set_context(make_context("Sandbox", sandbox=True, templates=ALL[:5]))
    assert page.simulated_label.isVisible()
    assert page.simulated_label.text() == SIMULATED_TEXT
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.set_context(make_context("Live", templates=ALL[:5]))
    assert not page.simulated_label.isVisible()


def test_switching_accounts_keeps_filters_and_none_clears(qtbot: Any, loaded_page: TemplatesPage,
                                                          make_context: MakeContext) -> None:
    """A new account's rows go through the current filters; set_context(None) empties the page."""
    page = loaded_page
    choose(page.language_combo, "es")
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.set_context(make_context("Other", templates=ALL[:30]))
    assert page.language_combo.currentData() == "es"
    assert page.proxy.rowCount() == 10
    page.set_context(None)
    assert page.model.rowCount() == 0
    assert page.count_label.text() == NO_ACCOUNT_TEXT
    assert page.empty_label.text() == NO_ACCOUNT_TEXT


def test_a_load_that_ends_after_the_page_is_gone(qtbot: Any,
                                                 make_context: MakeContext) -> None:
    """Deleting the page while its load runs drops the late answer without errors."""
    page = TemplatesPage()
    page.set_context(make_context(templates=ALL))
    task = page._task
    assert task is not None
    shiboken6.delete(page)
    with qtbot.waitSignal(task.signals.finished, timeout=10000):
        pass


def test_refresh_picks_up_a_new_sync(qtbot: Any, loaded_page: TemplatesPage) -> None:
    """refresh() rereads the database: a template that came back is shown again."""
    page = loaded_page
    ctx = page._ctx
    assert ctx is not None
    now = datetime.now(UTC)
    write_template_sync(ctx.store.engine, ctx.account_id, ALL, simulated=False,
                        started_at=now, finished_at=now)
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.refresh()
    assert page.proxy.rowCount() == TOTAL
    assert page.count_label.text() == "6,000 of 6,000 templates"


def test_templates_synced_from_the_emulator(qtbot: Any, page: TemplatesPage, sqlite_url: str,
                                            open_db: Any,
                                            pools: tuple[QThreadPool, QThreadPool]) -> None:
    """A real sandbox sync (emulator -> ops.sync) plus a local draft: all shown, simulated."""
    store = AccountStore(open_db(sqlite_url), SecretStore())
    account = store.create({**SANDBOX_VALUES, "account_name": SANDBOX_ACCOUNT_NAME},
                           {"access_token": SecretEdit("set", TOKEN)})
    with SandboxServer(seeded_world(templates=300, seed=0), "127.0.0.1", 0) as server:
        base_url = server.base_url
        synced = sync_templates(OpContext(), store, account.id, base_url=base_url)
    with Session(store.engine) as session, session.begin():
        session.add(MessageTemplate(account_id=account.id, meta_id=None, name="my_draft",
                                    language="en_US", status=None, category="UTILITY",
                                    components=[{"type": "BODY", "text": "Draft"}],
                                    simulated=True))
    ctx = PageContext(store=store, account_id=account.id, account_name=SANDBOX_ACCOUNT_NAME,
                      sandbox=True, storage_pool=pools[0], remote_pool=pools[1],
                      base_url=base_url)
    with qtbot.waitSignal(page.loaded, timeout=10000) as blocker:
        page.set_context(ctx)
    assert blocker.args == [synced.total + 1]
    assert page.proxy.rowCount() == blocker.args[0]
    assert page.simulated_label.isVisible()
    qtbot.keyClicks(page.filter_edit, "rejected_offer")
    assert page.proxy.rowCount() == 1
    assert page.proxy.index(0, COL_STATUS).data() == "REJECTED"
    assert page.proxy.index(0, COL_REASON).data() not in ("", "NONE")
    page.filter_edit.clear()
    choose(page.status_combo, "DRAFT")
    assert shown_names(page) == ["my_draft"]
    assert "draft" in page.proxy.index(0, COL_NAME).data(Qt.ItemDataRole.ToolTipRole)
