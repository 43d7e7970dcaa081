"""Schema → widgets, generically: one accessor pair per `Kind`, no per-field load/save code.

`FormBinder.build(parent, specs)` lays fields out in a QFormLayout (label, widget, help tooltip,
inline message under the field). Widgets are bound by objectName == spec.key, so a page designed
in `ui/*.ui` with the same objectNames binds through `FormBinder.bind(container, specs)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from wa_console.core.credentials import KEEP, CredentialRef, SecretEdit
from wa_console.core.schema import FieldSpec, Kind

if TYPE_CHECKING:
    from wa_console.core.validation import FieldIssue

SOURCE_KEYRING = "keyring"
SOURCE_ENV = "env"


class SecretField(QWidget):
    """A secret with set / change / clear semantics.

    The stored secret is never loaded into the widget: the input starts empty and its placeholder
    says what is stored. Typing a value means "change"; Clear means "forget on save"; the source
    can also be an environment variable, whose *name* is typed instead.

    Signals:
        edited(): the pending edit changed.
    """

    edited = Signal()

    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self._ref: CredentialRef | None = None
        self._cleared = False
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.source = QComboBox(self)
        self.source.setObjectName(f"{spec.key}__source")
        self.source.addItem("OS keyring", SOURCE_KEYRING)
        self.source.addItem("Environment variable", SOURCE_ENV)
        self.source.setToolTip("Where the secret lives. The database only keeps a reference.")
        self.source.setAccessibleName(f"{spec.label} source")
        self.entry = QLineEdit(self)
        self.entry.setObjectName(f"{spec.key}__entry")
        self.entry.setEchoMode(QLineEdit.EchoMode.Password)
        self.entry.setAccessibleName(spec.label)
        self.reveal = QAction(QIcon(":/icons/eye.svg"), "Show what you typed", self.entry)
        self.reveal.setCheckable(True)
        self.reveal.toggled.connect(self._on_reveal_toggled)
        self.entry.addAction(self.reveal, QLineEdit.ActionPosition.TrailingPosition)
        self.clear_button = QToolButton(self)
        self.clear_button.setObjectName(f"{spec.key}__clear")
        self.clear_button.setText("Clear")
        self.clear_button.setCheckable(True)
        self.clear_button.setToolTip("Forget this secret when you save")
        layout.addWidget(self.source)
        layout.addWidget(self.entry, 1)
        layout.addWidget(self.clear_button)
        self.setFocusProxy(self.entry)
        # Keyboard users land in the input first; the source and Clear follow.
        QWidget.setTabOrder(self.entry, self.source)
        QWidget.setTabOrder(self.source, self.clear_button)
        self.entry.textEdited.connect(self._on_entry_edited)
        self.source.currentIndexChanged.connect(self._on_source_changed)
        self.clear_button.toggled.connect(self._on_clear_toggled)
        self._refresh()

    # --- state --------------------------------------------------------------------------------
    def load(self, ref: CredentialRef | None) -> None:
        """Show what is stored (a reference only); any pending edit is dropped."""
        self._ref = ref
        self._cleared = False
        with QSignalBlocker(self.source), QSignalBlocker(self.clear_button):
            self.source.setCurrentIndex(1 if ref and ref.scheme == "env" else 0)
            self.clear_button.setChecked(False)
        self.entry.setText(ref.name if ref and ref.scheme == "env" else "")
        self.reveal.setChecked(False)
        self._refresh()

    def edit(self) -> SecretEdit:
        """The pending change: keep, set(value), clear or env(variable)."""
        if self._cleared:
            return SecretEdit("clear")
        text = self.entry.text().strip()
        if self.source.currentData() == SOURCE_ENV:
            if self._ref and self._ref.scheme == "env" and text == self._ref.name:
                return KEEP
            return SecretEdit("env", text) if text else SecretEdit("clear")
        if text:
            return SecretEdit("set", text)
        if self._ref and self._ref.scheme == "env":
            return SecretEdit("clear")  # switched from env to keyring without typing a value
        return KEEP

    def state_text(self) -> str:
        ref = self._ref
        if self._cleared:
            return "Will be cleared when you save"
        if ref is None:
            return "Not set"
        return {
            "keyring": "Stored in the OS keyring",
            "env": f"Read from the environment variable {ref.name}",
            "session": "Kept in memory for this session only",
        }[ref.scheme]

    # --- slots --------------------------------------------------------------------------------
    def _on_reveal_toggled(self, shown: bool) -> None:
        self.entry.setEchoMode(QLineEdit.EchoMode.Normal if shown
                               else QLineEdit.EchoMode.Password)
        self.reveal.setIcon(QIcon(":/icons/eye-off.svg" if shown else ":/icons/eye.svg"))
        self.reveal.setText("Hide what you typed" if shown else "Show what you typed")

    def _on_entry_edited(self, _text: str) -> None:
        if self._cleared:
            with QSignalBlocker(self.clear_button):
                self.clear_button.setChecked(False)
            self._cleared = False
        self._refresh()
        self.edited.emit()

    def _on_source_changed(self, _index: int) -> None:
        self.entry.clear()
        self._refresh()
        self.edited.emit()

    def _on_clear_toggled(self, checked: bool) -> None:
        self._cleared = checked
        if checked:
            self.entry.clear()
        self._refresh()
        self.edited.emit()

    def _refresh(self) -> None:
        env = self.source.currentData() == SOURCE_ENV
        self.reveal.setVisible(not env)
        if env:
            self.entry.setEchoMode(QLineEdit.EchoMode.Normal)
            self.entry.setPlaceholderText("Variable name, e.g. WA_ACCESS_TOKEN")
        else:
            self._on_reveal_toggled(self.reveal.isChecked())
            stored = self._ref is not None and self._ref.scheme != "env"
            self.entry.setPlaceholderText(
                "Will be cleared when you save" if self._cleared
                else "Stored — type to replace" if stored
                else "Not set — paste the value")
        self.clear_button.setEnabled(self._ref is not None or self._cleared)
        self.setToolTip(f"{self.state_text()}\n\n{self.spec.help}")


# --- accessors per kind ----------------------------------------------------------------------

@dataclass(frozen=True)
class Accessor:
    create: Callable[[FieldSpec, QWidget], QWidget]
    get: Callable[[QWidget], object]
    set: Callable[[QWidget, object, FieldSpec], None]
    changed: Callable[[QWidget], object]  # the widget's "user changed me" signal


def _line_edit(spec: FieldSpec, parent: QWidget) -> QWidget:
    widget = QLineEdit(parent)
    widget.setPlaceholderText(spec.placeholder)
    widget.setReadOnly(spec.read_only)
    if spec.max_len:
        widget.setMaxLength(spec.max_len + 50)  # over the limit stays visible, so it can be fixed
    return widget


def _set_text(widget: QWidget, value: object, spec: FieldSpec) -> None:
    text = "" if value is None else str(value)
    if spec.kind is Kind.PHONE and text:
        from wa_console.core.validation import format_phone  # phonenumbers: not at start-up

        text = format_phone(text)
    widget.setText(text)  # type: ignore[attr-defined]


def _combo(spec: FieldSpec, parent: QWidget) -> QWidget:
    widget = QComboBox(parent)
    for value, label in spec.choices:
        widget.addItem(label, value)
    return widget


def _set_combo(widget: QWidget, value: object, spec: FieldSpec) -> None:
    combo: QComboBox = widget  # type: ignore[assignment]
    index = combo.findData(value)
    combo.setCurrentIndex(max(index, 0))


_TEXT = Accessor(_line_edit, lambda w: w.text(), _set_text, lambda w: w.textEdited)  # type: ignore[attr-defined]

ACCESSORS: dict[Kind, Accessor] = {
    Kind.TEXT: _TEXT,
    Kind.NUMERIC_ID: _TEXT,
    Kind.PHONE: _TEXT,
    Kind.URL: _TEXT,
    Kind.VERSION: _TEXT,
    Kind.CHOICE: Accessor(_combo, lambda w: w.currentData(), _set_combo,  # type: ignore[attr-defined]
                          lambda w: w.activated),  # type: ignore[attr-defined]
    Kind.BOOL: Accessor(lambda s, p: QCheckBox(p), lambda w: w.isChecked(),  # type: ignore[attr-defined]
                        lambda w, v, s: w.setChecked(bool(v)),  # type: ignore[attr-defined]
                        lambda w: w.toggled),  # type: ignore[attr-defined]
    Kind.SECRET: Accessor(lambda s, p: SecretField(s, p), lambda w: w.edit(),  # type: ignore[attr-defined]
                          lambda w, v, s: w.load(v),  # type: ignore[attr-defined]
                          lambda w: w.edited),  # type: ignore[attr-defined]
}


class FormBinder:
    """Binds a list of FieldSpecs to widgets; values in, values out, issues shown inline.

    `changed(key)` is called whenever the user edits a field.
    """

    def __init__(self, specs: Iterable[FieldSpec], widgets: Mapping[str, QWidget],
                 messages: Mapping[str, QLabel]) -> None:
        self.specs = tuple(specs)
        self.widgets = dict(widgets)
        self.messages = dict(messages)
        self.on_changed: Callable[[str], None] | None = None
        for spec in self.specs:
            widget = self.widgets[spec.key]
            if not isinstance(widget, SecretField):  # a SecretField's tooltip adds its state
                widget.setToolTip(spec.help)
            ACCESSORS[spec.kind].changed(widget).connect(
                lambda *_, key=spec.key: self.on_changed and self.on_changed(key))

    @classmethod
    def build(cls, parent: QWidget, specs: Iterable[FieldSpec]) -> FormBinder:
        """Lay the fields out in a new QFormLayout on `parent` (in declaration = tab order)."""
        specs = tuple(specs)
        form = QFormLayout(parent)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        widgets: dict[str, QWidget] = {}
        messages: dict[str, QLabel] = {}
        for spec in specs:
            cell = QWidget(parent)
            column = QVBoxLayout(cell)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(2)
            widget = ACCESSORS[spec.kind].create(spec, cell)
            widget.setObjectName(spec.key)
            message = QLabel(cell)
            message.setObjectName(f"{spec.key}__message")
            message.setWordWrap(True)
            message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            message.hide()
            column.addWidget(widget)
            column.addWidget(message)
            label = QLabel(f"{spec.label}{' *' if spec.required else ''}", parent)
            label.setBuddy(widget)
            label.setToolTip(spec.help)
            form.addRow(label, cell)
            widgets[spec.key] = widget
            messages[spec.key] = message
        return cls(specs, widgets, messages)

    @classmethod
    def bind(cls, container: QWidget, specs: Iterable[FieldSpec]) -> FormBinder:
        """Bind widgets that a Designer form already has (objectName == key, `<key>__message`)."""
        specs = tuple(specs)
        widgets = {s.key: container.findChild(QWidget, s.key) for s in specs}
        messages = {s.key: container.findChild(QLabel, f"{s.key}__message") for s in specs}
        missing = [k for k, w in widgets.items() if w is None] + \
                  [k for k, w in messages.items() if w is None]
        if missing:
            raise LookupError(f"form has no widget for: {', '.join(missing)}")
        return cls(specs, widgets, messages)  # type: ignore[arg-type]

    # --- values -------------------------------------------------------------------------------
    def load(self, values: Mapping[str, object], refs: Mapping[str, object]) -> None:
        for spec in self.specs:
            source = refs if spec.secret else values
            widget = self.widgets[spec.key]
            with QSignalBlocker(widget):
                ACCESSORS[spec.kind].set(widget, source.get(spec.key), spec)
        self.show_issues([])

    def values(self) -> dict[str, object]:
        """Plain field values as typed (validation cleans them)."""
        return {s.key: ACCESSORS[s.kind].get(self.widgets[s.key])
                for s in self.specs if not s.secret}

    def secret_edits(self) -> dict[str, SecretEdit]:
        return {s.key: self.widgets[s.key].edit()  # type: ignore[attr-defined]
                for s in self.specs if s.secret}

    # --- inline messages ------------------------------------------------------------------------
    def show_issues(self, issues: Iterable[FieldIssue], only: set[str] | None = None) -> None:
        """Show each field's issues under it (errors first); `only` limits to touched fields."""
        by_key: dict[str, list[FieldIssue]] = {}
        for issue in issues:
            by_key.setdefault(issue.key, []).append(issue)
        for spec in self.specs:
            if only is not None and spec.key not in only:
                continue
            found = sorted(by_key.get(spec.key, []), key=lambda i: not i.is_error)
            label = self.messages[spec.key]
            widget = self.widgets[spec.key]
            target = widget.entry if isinstance(widget, SecretField) else widget
            error = any(i.is_error for i in found)
            label.setText("\n".join(i.message for i in found))
            label.setProperty("role", "fieldError" if error else "fieldWarning")
            label.setVisible(bool(found))
            target.setProperty("invalid", error)
            for styled in (label, target):
                styled.style().unpolish(styled)
                styled.style().polish(styled)

    def first_error_widget(self, issues: Iterable[FieldIssue]) -> QWidget | None:
        keys = {i.key for i in issues if i.is_error}
        for spec in self.specs:
            if spec.key in keys:
                return self.widgets[spec.key]
        return None
