"""The Delivery health page: what happened to the messages sent, and what to fix before the
next campaign.

Filters (period, sender, template, status) drive everything below them: the headline figures
(sent, delivered, read, failed, unconfirmed, each with its rate), a chart of the statuses per day
(stacked bars) with the failure rate as a line, the failures grouped by Meta error code with their
meaning and fix, and the message list (paged lazily: fast at 200,000 rows) with the selected
message's timeline (every status, its errors explained, the signature-valid flag and the raw
event). Clicking a failure group narrows the list to that code. The quality panel shows phone
numbers and templates with their current rating and history; paused, disabled or RED ones are
highlighted with the reason. Exports: the filtered list and the failures as CSV, the chart as PNG.

All storage work runs on `ctx.storage_pool` through `gui.tasks` (`LatestOnly`: a slow load of an
older filter never overwrites a newer one); paths are asked through the main window's
`Prompts` (scripted in tests).

Signals:
    data_changed(): sample history was generated (other pages refresh).
    action_requested(str): open another page ("open_templates", "open_senders").
    refreshed(): figures, chart, failures and the list's first page are on screen (or the error).
    list_refreshed(): the message list was reloaded alone (a failure group was clicked).
    timeline_shown(): the selected message's timeline is shown.
    exported(str): a file was written (its path).
    action_failed(str): a load, export or generation failed; the message is shown inline.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSet,
    QChart,
    QChartView,
    QLineSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QDate, QItemSelection, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from wa_console.core.health import BUCKETS, UNCONFIRMED_AFTER
from wa_console.core.readiness import Action
from wa_console.gui.health_models import PAGE_SIZE, MessageListModel, utc_text
from wa_console.gui.pages import PageContext
from wa_console.gui.pages.phones import BAD, GOOD, NEUTRAL, WARN
from wa_console.gui.prompts import WindowPrompts
from wa_console.gui.tasks import LatestOnly, run_task, while_alive
from wa_console.gui.widgets import read_only_table, simulated_badge

STATUSES: Final = BUCKETS  # the figure names, in display order
STATUS_COLOURS: Final = {"sent": "#90a4ae", "delivered": "#4caf50", "read": "#1b5e20",
                         "failed": BAD, "unconfirmed": "#ffb300"}
PERIODS: Final = (("Last 7 days", 7), ("Last 30 days", 30), ("Last 90 days", 90),
                  ("Custom…", None))
DEFAULT_PERIOD_DAYS: Final = 30
UNCONFIRMED_TIP: Final = ("Unconfirmed = no delivered, read or failed status {after} after "
                          "sending: never assume delivered. Check the webhook subscription and "
                          "the receiver; the message may not have reached the recipient.")
FAILURE_COLUMNS: Final = ("Code", "Title", "Count", "Meaning", "What to do", "Templates",
                          "Senders")
QUALITY_COLUMNS: Final = ("Item", "Current", "Warning")
FLAGGED_BACKGROUND: Final = "#fdecea"
SAMPLE_MESSAGES: Final = 2000
NO_ACCOUNT_TEXT: Final = "No account selected"
NO_QUALITY_TEXT: Final = ("No phone numbers or templates synced yet: run Sync channel account and "
                          "Sync templates on the Verify & sync page to see their quality.")


@dataclass(frozen=True)
class _Choices:
    filter_choices: Any
    quality: list[Any]


@dataclass(frozen=True)
class _ListData:
    list_filter: Any  # the HealthFilter the rows were read with: later pages use it too
    total: int
    first_rows: list[Any]


@dataclass(frozen=True)
class _ReportData:
    report: Any
    listing: _ListData


def _bold(label: QLabel, scale: float = 1.0) -> QLabel:
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * scale)
    label.setFont(font)
    return label


def _cell(text: str, tip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    item.setToolTip(tip or text)
    return item


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _explained_errors(errors: Sequence[Any]) -> list[str]:
    """Each error of a status as Meta sent it, with the catalog's meaning and fix."""
    from wa_console.core.errors import explain

    lines = []
    for error in errors:
        error_dict = error if isinstance(error, dict) else {"code": error}
        code = error_dict.get("code")
        title = error_dict.get("title") or error_dict.get("message") or ""
        lines.append(f"    error {code}: {title}".rstrip(": "))
        info = explain(code if isinstance(code, int) else None)
        if info is not None:
            lines.append(f"      meaning: {info.meaning}")
            lines.append(f"      what to do: {info.action}")
    return lines


