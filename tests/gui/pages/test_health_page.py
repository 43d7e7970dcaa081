"""The Delivery health page on real widgets, the real storage pool and a real SQLite database
filled with generated history: filters change the figures and the chart, a failure group
narrows the list, the timeline shows the raw event, exports write real files, the quality panel
highlights a paused template."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from tests.support.gui import ScriptedPrompts
from wa_console.gui.app import create_application
from wa_console.gui.health_models import PAGE_SIZE
from wa_console.gui.pages import PageContext
from wa_console.gui.pages.health import FLAGGED_BACKGROUND, STATUSES, HealthPage
from wa_console.sandbox.history import generate_history
from wa_console.store.health import count_messages, health_report

WAIT = 15000
MESSAGES = 1200  # more than two pages of the list


@pytest.fixture
def history(ctx: PageContext) -> PageContext:
    generate_history(ctx.store.engine, ctx.account_id, messages=MESSAGES, days=30, seed=3)
    return ctx


@pytest.fixture
def open_page(qtbot) -> Callable[[PageContext | None], HealthPage]:
    create_application()

    def _open(context: PageContext | None) -> HealthPage:
        page = HealthPage()
        page.prompts = ScriptedPrompts(page)
        qtbot.addWidget(page)
        page.resize(1200, 800)
        page.show()
        if context is None:
            page.set_context(None)
        else:
            with qtbot.waitSignal(page.refreshed, timeout=WAIT):
                page.set_context(context)
        return page

    return _open


def reload_with(qtbot, page: HealthPage,  # type: ignore[no-untyped-def]
                change: Callable[[], None]) -> None:
    with qtbot.waitSignal(page.refreshed, timeout=WAIT):
        change()
    qtbot.waitUntil(lambda: page.report is not None)


def chart_values(page: HealthPage, status: str) -> list[float]:
    bar_set = page.bar_sets[status]
    return [bar_set.at(i) for i in range(bar_set.count())]


def figure_count(page: HealthPage, status: str) -> int:
    return int(page.figure_labels[status].text().split("\n")[1].split(" ")[0].replace(",", ""))


def assert_shows(page: HealthPage, ctx: PageContext) -> None:
    """Figures, chart and list agree with the store's answer for the page's own filter."""
    expected = health_report(ctx.store.engine, page.current_filter(with_error_code=False))
    for status in STATUSES:
        count = getattr(expected.figures, status)
        assert figure_count(page, status) == count
        assert f"{expected.figures.rate(status) * 100:.1f}%" in page.figure_labels[status].text()
        assert chart_values(page, status) == [float(getattr(d, status)) for d in expected.days]
    assert page.day_axis.count() == len(expected.days)
    assert page.message_model.total == expected.figures.total or page.error_code is not None


def test_no_account(open_page) -> None:
    """Without an account: nothing to export, no sample history, the message says so."""
    page = open_page(None)
    assert page.message.text() == "No account selected"
    assert not page.export_csv_button.isEnabled() and not page.save_chart_button.isEnabled()
    assert page.generate_button.isHidden() and page.simulated.isHidden()


def test_filters_change_figures_and_chart(qtbot, open_page, history: PageContext) -> None:
    """30 days shows every generated message; 7 days fewer; a status shows only that status;
    each time the figures, the chart's bars and the failure-rate line follow."""
    page = open_page(history)
    assert not page.simulated.isHidden() and not page.generate_button.isHidden()
    assert_shows(page, history)
    month = page.report.figures
    assert month.total > 0 and month.failed > 0
    assert sum(sum(chart_values(page, s)) for s in STATUSES) == month.total
    failed_per_day = chart_values(page, "failed")
    points = page.rate_series.points()
    assert len(points) == len(failed_per_day)
    busiest = max(range(len(points)), key=lambda i: failed_per_day[i])
    day_total = sum(chart_values(page, s)[busiest] for s in STATUSES)
    assert points[busiest].y() == pytest.approx(100 * failed_per_day[busiest] / day_total)

    reload_with(qtbot, page, lambda: page.period_combo.setCurrentIndex(
        page.period_combo.findData(7)))
    assert_shows(page, history)
    assert 0 < page.report.figures.total < month.total
    assert page.day_axis.count() <= 8

    reload_with(qtbot, page, lambda: page.status_combo.setCurrentIndex(
        page.status_combo.findData("failed")))
    assert_shows(page, history)
    assert figure_count(page, "failed") == page.report.figures.total > 0
    assert all(figure_count(page, s) == 0 for s in STATUSES if s != "failed")
    assert sum(chart_values(page, "delivered")) == 0


