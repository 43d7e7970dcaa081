"""Every question the console asks the admin, in one injectable place.

The main window asks through a `Prompts` object, and the pages ask through the main window's
(`WindowPrompts`), so tests replace it with scripted answers instead of clicking through modal
dialogs.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from wa_console.core.consent import CONSENT_METHODS

OPT_OUT_METHODS: Final = ("admin", "recipient asked", "left the organisation")


class UnsavedChoice(enum.Enum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


class Prompts:
    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def unsaved_changes(self, name: str) -> UnsavedChoice:
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                          f"'{name}' has changes that are not saved.", parent=self.parent)
        box.setInformativeText("Save them before you go on?")
        box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        return {QMessageBox.StandardButton.Save: UnsavedChoice.SAVE,
                QMessageBox.StandardButton.Discard: UnsavedChoice.DISCARD}.get(
            QMessageBox.StandardButton(answer), UnsavedChoice.CANCEL)

    def confirm_delete(self, name: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Warning, "Delete channel account",
                          f"Delete '{name}'?", parent=self.parent)
        box.setInformativeText("Its settings and the secrets this console stored for it in the "
                               "keyring are removed. This cannot be undone.")
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is delete

    def new_name(self, current: str) -> str | None:
        text, ok = QInputDialog.getText(self.parent, "Rename channel account", "New name:",
                                        QLineEdit.EchoMode.Normal, current)
        return text if ok else None

    def keyring_unavailable(self, message: str) -> bool:
        """True: keep secrets in memory for this session only; False: cancel the save."""
        box = QMessageBox(QMessageBox.Icon.Warning, "No keyring available",
                          "Secrets cannot be stored: no usable keyring.", parent=self.parent)
        box.setInformativeText(message)
        session = box.addButton("Keep for this session only", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is session

    def conflict(self, message: str) -> bool:
        """True: reload the stored settings (dropping the edits); False: keep editing."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Changed elsewhere", message,
                          parent=self.parent)
        reload = box.addButton("Reload", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Keep my edits", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        return box.clickedButton() is reload

    def error(self, title: str, message: str, details: str = "") -> None:
        box = QMessageBox(QMessageBox.Icon.Critical, title, message, parent=self.parent)
        if details:
            box.setInformativeText(details)
        box.exec()

    def info(self, title: str, message: str) -> None:
        QMessageBox.information(self.parent, title, message)

    def save_path(self, title: str, suggested: str, file_filter: str) -> str | None:
        """Where to write an export (None: cancelled)."""
        path, _ = QFileDialog.getSaveFileName(self.parent, title, suggested, file_filter)
        return path or None

    def export_path(self, suggested: str) -> str | None:
        return self.save_path("Export configuration", suggested,
                              "wa-console configuration (*.json)")

    def export_proof_path(self, suggested: str) -> str | None:
        return self.save_path("Export proof record", suggested, "Proof record (*.json)")

    def confirm_remove_sender(self, label: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Warning, "Remove sender",
                          f"Remove the sender '{label}'?", parent=self.parent)
        box.setInformativeText("The phone number stays; templates naming this sender will be "
                               "flagged until they name another.")
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is remove

    def consent(self, kind: str, phone: str) -> ConsentAnswer | None:
        """Who records an opt-in ("opt_in") or opt-out of `phone`, and how it was given."""
        dialog = ConsentDialog(kind, phone, self.parent)
        return dialog.answer() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def consent_history(self, phone: str, lines: Sequence[str]) -> None:
        self.info(f"Consent history of {phone}", "\n".join(lines) or "No consent recorded yet.")

    def confirm_signed_probe(self, url: str) -> bool:
        """Before the webhook self-test POSTs signed events to a host that is not loopback."""
        answer = QMessageBox.question(
            self.parent, "Send signed test events?",
            f"The self-test will POST three synthetic status events to {url}, one signed with "
            "the app secret, as Meta would. Their ids start with "
            "“wamid.WA-CONSOLE-SELF-TEST-” so the receiver can drop them. Send them?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def import_path(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Import configuration", "",
                                              "wa-console configuration (*.json);;All files (*)")
        return path or None


class WindowPrompts:
    """A page's `prompts` attribute: the Prompts set on the page (tests), else its main
    window's (looked up at each use: tests swap the window's), else plain dialogs."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}_set"

    def __get__(self, page: Any, owner: type | None = None) -> Any:
        if page is None:
            return self
        own = page.__dict__.get(self.slot)
        if own is not None:
            return own
        window = page.window()
        found = getattr(window, "prompts", None) if window is not page else None
        return found if isinstance(found, Prompts) else Prompts(page)

    def __set__(self, page: Any, prompts: Any) -> None:
        page.__dict__[self.slot] = prompts


@dataclass(frozen=True)
class ConsentAnswer:
    recorded_by: str
    method: str
    detail: str


class ConsentDialog(QDialog):
    """Asks who records an opt-in/opt-out and how it was given (method: a known one or free
    text)."""

    def __init__(self, kind: str, phone: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        opt_in = kind == "opt_in"
        self.setWindowTitle(f"Record {'opt-in' if opt_in else 'opt-out'} for {phone}")
        form = QFormLayout(self)
        self.recorded_by = QLineEdit()
        self.recorded_by.setObjectName("recordedBy")
        self.recorded_by.setPlaceholderText("Your name (who records this)")
        form.addRow("Recorded by", self.recorded_by)
        self.method = QComboBox()
        self.method.setObjectName("method")
        self.method.setEditable(True)  # a method not in the list is typed in
        self.method.addItems(CONSENT_METHODS if opt_in else OPT_OUT_METHODS)
        form.addRow("How", self.method)
        self.detail = QLineEdit()
        self.detail.setObjectName("detail")
        self.detail.setPlaceholderText("e.g. where the signed form is kept" if opt_in
                                       else "e.g. the reason")
        form.addRow("Detail", self.detail)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setEnabled(False)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.recorded_by.textChanged.connect(self._on_edited)
        self.method.currentTextChanged.connect(self._on_edited)

    def _on_edited(self, _text: str) -> None:
        self.ok_button.setEnabled(bool(self.recorded_by.text().strip()
                                       and self.method.currentText().strip()))

    def answer(self) -> ConsentAnswer:
        return ConsentAnswer(self.recorded_by.text().strip(), self.method.currentText().strip(),
                             self.detail.text().strip())
