"""The template studio's editor: form, highlighted body, live lint, WhatsApp preview, payloads.

`TemplateEditor` edits one `TemplateDraft`. Everything it shows comes from the pure core
(`core/templates`): lint findings from `lint.lint`, the bubble from `preview.render`, the two
JSON documents from `payload.create_request` / `payload.send_request` (the same builder the
test send uses). It does no storage and no network; it announces what the rest of the studio
needs through signals:

    draft_changed(object): the draft, ~150 ms after the last edit (the autosave hook).
    submit_requested(object): the draft, when Submit is pressed (enabled only without errors).
    updated(): lint, preview and payloads were recomputed (tests wait on it).

Typing never waits on the recomputation: every edit only (re)starts a 0-ms single-shot timer,
so a burst of events (a paste, a keys fix touching several fields) computes once, after the
event loop has delivered them. Lint + preview + payloads take well under a millisecond.
"""

from __future__ import annotations

import dataclasses
import enum
import html
import json
from collections.abc import Sequence
from typing import Final

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QGuiApplication,
    QKeySequence,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from wa_console.core.schema import FieldSpec
from wa_console.core.templates import fields
from wa_console.core.templates.languages import LANGUAGE_CODES
from wa_console.core.templates.lint import QUICK_FIX_TAKE_KEYS, Finding, blocks_submit, lint
from wa_console.core.templates.model import (
    Button,
    ButtonType,
    Category,
    HeaderFormat,
    ParameterFormat,
    TemplateDraft,
)
from wa_console.core.templates.payload import PayloadError, create_request, send_request
from wa_console.core.templates.placeholders import (
    PlaceholderKind,
    placeholder_keys,
    scan,
)
from wa_console.core.templates.preview import Preview, render
from wa_console.core.validation import Severity
from wa_console.gui.binder import FormBinder

__all__ = ["BodyHighlighter", "TemplateEditor"]

AUTOSAVE_DELAY_MS: Final = 150
RECIPIENT: Final = "<recipient>"
SEVERITY_MARK: Final = {Severity.ERROR: "✖ Error", Severity.WARNING: "⚠ Warning"}
NEW_NAME: Final = "variable_name"  # what "new named variable" inserts, selected to type over

FINDING_ROLE: Final = Qt.ItemDataRole.UserRole
COL_SEVERITY, COL_FIELD, COL_MESSAGE = range(3)
# Buttons table columns.
B_TYPE, B_TEXT, B_TARGET, B_SAMPLE = range(4)
BUTTON_LABELS: Final = {ButtonType.QUICK_REPLY: "Quick reply", ButtonType.URL: "URL",
                        ButtonType.PHONE_NUMBER: "Phone"}

_VAR_COLOUR = QColor("#1565c0")
_BAD_COLOUR = QColor("#c62828")

PREVIEW_CSS: Final = """
.var { background-color: #e3f0fd; color: #0b3d91; }
.missing { background-color: #fde4e4; color: #9b1c1c; }
code { font-family: monospace; }
"""


def _split_keys(text: str) -> tuple[str, ...]:
    """"first_name, date" → ("first_name", "date"): ordered, blanks dropped."""
    return tuple(k for k in (part.strip() for part in text.split(",")) if k)


def _join_keys(keys: Sequence[str]) -> str:
    return ", ".join(keys)


