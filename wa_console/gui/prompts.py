"""Every question the console asks the admin, in one injectable place.

The main window asks through a `Prompts` object, so tests replace it with scripted answers instead
of clicking through modal dialogs.
"""

from __future__ import annotations

import enum

from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox, QWidget


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

    def export_path(self, suggested: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, "Export configuration", suggested,
                                              "wa-console configuration (*.json)")
        return path or None

    def export_proof_path(self, suggested: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, "Export proof record", suggested,
                                              "Proof record (*.json)")
        return path or None

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