def test_custom_period(qtbot, open_page, history: PageContext) -> None:
    """Custom shows the from/to dates; the chart has one bar per day of the chosen days."""
    page = open_page(history)
    assert page.from_date.isHidden()
    reload_with(qtbot, page, lambda: page.period_combo.setCurrentIndex(
        page.period_combo.findData(None)))
    assert not page.from_date.isHidden() and not page.to_date.isHidden()
    to_day = page.to_date.date()
    reload_with(qtbot, page, lambda: page.from_date.setDate(to_day.addDays(-2)))
    flt = page.current_filter()
    assert (flt.until - flt.since).days == 3 and page.day_axis.count() == 3
    assert_shows(page, history)


def test_newest_filter_wins(qtbot, open_page, history: PageContext) -> None:
    """Two quick filter changes: the first load's result arrives but is dropped, the page shows
    the second filter."""
    page = open_page(history)
    shown: list[int] = []
    page.refreshed.connect(lambda: shown.append(page.day_axis.count()))
    with qtbot.waitSignal(page.refreshed, timeout=WAIT):
        page.period_combo.setCurrentIndex(page.period_combo.findData(7))
        page.period_combo.setCurrentIndex(page.period_combo.findData(90))
    history.storage_pool.waitForDone(WAIT)
    qtbot.wait(50)  # the 7-day load's result has arrived by now, and must have been dropped
    assert len(shown) == 1 and shown[0] >= 90
    assert_shows(page, history)


def test_sender_and_template_filters(qtbot, open_page, history: PageContext) -> None:
    """The choices come from the stored history; choosing one narrows figures and list."""
    page = open_page(history)
    qtbot.waitUntil(lambda: page.template_combo.count() > 1, timeout=WAIT)
    total = page.report.figures.total
    reload_with(qtbot, page, lambda: page.template_combo.setCurrentIndex(1))
    assert page.current_filter().template_name == page.template_combo.itemText(1)
    assert_shows(page, history)
    assert 0 < page.report.figures.total < total
    assert {row.template for row in page.message_model.rows} == {page.template_combo.itemText(1)}

    reload_with(qtbot, page, lambda: page.template_combo.setCurrentIndex(0))
    qtbot.waitUntil(lambda: page.sender_combo.count() > 1, timeout=WAIT)
    reload_with(qtbot, page, lambda: page.sender_combo.setCurrentIndex(1))
    sender = page.sender_combo.itemData(1)
    assert_shows(page, history)
    assert {row.phone_number_id for row in page.message_model.rows} == {sender}


