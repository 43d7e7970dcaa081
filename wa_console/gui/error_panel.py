"""A readable error panel: title, what it means, what to do, and Meta's codes to copy.

`ErrorPanel.show_error(exc)` turns any exception the ops raise into text an admin can act on:
a Graph API error shows Meta's code, subcode and `fbtrace_id` (selectable, and in the block the
Copy button puts on the clipboard, for Meta support); any other exception shows its redacted
message. Never a traceback (that goes to the log, where `gui.tasks` already wrote it).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from wa_console.core.redaction import redact

_SELECTABLE = (Qt.TextInteractionFlag.TextSelectableByMouse
               | Qt.TextInteractionFlag.TextSelectableByKeyboard)


@dataclass(frozen=True)
class ErrorText:
    """What the panel shows. `codes`: (label, value) pairs such as ("Meta error code", "190")."""

    title: str
    meaning: str
    fix: str
    codes: tuple[tuple[str, str], ...] = ()

    def as_text(self) -> str:
        """The block the Copy button copies (for a ticket or Meta support)."""
        lines = [self.title]
        if self.meaning:
            lines.append(f"What it means: {self.meaning}")
        if self.fix:
            lines.append(f"What to do: {self.fix}")
        lines.extend(f"{label}: {value}" for label, value in self.codes)
        return "\n".join(lines)


def describe(exc: BaseException) -> ErrorText:
    """The admin-facing text of an exception (every part redacted)."""
    from wa_console.meta.errors import GraphApiError, MetaError

    if isinstance(exc, GraphApiError):
        meaning_parts = []
        if exc.info is not None and exc.info.meaning != exc.title:
            meaning_parts.append(exc.info.meaning)
        if exc.meta_message:
            meaning_parts.append(f"Meta said: “{exc.meta_message}”")
        if exc.user_msg and exc.user_msg != exc.title:
            meaning_parts.append(exc.user_msg)
        if exc.details:
            meaning_parts.append(f"Details: {exc.details}")
        codes = [("Meta error code", str(exc.code) if exc.code is not None else "none"),
                 ("Subcode", str(exc.subcode) if exc.subcode is not None else "none"),
                 ("fbtrace_id", exc.fbtrace_id or "none"),
                 ("HTTP status", str(exc.http_status)),
                 ("Request", f"{exc.method} {exc.path}")]
        return _redacted(ErrorText(exc.title, " ".join(meaning_parts), exc.fix, tuple(codes)))
    if isinstance(exc, MetaError):
        status = getattr(exc, "http_status", None)
        codes = (("HTTP status", str(status)),) if status is not None else ()
        return _redacted(ErrorText(exc.title, str(exc), exc.fix, codes))
    return _redacted(_generic(exc))


def _generic(exc: BaseException) -> ErrorText:
    from wa_console.store.secrets import SecretStoreError

    message = str(exc) or type(exc).__name__
    if isinstance(exc, SecretStoreError):
        return ErrorText("A secret could not be read", message,
                         "Unlock the keyring (or fix the env: reference) and try again.")
    if type(exc).__module__.startswith("sqlalchemy"):
        orig = getattr(exc, "orig", None) or exc
        first = str(orig).splitlines()[0] if str(orig) else type(orig).__name__
        return ErrorText("Database problem", f"The database could not be used: {first}",
                         "Check that the database is reachable and not full, then try again.")
    return ErrorText("Unexpected problem", f"{type(exc).__name__}: {message}",
                     "Try again; if it keeps happening, the details are in the log file.")


def _redacted(text: ErrorText) -> ErrorText:
    return ErrorText(redact(text.title), redact(text.meaning), redact(text.fix),
                     tuple((label, redact(value)) for label, value in text.codes))


class ErrorPanel(QFrame):
    """Shows one error (hidden while there is none).

    Children (object names, for tests and styling): `errorTitle`, `errorMeaning`, `errorFix`,
    `errorCodes` (selectable), `copyButton`.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#errorPanel { border: 1px solid #c62828; border-radius: 4px; }")
        self._text: ErrorText | None = None

        self.title = QLabel(self, objectName="errorTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.meaning = self._label("errorMeaning")
        self.fix = self._label("errorFix")
        self.codes = self._label("errorCodes")
        self.codes.setTextFormat(Qt.TextFormat.PlainText)
        self.copy_button = QPushButton("Copy details", self, objectName="copyButton")
        self.copy_button.setToolTip("Copy the error, its fix and Meta's codes to the clipboard")
        self.copy_button.clicked.connect(self.copy)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.meaning)
        layout.addWidget(self.fix)
        bottom = QHBoxLayout()
        bottom.addWidget(self.codes, 1)
        bottom.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(bottom)
        self.clear()

    def _label(self, name: str) -> QLabel:
        label = QLabel(self, objectName=name)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(_SELECTABLE)
        return label

    @property
    def error_text(self) -> ErrorText | None:
        """What is shown (None when the panel is clear)."""
        return self._text

    def show_error(self, exc: BaseException) -> None:
        self.show_text(describe(exc))

    def show_problem(self, title: str, meaning: str, fix: str | None = None) -> None:
        """A problem that is not an exception (e.g. "Run all checks stopped at verify")."""
        self.show_text(_redacted(ErrorText(title, meaning, fix or "")))

    def show_text(self, text: ErrorText) -> None:
        self._text = text
        self.title.setText(text.title)
        self.meaning.setText(f"What it means: {text.meaning}" if text.meaning else "")
        self.meaning.setVisible(bool(text.meaning))
        self.fix.setText(f"What to do: {text.fix}" if text.fix else "")
        self.fix.setVisible(bool(text.fix))
        self.codes.setText("\n".join(f"{label}: {value}" for label, value in text.codes))
        self.codes.setVisible(bool(text.codes))
        self.setVisible(True)

    def clear(self) -> None:
        self._text = None
        for label in (self.title, self.meaning, self.fix, self.codes):
            label.clear()
        self.setVisible(False)

    def copy(self) -> None:
        """Put the whole error (title, meaning, fix, codes) on the clipboard."""
        if self._text is not None:
            QGuiApplication.clipboard().setText(self._text.as_text())