def _pretty_json(raw: Any) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes | bytearray) else str(raw)
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text  # stored as received; show it as it is


def timeline_text(timeline: Any) -> str:
    """The message timeline as the details pane shows it."""
    message = timeline.message
    lines = [f"Message {message.wamid or '(no message ID)'}",
             f"  to {message.recipient} from {message.phone_number_id or '?'}"
             f" · template {message.template or '-'}",
             f"  created {utc_text(message.created_at)} UTC · latest status {message.status}", ""]
    if not timeline.statuses:
        lines.append("No status received yet.")
    for status in timeline.statuses:
        signed = "signature valid" if status.signature_valid else "SIGNATURE NOT VALID"
        lines.append(f"{utc_text(status.timestamp)} UTC  {status.status:<10} "
                     f"(received {utc_text(status.received_at)} UTC, {signed})")
        lines.extend(_explained_errors(status.errors or ()))
    for event in timeline.events:
        signed = "signature valid" if event.signature_valid else "SIGNATURE NOT VALID"
        lines += ["", f"Raw event {event.event_id} (received {utc_text(event.received_at)} UTC, "
                  f"{signed}):", _pretty_json(event.raw_body)]
    return "\n".join(lines)


def _quality_current(current: dict[str, Any]) -> str:
    return " · ".join(f"{field.replace('_', ' ')} {value}"
                      for field, value in current.items() if value)