def test_failure_group_filters_the_list(qtbot, open_page, history: PageContext) -> None:
    """Clicking a failure group lists exactly its messages; the figures keep every code; Show
    all codes lists everything again. The go-to buttons ask for the Templates/Senders page."""
    page = open_page(history)
    failures = page.report.failures
    assert failures and page.failures_table.rowCount() == len(failures)
    group = failures[0]
    assert page.failures_table.item(0, 0).text() == str(group.code)
    assert page.failures_table.item(0, 4).text() == (group.fix or "See Meta's error reference")
    with qtbot.waitSignal(page.list_refreshed, timeout=WAIT):
        page.failures_table.selectRow(0)
    assert page.error_code == group.code and page.tabs.currentIndex() == 1
    assert page.message_model.total == group.count
    assert page.message_model.rowCount() == min(group.count, PAGE_SIZE)
    assert {row.error_code for row in page.message_model.rows} == {group.code}
    assert page.report.figures.total == count_messages(
        history.store.engine, page.current_filter(with_error_code=False))

    if group.templates:
        with qtbot.waitSignal(page.action_requested, timeout=WAIT) as asked:
            qtbot.mouseClick(page.open_template_button, Qt.MouseButton.LeftButton)
        assert asked.args == ["open_templates"]
    if group.senders:
        with qtbot.waitSignal(page.action_requested, timeout=WAIT) as asked:
            qtbot.mouseClick(page.open_sender_button, Qt.MouseButton.LeftButton)
        assert asked.args == ["open_senders"]

    with qtbot.waitSignal(page.list_refreshed, timeout=WAIT):
        qtbot.mouseClick(page.clear_code_button, Qt.MouseButton.LeftButton)
    assert page.error_code is None
    assert page.message_model.total == page.report.figures.total


def test_list_pages_in_lazily(qtbot, open_page, history: PageContext) -> None:
    """The list opens with one page and fetches the next when asked (scrolling), newest first."""
    page = open_page(history)
    model = page.message_model
    assert model.total == MESSAGES and model.rowCount() == PAGE_SIZE
    assert model.canFetchMore()
    with qtbot.waitSignal(model.page_loaded, timeout=WAIT):
        model.fetchMore()
    assert model.rowCount() == 2 * PAGE_SIZE
    created = [row.created_at for row in model.rows]
    assert created == sorted(created, reverse=True)
    assert len({row.id for row in model.rows}) == 2 * PAGE_SIZE  # no page twice
    page.tabs.setCurrentIndex(1)
    with qtbot.waitSignal(model.page_loaded, timeout=WAIT):  # scrolling to the end asks too
        page.message_view.scrollToBottom()
    assert model.rowCount() == MESSAGES and not model.canFetchMore()


def select_message(qtbot, page: HealthPage, row: int) -> None:  # type: ignore[no-untyped-def]
    index = page.message_model.index(row, 0)
    with qtbot.waitSignal(page.timeline_shown, timeout=WAIT):
        page.message_view.selectionModel().select(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)


def test_timeline_shows_statuses_errors_and_raw_event(qtbot, open_page,
                                                      history: PageContext) -> None:
    """A failed message's timeline: its statuses, the error with its meaning, the signature
    flag and the raw event JSON, pretty-printed."""
    page = open_page(history)
    with qtbot.waitSignal(page.list_refreshed, timeout=WAIT):
        page.status_combo.blockSignals(True)
        page.status_combo.setCurrentIndex(page.status_combo.findData("failed"))
        page.status_combo.blockSignals(False)
        page._set_error_code(page.report.failures[0].code)
    message = page.message_model.rows[0]
    select_message(qtbot, page, 0)
    text = page.timeline.toPlainText()
    assert message.wamid in text
    assert "failed" in text and f"error {message.error_code}" in text
    assert "signature valid" in text.lower() or "SIGNATURE NOT VALID" in text
    assert "Raw event" in text and '\n  "' in text  # indented JSON
    assert message.wamid in text.split("Raw event", 1)[1]