class BodyHighlighter(QSyntaxHighlighter):
    """Colours the placeholders of a template text: valid ones blue and bold, brace problems
    (`{{ 1 }}`, `{name}`, stray `{{`) red with a wavy red underline. Uses `placeholders.scan`,
    the same scanner as the lint, so the colours and the findings always agree."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.valid_format = QTextCharFormat()
        self.valid_format.setForeground(_VAR_COLOUR)
        self.valid_format.setFontWeight(700)
        self.invalid_format = QTextCharFormat()
        self.invalid_format.setForeground(_BAD_COLOUR)
        self.invalid_format.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SpellCheckUnderline)
        self.invalid_format.setUnderlineColor(_BAD_COLOUR)

    def highlightBlock(self, text: str) -> None:
        result = scan(text)
        for p in result.placeholders:
            if p.kind is not PlaceholderKind.INVALID:
                self.setFormat(p.start, p.end - p.start, self.valid_format)
        for problem in result.problems:
            self.setFormat(problem.start, problem.end - problem.start, self.invalid_format)


class TemplateEditor(QWidget):
    """Edits one template draft; see the module docstring for the signals.

    `set_draft(draft)` loads a draft (clears undo history, emits no `draft_changed`);
    `draft()` returns the draft as edited; the record fields (core/templates/fields.py
    RECORD_FIELDS) are bound generically, and the read-only external ID is kept from the loaded
    draft.
    """

    draft_changed = Signal(object)
    submit_requested = Signal(object)
    updated = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base = TemplateDraft(name="", language="en_US", category=Category.UTILITY,
                                   body="")
        self._samples: dict[str, str] = {}
        self._sample_keys: tuple[str, ...] = ()
        self._findings: list[Finding] = []
        self._preview: Preview | None = None
        self._loading = False

        self._recompute_timer = QTimer(self)
        self._recompute_timer.setSingleShot(True)
        self._recompute_timer.setInterval(0)
        self._recompute_timer.timeout.connect(self.recompute)
        self._autosave_timer = QTimer(self)
        self._autosave_timer.setSingleShot(True)
        self._autosave_timer.setInterval(AUTOSAVE_DELAY_MS)
        self._autosave_timer.timeout.connect(self._emit_draft_changed)

        self._build_form()
        self._build_side()
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self._form_scroll)
        splitter.addWidget(self._side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self._form_scroll.setMinimumWidth(340)  # the scroll area's own hint is tiny
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._connect()
        self.set_draft(self._base)

    # --- construction ------------------------------------------------------------------------

    def _named(self, widget: QWidget, name: str, accessible: str) -> None:
        widget.setObjectName(f"studio.{name}")
        widget.setAccessibleName(accessible)

    def _build_form(self) -> None:
        form_widget = QWidget(self)
        form = QFormLayout(form_widget)

        self.name_edit = self._field(QLineEdit(form_widget), fields.NAME)
        self.language_combo = self._field(QComboBox(form_widget), fields.LANGUAGE)
        self.language_combo.setEditable(True)
        self.language_combo.addItems(sorted(LANGUAGE_CODES))
        self.language_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        # The choice combos carry the enum members as data (the draft's types).
        self.category_combo = self._choices(form_widget, fields.CATEGORY, Category)
        self.format_combo = self._choices(form_widget, fields.PARAMETER_FORMAT, ParameterFormat)
        self.header_combo = self._choices(form_widget, fields.HEADER_FORMAT, HeaderFormat)
        self.header_edit = self._field(QLineEdit(form_widget), fields.HEADER_TEXT)
        self.header_handle_edit = self._field(QLineEdit(form_widget), fields.HEADER_HANDLE)

        self.body_edit = self._field(QPlainTextEdit(form_widget), fields.BODY)
        self.body_edit.setPlaceholderText("Hello {{1}}, …")
        self.body_edit.setTabChangesFocus(True)
        self.body_edit.setMinimumHeight(120)
        self.highlighter = BodyHighlighter(self.body_edit.document())
        # Ctrl+Z is built in; Ctrl+Y redoes on every platform (Qt's own redo key varies).
        self.redo_action = QAction("Redo", self.body_edit)
        self.redo_action.setShortcut(QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_Y))
        self.redo_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.redo_action.triggered.connect(self.body_edit.redo)
        self.body_edit.addAction(self.redo_action)

        self.insert_button = QToolButton(form_widget)
        self._named(self.insert_button, "insert_variable", "Insert variable")
        self.insert_button.setText("Insert variable")
        self.insert_button.setToolTip("Insert the next variable at the cursor")
        self.insert_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.insert_menu = QMenu(self.insert_button)
        self.insert_button.setMenu(self.insert_menu)
        self.body_chars = QLabel(form_widget)
        self.body_chars.setObjectName("studio.body_chars")
        body_tools = QHBoxLayout()
        body_tools.addWidget(self.insert_button)
        body_tools.addStretch(1)
        body_tools.addWidget(self.body_chars)
        body_box = QVBoxLayout()
        body_box.addWidget(self.body_edit, 1)
        body_box.addLayout(body_tools)

        self.footer_edit = self._field(QLineEdit(form_widget), fields.FOOTER)
        self.header_keys_edit = self._field(QLineEdit(form_widget), fields.HEADER_KEYS)
        self.body_keys_edit = self._field(QLineEdit(form_widget), fields.BODY_KEYS)

        self.samples_table = QTableWidget(0, 2, form_widget)
        self._named(self.samples_table, "samples", "Sample values")
        self.samples_table.setHorizontalHeaderLabels(["Key", "Sample value"])
        self.samples_table.horizontalHeader().setStretchLastSection(True)
        self.samples_table.verticalHeader().hide()
        self.samples_table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.SelectedClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.samples_table.setMinimumHeight(90)

        self.buttons_table = QTableWidget(0, 4, form_widget)
        self._named(self.buttons_table, "buttons", "Buttons")
        self.buttons_table.setHorizontalHeaderLabels(
            ["Type", "Text", "URL / phone number", "URL sample"])
        self.buttons_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Stretch)
        self.buttons_table.verticalHeader().hide()
        self.buttons_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.buttons_table.setMinimumHeight(90)
        self.add_buttons: dict[ButtonType, QPushButton] = {}
        button_bar = QHBoxLayout()
        for kind, label in ((ButtonType.QUICK_REPLY, "Add quick reply"),
                            (ButtonType.URL, "Add URL"),
                            (ButtonType.PHONE_NUMBER, "Add phone")):
            push = QPushButton(label, form_widget)
            push.setObjectName(f"studio.add_{kind.value.lower()}")
            push.clicked.connect(lambda _=False, k=kind: self.add_button(k))
            self.add_buttons[kind] = push
            button_bar.addWidget(push)
        self.remove_button = QPushButton("Remove button", form_widget)
        self.remove_button.setObjectName("studio.remove_button")
        button_bar.addWidget(self.remove_button)
        button_bar.addStretch(1)
        buttons_box = QVBoxLayout()
        buttons_box.addWidget(self.buttons_table)
        buttons_box.addLayout(button_bar)

        for spec, widget, cell in (
                (fields.NAME, self.name_edit, None),
                (fields.LANGUAGE, self.language_combo, None),
                (fields.CATEGORY, self.category_combo, None),
                (fields.PARAMETER_FORMAT, self.format_combo, None),
                (fields.HEADER_FORMAT, self.header_combo, None),
                (fields.HEADER_TEXT, self.header_edit, None),
                (fields.HEADER_HANDLE, self.header_handle_edit, None),
                (fields.BODY, self.body_edit, body_box),
                (fields.FOOTER, self.footer_edit, None),
                (fields.HEADER_KEYS, self.header_keys_edit, None),
                (fields.BODY_KEYS, self.body_keys_edit, None)):
            form.addRow(self._buddy(spec.label, widget, form_widget), cell or widget)
        form.addRow("&Samples", self.samples_table)
        form.addRow(self._buddy("B&uttons", self.buttons_table, form_widget), buttons_box)
        # The platform's record fields: plain text, built from their declarations.
        record_box = QGroupBox("Platform record", form_widget)
        record_box.setObjectName("studio.record")
        self.record = FormBinder.build(record_box, fields.RECORD_FIELDS)
        form.addRow(record_box)

        self._form_scroll = QScrollArea(self)
        self._form_scroll.setWidgetResizable(True)
        self._form_scroll.setWidget(form_widget)

    def _field[W: QWidget](self, widget: W, spec: FieldSpec) -> W:
        """Name a content widget after its declaration and give it the declared help."""
        self._named(widget, spec.key, spec.title)
        widget.setToolTip(spec.help)
        if spec.placeholder and hasattr(widget, "setPlaceholderText"):
            widget.setPlaceholderText(spec.placeholder)
        return widget

    def _choices(self, parent: QWidget, spec: FieldSpec, kind: type[enum.Enum]) -> QComboBox:
        combo = self._field(QComboBox(parent), spec)
        for value, label in spec.choices:
            combo.addItem(label, kind(value))
        return combo

    @staticmethod
    def _buddy(text: str, buddy: QWidget, parent: QWidget) -> QLabel:
        label = QLabel(text, parent)
        label.setBuddy(buddy)
        return label

    def _build_side(self) -> None:
        self._side = QWidget(self)
        side = QVBoxLayout(self._side)
        side.setContentsMargins(0, 0, 0, 0)

        self.lint_tree = QTreeWidget(self._side)
        self._named(self.lint_tree, "lint", "Lint findings")
        self.lint_tree.setColumnCount(3)
        self.lint_tree.setHeaderLabels(["Severity", "Field", "Problem and fix"])
        self.lint_tree.setRootIsDecorated(False)
        self.lint_tree.setWordWrap(True)
        self.lint_tree.setAlternatingRowColors(True)
        self.lint_tree.setUniformRowHeights(False)
        for column, width in ((COL_SEVERITY, 90), (COL_FIELD, 80)):
            self.lint_tree.setColumnWidth(column, width)
        self.lint_status = QLabel(self._side)
        self.lint_status.setObjectName("studio.lint_status")
        self.take_keys_button = QPushButton("Take keys from the text", self._side)
        self.take_keys_button.setObjectName("studio.take_keys")
        self.take_keys_button.setToolTip(
            "Set the header and body parameter keys to the variables in the text, in order")
        self.submit_button = QPushButton("Submit to Meta…", self._side)
        self.submit_button.setObjectName("studio.submit")
        lint_bar = QHBoxLayout()
        lint_bar.addWidget(self.lint_status, 1)
        lint_bar.addWidget(self.take_keys_button)
        lint_bar.addWidget(self.submit_button)

        self.preview = QTextBrowser(self._side)
        self._named(self.preview, "preview", "WhatsApp preview")
        self.preview.setOpenLinks(False)
        self.preview.document().setDefaultStyleSheet(PREVIEW_CSS)

        payload = QWidget(self._side)
        payload_layout = QVBoxLayout(payload)
        self.create_json = self._json_pane(payload, "create_json", "Create-template request")
        self.send_json = self._json_pane(payload, "send_json", "Template send request")
        self.copy_create_button = QPushButton("Copy", payload)
        self.copy_create_button.setObjectName("studio.copy_create")
        self.copy_send_button = QPushButton("Copy", payload)
        self.copy_send_button.setObjectName("studio.copy_send")
        for title, pane, copy in (
                ("POST /{WABA-ID}/message_templates", self.create_json, self.copy_create_button),
                ("POST /{Phone-Number-ID}/messages (sample values)", self.send_json,
                 self.copy_send_button)):
            row = QHBoxLayout()
            row.addWidget(QLabel(title, payload), 1)
            row.addWidget(copy)
            payload_layout.addLayout(row)
            payload_layout.addWidget(pane, 1)

        self.tabs = QTabWidget(self._side)
        self.tabs.setObjectName("studio.tabs")
        self.tabs.addTab(self.preview, "Preview")
        self.tabs.addTab(payload, "Payloads")

        splitter = QSplitter(Qt.Orientation.Vertical, self._side)
        lint_box = QWidget(splitter)
        lint_layout = QVBoxLayout(lint_box)
        lint_layout.setContentsMargins(0, 0, 0, 0)
        lint_layout.addWidget(self.lint_tree, 1)
        lint_layout.addLayout(lint_bar)
        splitter.addWidget(lint_box)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 2)
        side.addWidget(splitter)

    def _json_pane(self, parent: QWidget, name: str, accessible: str) -> QPlainTextEdit:
        pane = QPlainTextEdit(parent)
        self._named(pane, name, accessible)
        pane.setReadOnly(True)
        pane.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        font = pane.font()
        font.setFamily("monospace")
        font.setStyleHint(font.StyleHint.Monospace)
        pane.setFont(font)
        return pane

    def _connect(self) -> None:
        for edit in (self.name_edit, self.header_edit, self.header_handle_edit,
                     self.footer_edit, self.header_keys_edit, self.body_keys_edit):
            edit.textChanged.connect(self._on_edited)
        self.language_combo.editTextChanged.connect(self._on_edited)
        for combo in (self.category_combo, self.format_combo, self.header_combo):
            combo.currentIndexChanged.connect(self._on_edited)
        self.header_combo.currentIndexChanged.connect(self._on_header_format_changed)
        self.body_edit.textChanged.connect(self._on_edited)
        self.record.on_changed = lambda _key: self._on_edited()
        self.samples_table.itemChanged.connect(self._on_sample_changed)
        self.buttons_table.itemChanged.connect(self._on_edited)
        self.remove_button.clicked.connect(self.remove_selected_button)
        self.insert_button.clicked.connect(self._on_insert_clicked)
        self.insert_menu.aboutToShow.connect(self._fill_insert_menu)
        self.lint_tree.itemClicked.connect(self._on_finding_activated)
        self.lint_tree.itemActivated.connect(self._on_finding_activated)
        self.take_keys_button.clicked.connect(self.take_keys_from_text)
        self.submit_button.clicked.connect(self._on_submit_clicked)
        self.copy_create_button.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.create_json.toPlainText()))
        self.copy_send_button.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.send_json.toPlainText()))

    # --- the draft ---------------------------------------------------------------------------

    def set_draft(self, draft: TemplateDraft) -> None:
        """Show `draft` (undo history starts afresh; `draft_changed` is not emitted)."""
        self._loading = True
        try:
            self._base = draft
            self._samples = dict(draft.samples)
            self.name_edit.setText(draft.name)
            self.language_combo.setEditText(draft.language)
            self._select(self.category_combo, draft.category)
            self._select(self.format_combo, draft.parameter_format)
            self._select(self.header_combo, draft.header_format)
            self.header_edit.setText(draft.header_text)
            self.header_handle_edit.setText(draft.header_handle)
            self.body_edit.setPlainText(draft.body)  # also clears the undo stack
            self.footer_edit.setText(draft.footer)
            self.header_keys_edit.setText(_join_keys(draft.header_keys))
            self.body_keys_edit.setText(_join_keys(draft.body_keys))
            self.record.load({spec.key: getattr(draft, spec.key)
                              for spec in fields.RECORD_FIELDS}, {})
            with QSignalBlocker(self.buttons_table):
                self.buttons_table.setRowCount(0)
                for button in draft.buttons:
                    self._append_button_row(button)
            self._sample_keys = ()
        finally:
            self._loading = False
        self._autosave_timer.stop()
        self._on_header_format_changed()
        self.recompute()

    def draft(self) -> TemplateDraft:
        """The draft as currently edited."""
        header_format = self.header_combo.currentData()
        keys = self._keys_for_samples()
        samples = {k: v for k, v in self._samples.items() if v}
        record = self.record.values()
        return dataclasses.replace(
            self._base,
            **{spec.key: str(record[spec.key] or "").strip()
               for spec in fields.STORED_RECORD_FIELDS},
            name=self.name_edit.text(),
            language=self.language_combo.currentText().strip(),
            category=self.category_combo.currentData(),
            body=self.body_edit.toPlainText(),
            parameter_format=self.format_combo.currentData(),
            header_format=header_format,
            header_text=self.header_edit.text(),
            header_handle=self.header_handle_edit.text().strip(),
            footer=self.footer_edit.text(),
            buttons=self._buttons(),
            header_keys=_split_keys(self.header_keys_edit.text()),
            body_keys=_split_keys(self.body_keys_edit.text()),
            samples={k: samples[k] for k in (*keys, *samples) if k in samples},
        )

    def findings(self) -> list[Finding]:
        """The lint findings shown (as of the last recomputation)."""
        return list(self._findings)

    def current_preview(self) -> Preview | None:
        return self._preview

    @staticmethod
    def _select(combo: QComboBox, value: object) -> None:
        index = combo.findData(value)
        combo.setCurrentIndex(max(index, 0))

    # --- buttons -----------------------------------------------------------------------------

    def _append_button_row(self, button: Button) -> None:
        table = self.buttons_table
        row = table.rowCount()
        table.insertRow(row)
        kind = QTableWidgetItem(BUTTON_LABELS[button.type])
        kind.setData(Qt.ItemDataRole.UserRole, button.type)
        kind.setFlags(kind.flags() & ~Qt.ItemFlag.ItemIsEditable)
        table.setItem(row, B_TYPE, kind)
        table.setItem(row, B_TEXT, QTableWidgetItem(button.text))
        target = button.url if button.type is ButtonType.URL else button.phone_number
        target_item = QTableWidgetItem(target)
        sample_item = QTableWidgetItem(button.url_sample)
        if button.type is ButtonType.QUICK_REPLY:
            target_item.setFlags(target_item.flags() & ~Qt.ItemFlag.ItemIsEditable)
        if button.type is not ButtonType.URL:
            sample_item.setFlags(sample_item.flags() & ~Qt.ItemFlag.ItemIsEditable)
        table.setItem(row, B_TARGET, target_item)
        table.setItem(row, B_SAMPLE, sample_item)

    def add_button(self, kind: ButtonType) -> None:
        """Append a button of `kind` with placeholder text and start editing its label."""
        defaults = {ButtonType.QUICK_REPLY: Button(kind, "OK"),
                    ButtonType.URL: Button(kind, "Open", url="https://"),
                    ButtonType.PHONE_NUMBER: Button(kind, "Call us", phone_number="+")}
        with QSignalBlocker(self.buttons_table):
            self._append_button_row(defaults[kind])
        self.buttons_table.setCurrentCell(self.buttons_table.rowCount() - 1, B_TEXT)
        self._on_edited()

    def remove_selected_button(self) -> None:
        row = self.buttons_table.currentRow()
        if row < 0:
            return
        self.buttons_table.removeRow(row)
        self._on_edited()

    def _buttons(self) -> tuple[Button, ...]:
        table = self.buttons_table
        out = []
        for row in range(table.rowCount()):
            kind_item = table.item(row, B_TYPE)
            if kind_item is None:
                continue
            kind = kind_item.data(Qt.ItemDataRole.UserRole)
            text, target, sample = (
                (table.item(row, c).text() if table.item(row, c) else "")
                for c in (B_TEXT, B_TARGET, B_SAMPLE))
            if kind is ButtonType.URL:
                out.append(Button(kind, text, url=target.strip(), url_sample=sample))
            elif kind is ButtonType.PHONE_NUMBER:
                out.append(Button(kind, text, phone_number=target.strip()))
            else:
                out.append(Button(kind, text))
        return tuple(out)

    # --- samples -----------------------------------------------------------------------------

    def _keys_for_samples(self) -> tuple[str, ...]:
        """The sample rows: header keys (TEXT headers) then body keys, each key once."""
        keys: list[str] = []
        if self.header_combo.currentData() is HeaderFormat.TEXT:
            keys.extend(_split_keys(self.header_keys_edit.text()))
        keys.extend(_split_keys(self.body_keys_edit.text()))
        return tuple(dict.fromkeys(keys))

    def _sync_sample_rows(self) -> None:
        keys = self._keys_for_samples()
        if keys == self._sample_keys:
            return
        self._sample_keys = keys
        table = self.samples_table
        with QSignalBlocker(table):
            table.setRowCount(len(keys))
            for row, key in enumerate(keys):
                key_item = QTableWidgetItem(key)
                key_item.setFlags(key_item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                table.setItem(row, 0, key_item)
                table.setItem(row, 1, QTableWidgetItem(self._samples.get(key, "")))

    def sample_row(self, key: str) -> int:
        """The samples-table row of `key`, or -1."""
        try:
            return self._sample_keys.index(key)
        except ValueError:
            return -1

    def _on_sample_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 1:
            return
        key_item = self.samples_table.item(item.row(), 0)
        if key_item is None:
            return
        self._samples[key_item.text()] = item.text()
        self._on_edited()

    # --- edits and recomputation -------------------------------------------------------------

    def _on_edited(self, *_args: object) -> None:
        if self._loading:
            return
        if not self._recompute_timer.isActive():
            self._recompute_timer.start()
        self._autosave_timer.start()  # restarts: fires 150 ms after the last edit

    def _emit_draft_changed(self) -> None:
        self.draft_changed.emit(self.draft())

    def _on_header_format_changed(self, *_args: object) -> None:
        fmt = self.header_combo.currentData()
        self.header_edit.setEnabled(fmt is HeaderFormat.TEXT or bool(self.header_edit.text()))
        self.header_keys_edit.setEnabled(fmt is HeaderFormat.TEXT)
        self.header_handle_edit.setEnabled(
            fmt in (HeaderFormat.IMAGE, HeaderFormat.VIDEO, HeaderFormat.DOCUMENT))

    def recompute(self) -> None:
        """Lint, preview and payloads for the current draft (normally via the 0-ms timer)."""
        self._recompute_timer.stop()
        self._sync_sample_rows()
        draft = self.draft()
        findings = lint(draft)
        self._findings = findings
        self._show_findings(findings)
        self._preview = render(draft)
        self.preview.setHtml(self._bubble_html(self._preview))
        self._set_pane(self.create_json, self._create_text(draft))
        self._set_pane(self.send_json, self._send_text(draft))
        self.body_chars.setText(f"{len(draft.body)} / 1024")
        self.updated.emit()

    def _show_findings(self, findings: list[Finding]) -> None:
        tree = self.lint_tree
        tree.clear()
        for finding in findings:
            where = finding.field if finding.index is None \
                else f"{finding.field} {finding.index + 1}"
            item = QTreeWidgetItem([SEVERITY_MARK[finding.severity], where,
                                    f"{finding.message}\nFix: {finding.fix}"])
            item.setData(COL_SEVERITY, FINDING_ROLE, finding)
            item.setForeground(COL_SEVERITY, _BAD_COLOUR if finding.is_error
                               else QColor("#7a4f00"))
            item.setToolTip(COL_MESSAGE, f"{finding.message}\nFix: {finding.fix}")
            tree.addTopLevelItem(item)
        errors = sum(f.is_error for f in findings)
        warnings = len(findings) - errors
        self.lint_status.setText(
            "No problems found" if not findings
            else f"{errors} error(s), {warnings} warning(s)")
        self.take_keys_button.setEnabled(
            any(f.quick_fix == QUICK_FIX_TAKE_KEYS for f in findings))
        self.submit_button.setEnabled(not blocks_submit(findings))

    @staticmethod
    def _set_pane(pane: QPlainTextEdit, text: str) -> None:
        if pane.toPlainText() != text:  # keep the scroll position when nothing changed
            pane.setPlainText(text)

    @staticmethod
    def _create_text(draft: TemplateDraft) -> str:
        try:
            return json.dumps(create_request(draft), indent=2, ensure_ascii=False)
        except (PayloadError, ValueError, AttributeError) as exc:
            return f"Cannot build the request: {exc}"

    @staticmethod
    def _send_text(draft: TemplateDraft) -> str:
        try:
            return json.dumps(send_request(draft, RECIPIENT), indent=2, ensure_ascii=False)
        except PayloadError as exc:
            return str(exc)

    @staticmethod
    def _bubble_html(preview: Preview) -> str:
        parts: list[str] = []
        if preview.header_media:
            parts.append(f'<p style="color:#54656f; background-color:#d1d7db;" align="center">'
                         f"{html.escape(preview.header_media)}</p>")
        if preview.header_text:
            parts.append(f"<p><b>{html.escape(preview.header_text)}</b></p>")
        parts.append(f"<p>{preview.body_html}</p>")
        if preview.footer:
            parts.append(f'<p style="color:#667781; font-size:small;">'
                         f"{html.escape(preview.footer)}</p>")
        rows = [f'<tr><td bgcolor="#ffffff">{"".join(parts)}</td></tr>']
        icons = {"quick_reply": "↩", "url": "↗", "phone_number": "☎"}
        for button in preview.buttons:
            title = html.escape(button.target) if button.target else ""
            rows.append(
                f'<tr><td bgcolor="#ffffff" align="center" title="{title}">'
                f'<span style="color:#027eb5;">{icons.get(button.kind, "")} '
                f"{html.escape(button.label)}</span></td></tr>")
        return ('<table width="100%" bgcolor="#efeae2" cellpadding="10"><tr><td>'
                '<table width="85%" cellspacing="2" cellpadding="8">'
                f'{"".join(rows)}</table></td></tr></table>')

    # --- actions -----------------------------------------------------------------------------

    def next_variable(self) -> str:
        """The placeholder "Insert variable" adds: `{{n+1}}` for the highest n in the body
        (positional drafts), `{{variable_name}}` for named ones."""
        if self.format_combo.currentData() is ParameterFormat.NAMED:
            return f"{{{{{NEW_NAME}}}}}"
        keys = placeholder_keys(self.body_edit.toPlainText(), ParameterFormat.POSITIONAL)
        return f"{{{{{len(keys) + 1}}}}}"

    def insert_variable(self, placeholder: str | None = None) -> None:
        """Insert `placeholder` (default: `next_variable()`) at the body's cursor, as one undo
        step; a new named variable's name is left selected so typing replaces it."""
        text = placeholder or self.next_variable()
        cursor = self.body_edit.textCursor()
        cursor.insertText(text)
        if text == f"{{{{{NEW_NAME}}}}}":
            end = cursor.position() - 2
            cursor.setPosition(end - len(NEW_NAME))
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        self.body_edit.setTextCursor(cursor)
        self.body_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_insert_clicked(self) -> None:
        self.insert_variable()

    def _fill_insert_menu(self) -> None:
        menu = self.insert_menu
        menu.clear()
        body = self.body_edit.toPlainText()
        if self.format_combo.currentData() is ParameterFormat.NAMED:
            for name in placeholder_keys(body, ParameterFormat.NAMED):
                menu.addAction(f"{{{{{name}}}}}",
                               lambda n=name: self.insert_variable(f"{{{{{n}}}}}"))
            for key in _split_keys(self.body_keys_edit.text()):
                if key not in placeholder_keys(body, ParameterFormat.NAMED):
                    menu.addAction(f"{{{{{key}}}}}",
                                   lambda n=key: self.insert_variable(f"{{{{{n}}}}}"))
            menu.addAction("New named variable", lambda: self.insert_variable(
                f"{{{{{NEW_NAME}}}}}"))
        else:
            nxt = self.next_variable()
            menu.addAction(f"Next variable {nxt}", lambda: self.insert_variable(nxt))
            for key in placeholder_keys(body, ParameterFormat.POSITIONAL):
                menu.addAction(f"Repeat {{{{{key}}}}}",
                               lambda k=key: self.insert_variable(f"{{{{{k}}}}}"))

    def take_keys_from_text(self) -> None:
        """The one-click fix for a keys mismatch: keys = the placeholders, in order."""
        fmt = self.format_combo.currentData()
        body_keys = placeholder_keys(self.body_edit.toPlainText(), fmt)
        header_keys = placeholder_keys(self.header_edit.text(), fmt) \
            if self.header_combo.currentData() is HeaderFormat.TEXT else ()
        self.header_keys_edit.setText(_join_keys(header_keys))
        self.body_keys_edit.setText(_join_keys(body_keys))

    def _field_widget(self, field: str) -> QWidget | None:
        return {
            "name": self.name_edit, "language": self.language_combo,
            "category": self.category_combo, "header": self.header_edit,
            "body": self.body_edit, "footer": self.footer_edit, "buttons": self.buttons_table,
            "header_keys": self.header_keys_edit, "body_keys": self.body_keys_edit,
            "samples": self.samples_table,
        }.get(field) or self.record.widgets.get(field)

    def jump_to(self, finding: Finding) -> None:
        """Focus the field of `finding` and select its span (body: the text cursor)."""
        widget = self._field_widget(finding.field)
        if widget is None:
            return
        if finding.field == "body" and finding.span is not None:
            start, end = finding.span
            length = len(self.body_edit.toPlainText())
            cursor = self.body_edit.textCursor()
            cursor.setPosition(min(start, length))
            cursor.setPosition(min(end, length), QTextCursor.MoveMode.KeepAnchor)
            self.body_edit.setTextCursor(cursor)
            self.body_edit.ensureCursorVisible()
        elif isinstance(widget, QLineEdit) and finding.span is not None:
            start, end = finding.span
            widget.setSelection(start, max(end - start, 0))
        elif finding.field == "buttons" and finding.index is not None:
            self.buttons_table.setCurrentCell(finding.index, B_TEXT)
        widget.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_finding_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        finding = item.data(COL_SEVERITY, FINDING_ROLE)
        if isinstance(finding, Finding):
            self.jump_to(finding)

    def _on_submit_clicked(self) -> None:
        if self._recompute_timer.isActive():
            self.recompute()
        if blocks_submit(self._findings):
            self.submit_button.setEnabled(False)
            return
        self.submit_requested.emit(self.draft())
