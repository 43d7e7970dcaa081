"""GUI test helpers: scripted answers to the window's questions, typing like an admin."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from tests.support.samples import SECRETS, TYPED
from wa_console.gui.binder import SecretField
from wa_console.gui.main_window import MainWindow
from wa_console.gui.prompts import ConsentAnswer, Prompts, UnsavedChoice


class ScriptedPrompts(Prompts):
    """Answers the window's questions from a script and records what was asked."""

    def __init__(self, parent) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.asked: list[tuple[str, str]] = []
        self.unsaved = UnsavedChoice.CANCEL
        self.delete_ok = True
        self.rename_to: str | None = None
        self.session_ok = True
        self.reload_on_conflict = False
        self.path: str | None = None
        self.signed_probe_ok = False
        self.remove_ok = True
        self.consent_answer: ConsentAnswer | None = None

    def unsaved_changes(self, name: str) -> UnsavedChoice:
        self.asked.append(("unsaved", name))
        return self.unsaved

    def confirm_delete(self, name: str) -> bool:
        self.asked.append(("delete", name))
        return self.delete_ok

    def new_name(self, current: str) -> str | None:
        self.asked.append(("rename", current))
        return self.rename_to

    def keyring_unavailable(self, message: str) -> bool:
        self.asked.append(("keyring", message))
        return self.session_ok

    def conflict(self, message: str) -> bool:
        self.asked.append(("conflict", message))
        return self.reload_on_conflict

    def error(self, title: str, message: str, details: str = "") -> None:
        self.asked.append(("error", f"{title}: {message} {details}"))

    def info(self, title: str, message: str) -> None:
        self.asked.append(("info", message))

    def save_path(self, title: str, suggested: str, file_filter: str) -> str | None:
        self.asked.append(("save", title))
        return self.path

    def confirm_remove_sender(self, label: str) -> bool:
        self.asked.append(("remove", label))
        return self.remove_ok

    def consent(self, kind: str, phone: str) -> ConsentAnswer | None:
        self.asked.append((kind, phone))
        return self.consent_answer

    def consent_history(self, phone: str, lines: Sequence[str]) -> None:
        self.asked.append(("history", "\n".join(lines)))

    def confirm_signed_probe(self, url: str) -> bool:
        self.asked.append(("signed_probe", url))
        return self.signed_probe_ok

    def import_path(self) -> str | None:
        return self.path


def field(window: MainWindow, key: str):  # type: ignore[no-untyped-def]
    return window.binder.widgets[key]


def message(window: MainWindow, key: str) -> QLabel:
    return window.binder.messages[key]


def type_into(qtbot, window: MainWindow, key: str, text: str) -> None:  # type: ignore[no-untyped-def]
    widget = field(window, key)
    target = widget.entry if isinstance(widget, SecretField) else widget
    target.selectAll()
    qtbot.keyClick(target, Qt.Key.Key_Delete)
    if text:
        qtbot.keyClicks(target, text)


def fill_valid(qtbot, window: MainWindow, **overrides: str) -> None:  # type: ignore[no-untyped-def]
    for key, text in {**TYPED, **SECRETS, **overrides}.items():
        type_into(qtbot, window, key, text)


def press_save(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