def test_exports(qtbot, open_page, history: PageContext, tmp_path) -> None:
    """Export CSV writes the filtered list (one row a message), Export failures CSV the groups,
    Save chart PNG a real PNG; nothing is written when the path question is cancelled."""
    page = open_page(history)
    prompts = page.prompts
    prompts.path = None
    qtbot.mouseClick(page.export_csv_button, Qt.MouseButton.LeftButton)
    assert prompts.asked == [("save", "Export messages CSV")] and not list(tmp_path.glob("*.csv"))

    reload_with(qtbot, page, lambda: page.period_combo.setCurrentIndex(
        page.period_combo.findData(7)))
    messages_csv = tmp_path / "messages.csv"
    prompts.path = str(messages_csv)
    with qtbot.waitSignal(page.exported, timeout=WAIT) as written:
        qtbot.mouseClick(page.export_csv_button, Qt.MouseButton.LeftButton)
    assert written.args == [str(messages_csv)]
    rows = list(csv.reader(io.StringIO(messages_csv.read_text(encoding="utf-8"))))
    assert len(rows) - 1 == page.message_model.total == page.report.figures.total
    wamids = {row.wamid for row in page.message_model.rows}
    assert any(cell in wamids for cell in rows[1])

    failures_csv = tmp_path / "failures.csv"
    prompts.path = str(failures_csv)
    with qtbot.waitSignal(page.exported, timeout=WAIT):
        qtbot.mouseClick(page.export_failures_button, Qt.MouseButton.LeftButton)
    text = failures_csv.read_text(encoding="utf-8")
    for group in page.report.failures:
        assert str(group.code) in text and str(group.count) in text

    png = tmp_path / "chart.png"
    prompts.path = str(png)
    with qtbot.waitSignal(page.exported, timeout=WAIT):
        qtbot.mouseClick(page.save_chart_button, Qt.MouseButton.LeftButton)
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000


def test_quality_panel_highlights_a_paused_template(qtbot, open_page, ctx: PageContext) -> None:
    """A synced template Meta paused is listed flagged, highlighted, with the reason and its
    history (APPROVED → PAUSED); an approved one is not highlighted; the tab counts warnings."""
    from sqlalchemy.orm import Session

    from wa_console.store.models import MessageTemplate, QualityChange

    now = datetime.now(UTC)
    with Session(ctx.store.engine) as session, session.begin():
        session.add_all([
            MessageTemplate(account_id=ctx.account_id, meta_id="9001", name="spring_sale",
                            language="en_US", status="PAUSED", quality_score="RED",
                            synced_at=now, simulated=True),
            MessageTemplate(account_id=ctx.account_id, meta_id="9002", name="order_update",
                            language="en_US", status="APPROVED", quality_score="GREEN",
                            synced_at=now, simulated=True),
            QualityChange(account_id=ctx.account_id, subject="template", subject_key="9001",
                          subject_name="spring_sale (en_US)", field="status",
                          old_value="APPROVED", new_value="PAUSED", at=now, source="webhook",
                          simulated=True)])
    page = open_page(ctx)
    tree = page.quality_tree
    qtbot.waitUntil(lambda: tree.topLevelItemCount() >= 2, timeout=WAIT)
    nodes = {tree.topLevelItem(i).text(0): tree.topLevelItem(i)
             for i in range(tree.topLevelItemCount())}
    paused = nodes["Template: spring_sale (en_US)"]
    assert paused.background(0).color().name() == FLAGGED_BACKGROUND
    assert "PAUSED" in paused.text(1) and "PAUSED" in paused.text(2)
    assert paused.childCount() == 1 and "APPROVED → PAUSED" in paused.child(0).text(1)
    approved = nodes["Template: order_update (en_US)"]
    assert approved.background(0).color().name() != FLAGGED_BACKGROUND
    assert approved.text(2) == "" and approved.childCount() == 0
    assert page.tabs.tabText(2) == "Quality (1 warning)"


def test_generate_sample_history(qtbot, open_page, ctx: PageContext) -> None:
    """On a sandbox account the button fills simulated history and the page shows it."""
    page = open_page(ctx)
    assert page.report.figures.total == 0
    with qtbot.waitSignals([page.data_changed, page.refreshed], timeout=60000, order="strict"):
        qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.report.figures.total > 0, timeout=WAIT)
    assert page.message_model.total == page.report.figures.total


def test_live_account_has_no_sample_history(qtbot, open_page, ctx: PageContext) -> None:
    """A live account: no simulated label, no Generate button, and no way to fill it."""
    from dataclasses import replace

    live = replace(ctx, sandbox=False)
    page = open_page(live)
    assert page.simulated.isHidden() and page.generate_button.isHidden()
    page._on_generate_clicked()
    live.storage_pool.waitForDone(WAIT)
    assert count_messages(ctx.store.engine, page.current_filter()) == 0