class HealthPage(QWidget):
    """Delivery health of the shown account (see the module docstring)."""

    prompts = WindowPrompts()

    data_changed = Signal()
    action_requested = Signal(str)
    refreshed = Signal()
    list_refreshed = Signal()
    timeline_shown = Signal()
    exported = Signal(str)
    action_failed = Signal(str)

    def __init__(self, parent: QWidget | None = None, prompts: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("healthPage")
        self.ctx: PageContext | None = None
        if prompts is not None:
            self.prompts = prompts
        self.report: Any = None
        self.choices: Any = None
        self.quality: list[Any] = []
        self.error_code: int | None = None
        self._loads = LatestOnly(self)
        self._list_loads = LatestOnly(self)
        self._choice_loads = LatestOnly(self)
        self._timeline_loads = LatestOnly(self)
        self._filling = False  # filling the combos must not reload once per item
        self.message_model = MessageListModel(parent=self)

        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(_bold(QLabel("Delivery health"), 1.25), 1)
        self.simulated = simulated_badge("These messages and statuses come from the sandbox "
                                         "(emulator or generated sample history), not from "
                                         "Meta.", self)
        self.simulated.hide()
        top.addWidget(self.simulated)
        self.generate_button = QPushButton("Generate sample history (simulated)")
        self.generate_button.setObjectName("generateHistoryButton")
        self.generate_button.setToolTip(
            f"Fill this sandbox account with {SAMPLE_MESSAGES:,} simulated messages over 30 "
            "days (statuses, failures, quality changes) to explore the page.")
        self.generate_button.clicked.connect(self._on_generate_clicked)
        self.generate_button.hide()
        top.addWidget(self.generate_button)
        outer.addLayout(top)

        outer.addLayout(self._build_filters())
        outer.addLayout(self._build_figures())
        self.message = QLabel(NO_ACCOUNT_TEXT, objectName="healthMessage")
        self.message.setWordWrap(True)
        outer.addWidget(self.message)

        self.tabs = QTabWidget(objectName="healthTabs")
        self.tabs.addTab(self._build_overview(), "Overview")
        self.tabs.addTab(self._build_messages(), "Messages")
        self.tabs.addTab(self._build_quality(), "Quality")
        outer.addWidget(self.tabs, 1)

        exports = QHBoxLayout()
        exports.addStretch(1)
        self.export_csv_button = QPushButton("Export CSV…", objectName="exportMessagesButton")
        self.export_csv_button.setToolTip("The filtered message list as CSV")
        self.export_csv_button.clicked.connect(self._on_export_messages_clicked)
        self.export_failures_button = QPushButton("Export failures CSV…",
                                                  objectName="exportFailuresButton")
        self.export_failures_button.clicked.connect(self._on_export_failures_clicked)
        self.save_chart_button = QPushButton("Save chart PNG…", objectName="saveChartButton")
        self.save_chart_button.clicked.connect(self._on_save_chart_clicked)
        for button in (self.export_csv_button, self.export_failures_button,
                       self.save_chart_button):
            exports.addWidget(button)
        outer.addLayout(exports)
        self._set_enabled()

    # --- building --------------------------------------------------------------------------------
    def _build_filters(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.period_combo = QComboBox(objectName="periodFilter")
        for text, days in PERIODS:
            self.period_combo.addItem(text, days)
        self.period_combo.setCurrentIndex(self.period_combo.findData(DEFAULT_PERIOD_DAYS))
        self.period_combo.currentIndexChanged.connect(self._on_period_changed)
        row.addWidget(QLabel("Period"))
        row.addWidget(self.period_combo)
        today = QDate.currentDate()
        self.from_date = QDateEdit(today.addDays(-DEFAULT_PERIOD_DAYS), objectName="fromDate")
        self.to_date = QDateEdit(today, objectName="toDate")
        for edit, tip in ((self.from_date, "From (UTC, inclusive)"),
                          (self.to_date, "To (UTC, inclusive)")):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setToolTip(tip)
            edit.dateChanged.connect(self._on_filter_changed)
            edit.hide()
            row.addWidget(edit)
        self.sender_combo = QComboBox(objectName="senderFilter")
        self.sender_combo.currentIndexChanged.connect(self._on_filter_changed)
        row.addWidget(QLabel("Sender"))
        row.addWidget(self.sender_combo, 1)
        self.template_combo = QComboBox(objectName="templateFilter")
        self.template_combo.setEditable(True)  # type a part of the name to find it
        self.template_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = self.template_combo.completer()
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.template_combo.currentIndexChanged.connect(self._on_filter_changed)
        row.addWidget(QLabel("Template"))
        row.addWidget(self.template_combo, 1)
        self.status_combo = QComboBox(objectName="statusFilter")
        self.status_combo.addItem("Any status", None)
        for status in STATUSES:
            self.status_combo.addItem(status.capitalize(), status)
        self.status_combo.setToolTip("The latest status of each message")
        self.status_combo.currentIndexChanged.connect(self._on_filter_changed)
        row.addWidget(QLabel("Status"))
        row.addWidget(self.status_combo)
        self._fill_choice_combos(None)
        return row

    def _build_figures(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.figure_labels: dict[str, QLabel] = {}
        for status in STATUSES:
            label = QLabel(objectName=f"figure_{status}")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setStyleSheet(f"QLabel {{ border-left: 4px solid {STATUS_COLOURS[status]}; "
                                "padding: 4px 10px; }")
            label.setToolTip(f"Messages whose latest status is {status}, and their share of "
                             "all messages in the filter")
            self.figure_labels[status] = label
            row.addWidget(label, 1)
        hours = f"{UNCONFIRMED_AFTER.total_seconds() / 3600:g} h"
        self.figure_labels["sent"].setToolTip(
            f"In flight: accepted by Meta less than {hours} ago, no delivered, read or failed "
            "status yet")
        self.figure_labels["unconfirmed"].setToolTip(UNCONFIRMED_TIP.format(after=hours))
        self._show_figures(None)
        return row

    def _build_overview(self) -> QWidget:
        self.chart = QChart()
        self.chart.setTitle("Statuses per day and failure rate")
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.bar_series = QStackedBarSeries()
        self.bar_sets: dict[str, QBarSet] = {}
        for status in STATUSES:
            bar_set = QBarSet(status.capitalize())
            bar_set.setColor(QColor(STATUS_COLOURS[status]))
            self.bar_sets[status] = bar_set
            self.bar_series.append(bar_set)
        self.rate_series = QLineSeries()
        self.rate_series.setName("Failure rate (%)")
        self.rate_series.setPen(QPen(QColor(BAD), 2))
        self.chart.addSeries(self.bar_series)
        self.chart.addSeries(self.rate_series)
        self.day_axis = QBarCategoryAxis()
        self.count_axis = QValueAxis()
        self.count_axis.setTitleText("Messages")
        self.count_axis.setLabelFormat("%d")
        self.rate_axis = QValueAxis()
        self.rate_axis.setTitleText("Failed %")
        self.rate_axis.setRange(0, 100)
        self.chart.addAxis(self.day_axis, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(self.count_axis, Qt.AlignmentFlag.AlignLeft)
        self.chart.addAxis(self.rate_axis, Qt.AlignmentFlag.AlignRight)
        self.bar_series.attachAxis(self.day_axis)
        self.bar_series.attachAxis(self.count_axis)
        # The line shares the day axis: point i sits on bar i.
        self.rate_series.attachAxis(self.day_axis)
        self.rate_series.attachAxis(self.rate_axis)
        self.chart_view = QChartView(self.chart, objectName="healthChart")
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumHeight(300)

        fit, stretch = QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.Stretch
        # Meaning and what to do get the room: they are what the admin acts on.
        self.failures_table = read_only_table(
            FAILURE_COLUMNS, "failuresTable", word_wrap=True,
            modes=(fit, QHeaderView.ResizeMode.Interactive, fit, stretch, stretch,
                   QHeaderView.ResizeMode.Interactive, QHeaderView.ResizeMode.Interactive))
        for column, width in ((1, 200), (5, 150), (6, 110)):
            self.failures_table.setColumnWidth(column, width)
        self.failures_table.setToolTip("Click a group to list its messages")
        self.failures_table.itemSelectionChanged.connect(self._on_failure_selected)
        go_row = QHBoxLayout()
        self.failures_note = QLabel("Failures grouped by Meta error code. Click one to list "
                                    "its messages.")
        self.failures_note.setWordWrap(True)
        go_row.addWidget(self.failures_note, 1)
        self.open_template_button = QPushButton("Go to template", objectName="openTemplateButton")
        self.open_template_button.setToolTip("Open the Templates page to fix the template this "
                                             "failure hits")
        self.open_template_button.clicked.connect(
            lambda: self.action_requested.emit(Action.OPEN_TEMPLATES.value))
        self.open_sender_button = QPushButton("Go to sender", objectName="openSenderButton")
        self.open_sender_button.setToolTip("Open the Senders page to fix the sender this "
                                           "failure hits")
        self.open_sender_button.clicked.connect(
            lambda: self.action_requested.emit(Action.OPEN_SENDERS.value))
        go_row.addWidget(self.open_template_button)
        go_row.addWidget(self.open_sender_button)

        box = QWidget()
        layout = QVBoxLayout(box)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.chart_view)
        failures = QWidget()
        failures_layout = QVBoxLayout(failures)
        failures_layout.setContentsMargins(0, 0, 0, 0)
        failures_layout.addLayout(go_row)
        failures_layout.addWidget(self.failures_table)
        splitter.addWidget(failures)
        splitter.setStretchFactor(0, 3)  # the chart is the overview; the groups scroll
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter)
        return box

    def _build_messages(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        row = QHBoxLayout()
        self.list_message = QLabel(objectName="listMessage")
        row.addWidget(self.list_message, 1)
        self.clear_code_button = QPushButton("Show all codes", objectName="clearCodeButton")
        self.clear_code_button.clicked.connect(lambda: self._set_error_code(None))
        self.clear_code_button.hide()
        row.addWidget(self.clear_code_button)
        layout.addLayout(row)
        self.message_model.page_failed.connect(self._show_list_error)
        self.message_view = QTableView(objectName="messageList")
        self.message_view.setModel(self.message_model)
        self.message_view.verticalHeader().hide()
        # Fixed row heights: the view never measures 200,000 rows.
        self.message_view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.message_view.verticalHeader().setDefaultSectionSize(
            self.message_view.fontMetrics().height() + 8)
        self.message_view.setWordWrap(False)
        self.message_view.horizontalHeader().setStretchLastSection(True)
        self.message_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.message_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.message_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.message_view.selectionModel().selectionChanged.connect(self._on_message_selected)
        self.timeline = QPlainTextEdit(objectName="messageTimeline")
        self.timeline.setReadOnly(True)
        self.timeline.setPlaceholderText("Select a message to see its timeline: every status, "
                                         "its errors and the raw event.")
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.message_view)
        splitter.addWidget(self.timeline)
        splitter.setSizes([600, 400])
        layout.addWidget(splitter, 1)
        return box

    def _build_quality(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        note = QLabel("Phone numbers and templates with their current quality and status; expand "
                      "a row for its history. Paused, disabled, RED or flagged items are "
                      "highlighted: fix them before a campaign runs into them.")
        note.setWordWrap(True)
        layout.addWidget(note)
        self.quality_tree = QTreeWidget(objectName="qualityTree")
        self.quality_tree.setColumnCount(len(QUALITY_COLUMNS))
        self.quality_tree.setHeaderLabels(list(QUALITY_COLUMNS))
        self.quality_tree.header().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.quality_tree, 1)
        self.quality_message = QLabel(NO_QUALITY_TEXT, objectName="qualityMessage")
        self.quality_message.setWordWrap(True)
        layout.addWidget(self.quality_message)
        return box

    # --- the page contract -----------------------------------------------------------------------
    def set_context(self, ctx: PageContext | None) -> None:
        """Show another account's delivery health (None: no account)."""
        self.ctx = ctx
        for loads in (self._loads, self._list_loads, self._choice_loads, self._timeline_loads):
            loads.next()
        self.message_model.pool = ctx.storage_pool if ctx else None
        self.error_code = None
        self.clear_code_button.hide()
        self._show_report(None)
        self.message_model.clear()
        self.timeline.clear()
        self._fill_choice_combos(None)
        self._fill_quality([])
        sandbox = bool(ctx and ctx.sandbox)
        self.simulated.setVisible(sandbox)
        self.generate_button.setVisible(sandbox)
        self._set_enabled()
        if ctx is None:
            self._show_message(NO_ACCOUNT_TEXT)
            return
        self._show_message("Loading…")
        self.refresh()

    def refresh(self) -> None:
        """Reload the figures and the list, then the filter choices and the quality panel."""
        ctx = self.ctx
        if ctx is None:
            return

        def work(_task: Any) -> _Choices:
            from wa_console.store.health import filter_choices, quality_overview

            engine, account = ctx.store.engine, ctx.account_id
            return _Choices(filter_choices(engine, account), quality_overview(engine, account))

        # The figures first: they are what the admin opened the page for, and the choices
        # (DISTINCT scans over every message) would delay them on the one-thread pool.
        self.reload()
        self._choice_loads.load(work, ctx.storage_pool, self._choices_loaded,
                                self._choices_failed)

    def current_filter(self, *, with_error_code: bool = True) -> Any:
        """The `HealthFilter` the widgets describe (None without an account)."""
        from wa_console.store.health import HealthFilter

        if self.ctx is None:
            return None
        days = self.period_combo.currentData()
        if days is None:
            since = datetime.combine(self.from_date.date().toPython(), time(), UTC)
            to_day: date = self.to_date.date().toPython()
            until = datetime.combine(to_day + timedelta(days=1), time(), UTC)
        else:
            until = datetime.now(UTC)
            since = until - timedelta(days=days)
        return HealthFilter(self.ctx.account_id, since, until,
                            phone_number_id=self.sender_combo.currentData(),
                            template_name=self._template_choice(),
                            error_code=self.error_code if with_error_code else None,
                            status=self.status_combo.currentData())

    def _template_choice(self) -> str | None:
        index = self.template_combo.currentIndex()
        return self.template_combo.itemData(index) if index >= 0 else None

    def reload(self) -> None:
        """Reload the figures, chart, failures and the list's first page for the filters."""
        ctx = self.ctx
        if ctx is None:
            return
        self._list_loads.next()  # a pending list-only load is older than this one
        # The figures and failure groups cover all codes; only the list narrows to a clicked one.
        report_filter, list_filter = (self.current_filter(with_error_code=False),
                                      self.current_filter())

        def work(_task: Any) -> _ReportData:
            from wa_console.store.health import health_report

            engine = ctx.store.engine
            return _ReportData(health_report(engine, report_filter),
                               _load_list(engine, list_filter))

        self._set_enabled()
        self._loads.load(work, ctx.storage_pool, self._report_loaded, self._load_failed)

    def _reload_list(self) -> None:
        ctx = self.ctx
        if ctx is None:
            return
        list_filter = self.current_filter()
        self._list_loads.load(lambda _task: _load_list(ctx.store.engine, list_filter),
                              ctx.storage_pool, self._list_loaded, self._list_load_failed)

    # --- showing ---------------------------------------------------------------------------------
    def _choices_loaded(self, choices: _Choices) -> None:
        self.choices = choices.filter_choices
        self._fill_choice_combos(choices.filter_choices)
        self._fill_quality(choices.quality)

    def _report_loaded(self, data: _ReportData) -> None:
        self._show_report(data.report)
        self._show_list(data.listing)
        figures = data.report.figures
        self._show_message(
            "No messages in this period." if figures.total == 0 else
            f"{figures.total:,} message(s) in the period; failure rate "
            f"{_percent(data.report.failure_rate)}.")
        self._set_enabled()
        self.refreshed.emit()

    def _list_loaded(self, listing: _ListData) -> None:
        self._show_list(listing)
        self.list_refreshed.emit()

    def _load_failed(self, exc: BaseException) -> None:
        text = f"Could not load the delivery health: {exc}"
        self._show_message(text)
        self.action_failed.emit(text)
        self.refreshed.emit()

    def _choices_failed(self, exc: BaseException) -> None:
        text = f"Could not load the filter choices and the quality panel: {exc}"
        self._show_message(text)
        self.action_failed.emit(text)

    def _list_load_failed(self, exc: BaseException) -> None:
        self._show_list_error(f"Could not load the messages: {exc}")
        self.list_refreshed.emit()

    def _show_list_error(self, text: str) -> None:
        self.list_message.setText(text)
        self.action_failed.emit(text)

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _fill_choice_combos(self, choices: Any) -> None:
        """The sender and template choices, keeping the current ones when they still exist."""
        sender, template = self.sender_combo.currentData(), self._template_choice()
        self._filling = True
        try:
            self.sender_combo.clear()
            self.sender_combo.addItem("All senders", None)
            self.template_combo.clear()
            self.template_combo.addItem("All templates", None)
            for phone_number_id, label in (choices.senders if choices else ()):
                self.sender_combo.addItem(f"{label} ({phone_number_id})", phone_number_id)
            for name in (choices.templates if choices else ()):
                self.template_combo.addItem(name, name)
            self.sender_combo.setCurrentIndex(max(self.sender_combo.findData(sender), 0))
            self.template_combo.setCurrentIndex(max(self.template_combo.findData(template), 0))
        finally:
            self._filling = False
        self.message_model.set_sender_labels(dict(choices.senders) if choices else {})
        if sender != self.sender_combo.currentData() or template != self._template_choice():
            self.reload()  # a chosen sender or template is gone: show them all

    def _show_figures(self, figures: Any) -> None:
        for status, label in self.figure_labels.items():
            if figures is None:
                label.setText(f"{status.capitalize()}\n–")  # noqa: RUF001 (an en dash)
                continue
            count = getattr(figures, status)
            label.setText(f"{status.capitalize()}\n{count:,} ({_percent(figures.rate(status))})")

    def _show_report(self, report: Any) -> None:
        self.report = report
        self._show_figures(report.figures if report else None)
        self._show_chart(report.days if report else ())
        self._fill_failures(report.failures if report else ())

    def _show_chart(self, days: Sequence[Any]) -> None:
        for status, bar_set in self.bar_sets.items():
            bar_set.remove(0, bar_set.count())
            bar_set.append([float(getattr(day, status)) for day in days])
        self.day_axis.clear()
        self.day_axis.append([f"{day.day:%m-%d}" for day in days])
        # Upright labels fit a week; a month or more only fits them turned.
        self.day_axis.setLabelsAngle(0 if len(days) <= 10 else -90)
        points = []
        for index, day in enumerate(days):
            total = sum(getattr(day, status) for status in STATUSES)
            points.append((float(index), 100.0 * day.failed / total if total else 0.0))
        self.rate_series.clear()
        for x, y in points:
            self.rate_series.append(x, y)
        highest = max((sum(getattr(day, s) for s in STATUSES) for day in days), default=0)
        self.count_axis.setRange(0, max(highest, 1))
        self.count_axis.applyNiceNumbers()

    def _fill_failures(self, failures: Sequence[Any]) -> None:
        table = self.failures_table
        table.blockSignals(True)  # refilling is not the admin clicking a group
        try:
            table.clearSelection()
            table.setRowCount(len(failures))
            for row, group in enumerate(failures):
                code = "" if group.code is None else str(group.code)
                cells = (_cell(code), _cell(group.title or ""), _cell(f"{group.count:,}"),
                         _cell(group.meaning or "Not in the error catalog"),
                         _cell(group.fix or "See Meta's error reference"),
                         _cell(", ".join(group.templates)), _cell(", ".join(group.senders)))
                cells[0].setForeground(QColor(BAD))
                for column, cell in enumerate(cells):
                    table.setItem(row, column, cell)
        finally:
            table.blockSignals(False)
        self.failures_note.setText(
            "No failures in this period." if not failures else
            "Failures grouped by Meta error code. Click one to list its messages; the buttons "
            "open the template or sender that needs the fix.")
        self._set_enabled()

    def selected_failure(self) -> Any | None:
        rows = {index.row() for index in self.failures_table.selectedIndexes()}
        failures = self.report.failures if self.report else ()
        return failures[rows.pop()] if len(rows) == 1 and max(rows) < len(failures) else None

    def _show_list(self, listing: _ListData) -> None:
        ctx = self.ctx
        # The first page's filter, not the widgets' now: "last 30 days" ends at the moment of
        # that read, so later pages continue the same list instead of shifting by new messages.
        list_filter = listing.list_filter
        loader = None
        if ctx is not None:
            engine = ctx.store.engine

            def loader(offset: int, limit: int) -> list[Any]:
                from wa_console.store.health import message_page

                return message_page(engine, list_filter, offset, limit)

        self.timeline.clear()
        self.message_model.reset(listing.total, listing.first_rows, loader)
        code = f" with error {self.error_code}" if self.error_code is not None else ""
        self.list_message.setText(f"{listing.total:,} message(s){code}, newest first.")

    def _fill_quality(self, items: Sequence[Any]) -> None:
        self.quality = list(items)
        tree = self.quality_tree
        tree.clear()
        for item in items:
            kind = "Phone" if item.subject == "phone" else "Template"
            node = QTreeWidgetItem([f"{kind}: {item.name}", _quality_current(item.current),
                                    item.flag_reason or ""])
            if item.flagged:
                for column in range(len(QUALITY_COLUMNS)):
                    node.setBackground(column, QBrush(QColor(FLAGGED_BACKGROUND)))
                    node.setToolTip(column, item.flag_reason or "Needs attention")
                node.setForeground(2, QBrush(QColor(BAD)))
            for change in item.changes:
                old = change.old_value or "(none)"
                child = QTreeWidgetItem([
                    f"{utc_text(change.at)} UTC ({change.source})",
                    f"{change.field.replace('_', ' ')}: {old} → {change.new_value or '(none)'}",
                    ""])
                child.setForeground(0, QBrush(QColor(NEUTRAL)))
                node.addChild(child)
            tree.addTopLevelItem(node)
        self.quality_message.setVisible(not items)
        flagged = sum(item.flagged for item in items)
        self.tabs.setTabText(2, f"Quality ({flagged} warning{'s' if flagged != 1 else ''})"
                             if flagged else "Quality")
        colour = WARN if flagged else GOOD
        self.tabs.tabBar().setTabTextColor(2, QColor(colour))

    def _set_enabled(self) -> None:
        has_report = self.ctx is not None and self.report is not None
        self.export_csv_button.setEnabled(has_report)
        self.export_failures_button.setEnabled(has_report and bool(self.report.failures))
        self.save_chart_button.setEnabled(has_report)
        failure = self.selected_failure() if has_report else None
        self.open_template_button.setEnabled(bool(failure and failure.templates))
        self.open_sender_button.setEnabled(bool(failure and failure.senders))
        self.generate_button.setEnabled(self.ctx is not None)

    # --- reacting ---------------------------------------------------------------------------------
    def _on_period_changed(self, _index: int) -> None:
        custom = self.period_combo.currentData() is None
        self.from_date.setVisible(custom)
        self.to_date.setVisible(custom)
        self._on_filter_changed()

    def _on_filter_changed(self, *_args: Any) -> None:
        if not self._filling:
            self.reload()

    def _on_failure_selected(self) -> None:
        self._set_enabled()
        failure = self.selected_failure()
        if failure is not None:
            self._set_error_code(failure.code)

    def _set_error_code(self, code: int | None) -> None:
        self.error_code = code
        self.clear_code_button.setVisible(code is not None)
        if code is None:
            self.failures_table.clearSelection()
        else:
            self.tabs.setCurrentIndex(1)  # the list is what the admin asked for
        self._reload_list()

    def _on_message_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.message_view.selectionModel().selectedRows()
        message = self.message_model.row_at(rows[0].row()) if rows else None
        ctx = self.ctx
        if message is None or ctx is None:
            return
        if not message.wamid:
            self.timeline.setPlainText("This message has no message ID: Meta never accepted it, "
                                       "so no status can arrive.")
            self.timeline_shown.emit()
            return

        def work(_task: Any) -> Any:
            from wa_console.store.health import message_timeline

            return message_timeline(ctx.store.engine, message.wamid)

        def shown(timeline: Any) -> None:
            self.timeline.setPlainText(timeline_text(timeline) if timeline is not None
                                       else f"Message {message.wamid} is no longer stored.")
            self.timeline_shown.emit()

        def failed(exc: BaseException) -> None:
            self.timeline.setPlainText(f"Could not load the timeline: {exc}")
            self.timeline_shown.emit()

        self._timeline_loads.load(work, ctx.storage_pool, shown, failed)

    # --- exports and sample data -------------------------------------------------------------
    def _write_file(self, path: str, write: Callable[[Any, Any], Any]) -> None:
        """Write `path` on the storage pool (`write(engine, stream)`), then report it."""
        ctx = self.ctx
        if ctx is None:
            return

        def work(_task: Any) -> None:
            # newline="": the csv module writes its own line ends
            with open(path, "w", encoding="utf-8", newline="") as stream:
                write(ctx.store.engine, stream)

        run_task(work, pool=ctx.storage_pool,
                 on_success=while_alive(self, lambda _r: self._exported(path)),
                 on_failure=while_alive(self, lambda exc: self._export_failed(path, exc)))

    def _exported(self, path: str) -> None:
        self._show_message(f"Saved {path}")
        self.exported.emit(path)

    def _export_failed(self, path: str, exc: BaseException) -> None:
        text = f"Could not write {path}: {exc}. Choose a folder you can write to."
        self._show_message(text)
        self.action_failed.emit(text)

    def _on_export_messages_clicked(self) -> None:
        if self.ctx is None:
            return
        path = self.prompts.save_path("Export messages CSV", "delivery-messages.csv",
                                      "CSV files (*.csv)")
        if not path:
            return
        list_filter = self.current_filter()

        def write(engine: Any, stream: Any) -> None:
            from wa_console.store.health import write_messages_csv

            write_messages_csv(engine, list_filter, stream)

        self._write_file(path, write)

    def _on_export_failures_clicked(self) -> None:
        report = self.report
        if report is None:
            return
        path = self.prompts.save_path("Export failures CSV", "delivery-failures.csv",
                                      "CSV files (*.csv)")
        if not path:
            return

        def write(_engine: Any, stream: Any) -> None:
            from wa_console.store.health import write_failures_csv

            write_failures_csv(report, stream)

        self._write_file(path, write)

    def _on_save_chart_clicked(self) -> None:
        if self.report is None:
            return
        path = self.prompts.save_path("Save chart", "delivery-chart.png", "PNG images (*.png)")
        if not path:
            return
        # grab() renders the widget: GUI thread only (a small image, no storage involved)
        if self.chart_view.grab().save(path, "PNG"):
            self._exported(path)
        else:
            self._export_failed(path, OSError("the image could not be saved"))

    def _on_generate_clicked(self) -> None:
        ctx = self.ctx
        if ctx is None or not ctx.sandbox:
            return  # simulated history never goes into a live account
        self.generate_button.setEnabled(False)
        self._show_message(f"Generating {SAMPLE_MESSAGES:,} simulated messages…")

        def work(_task: Any) -> None:
            from wa_console.sandbox.history import generate_history

            generate_history(ctx.store.engine, ctx.account_id, messages=SAMPLE_MESSAGES)

        def done(_result: Any) -> None:
            self.data_changed.emit()
            self.refresh()

        def failed(exc: BaseException) -> None:
            self._set_enabled()
            text = f"Could not generate the sample history: {exc}"
            self._show_message(text)
            self.action_failed.emit(text)

        run_task(work, pool=ctx.storage_pool, on_success=while_alive(self, done),
                 on_failure=while_alive(self, failed))


def _load_list(engine: Any, list_filter: Any) -> _ListData:
    """The list's total and first page (storage pool)."""
    from wa_console.store.health import count_messages, message_page

    return _ListData(list_filter, count_messages(engine, list_filter),
                     message_page(engine, list_filter, 0, PAGE_SIZE))
