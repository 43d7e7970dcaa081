"""The lifecycle of a page whose buttons run one remote action at a time (Verify & sync,
Webhooks): a progress row with Cancel, a status line and an error panel; when the action ends
the stored results are re-read (`reload(then)`), then `data_changed` (on success) and
`action_finished(action)` are emitted.

A subclass builds `status_label`, `error_panel` and the row from `_build_progress_row()` into its
own layout, sets `action_labels`, and implements `_on_success(result)`, `reload(then)` and
`_update_buttons()`; `start(action)` builds the worker function and calls `_run_action`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidgetItem,
    QWidget,
)

from wa_console.gui.prompts import WindowPrompts
from wa_console.gui.tasks import GuiAsker, TaskContext, TaskHandle, run_task, while_alive
from wa_console.gui.widgets import simulated_badge

CANCELLED_TEXT: Final = "Cancelled; nothing was changed."
KEY_ROLE: Final = Qt.ItemDataRole.UserRole + 1  # a result row's check key
# Outcome → (text mark, foreground, background). Text marks, not icons: readable when copied.
OUTCOME_STYLE: Final = {
    "ok": ("✔ OK", "#1b5e20", "#e8f5e9"),
    "warning": ("⚠ Warning", "#8a5300", "#fff8e1"),
    "failed": ("✘ Failed", "#b71c1c", "#ffebee"),
    "unknown": ("? Not checked", "#455a64", "#eceff1"),
}


def result_items(key: str, label: str, outcome: str, detail: str,
                 fix: str | None) -> list[QTableWidgetItem]:
    """The cells of one check result: label (carrying the key), coloured outcome, detail, fix."""
    mark, fg, bg = OUTCOME_STYLE.get(outcome, (outcome, "#000000", "#ffffff"))
    name = QTableWidgetItem(label)
    name.setToolTip(key)
    name.setData(KEY_ROLE, key)
    marked = QTableWidgetItem(mark)
    marked.setForeground(QBrush(QColor(fg)))
    marked.setBackground(QBrush(QColor(bg)))
    detail_item, fix_item = QTableWidgetItem(detail), QTableWidgetItem(fix or "")
    detail_item.setToolTip(detail)
    fix_item.setToolTip(fix or "")
    return [name, marked, detail_item, fix_item]


class RemoteActionPage(QWidget):
    """Signals:
    data_changed(): an action succeeded and its stored result is shown.
    progressed(int, str): progress of the running action (-1: indeterminate).
    action_finished(str): an action ended (success, failure or cancel); carries its name.
    loaded(): the stored results were (re)read and shown.
    """

    data_changed = Signal()
    progressed = Signal(int, str)
    action_finished = Signal(str)
    loaded = Signal()
    action_labels: dict[str, str] = {}
    prompts = WindowPrompts()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._asker = GuiAsker(self)
        self._handle: TaskHandle | None = None
        self._action: str | None = None
        self._succeeded = False  # the running action succeeded (emit data_changed after reload)

    # subclasses provide these
    status_label: QLabel
    error_panel: Any

    def _on_success(self, result: Any) -> None:
        raise NotImplementedError

    def reload(self, then: Callable[[], None] | None = None) -> None:
        raise NotImplementedError

    def _update_buttons(self) -> None:
        raise NotImplementedError

    # --- building -------------------------------------------------------------------------------
    def _build_header(self, simulated_tooltip: str) -> QHBoxLayout:
        """The account's name in bold and the sandbox badge (shown for sandbox accounts)."""
        self.account_label = QLabel(self, objectName="accountLabel")
        font = self.account_label.font()
        font.setBold(True)
        self.account_label.setFont(font)
        self.simulated_label = simulated_badge(simulated_tooltip, self)
        header = QHBoxLayout()
        header.addWidget(self.account_label)
        header.addWidget(self.simulated_label)
        header.addStretch(1)
        return header

    def _build_progress_row(self) -> QWidget:
        self.progress_bar = QProgressBar(self, objectName="progressBar")
        self.progress_bar.setTextVisible(True)
        self.progress_label = QLabel(self, objectName="progressLabel")
        self.cancel_button = QPushButton("Cancel", self, objectName="cancelButton")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress_row = QWidget(self, objectName="progressRow")
        progress = QHBoxLayout(self.progress_row)
        progress.setContentsMargins(0, 0, 0, 0)
        progress.addWidget(self.progress_bar, 2)
        progress.addWidget(self.progress_label, 3)
        progress.addWidget(self.cancel_button)
        self.progress_row.setVisible(False)
        return self.progress_row

    # --- running --------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._handle is not None

    def _run_action(self, action: str, work: Callable[[TaskContext], Any],
                    pool: Any) -> TaskHandle:
        """Run `work` as `action`; its callbacks reach the page only while it is the running
        action (a cancelled or replaced one reports nothing)."""
        box: list[TaskHandle] = []

        def mine(fn: Callable[..., None]) -> Callable[..., None]:
            def call(*args: Any) -> None:
                if box and box[0] is self._handle:
                    fn(*args)
            return while_alive(self, call)

        label = self.action_labels.get(action, action)
        self.error_panel.clear()
        self.status_label.setText(f"{label}…")
        self._action, self._succeeded = action, False
        box.append(run_task(work, on_success=mine(self._on_success),
                            on_failure=mine(self._on_failure),
                            on_progress=mine(self._on_progress),
                            on_finished=mine(self._on_finished), pool=pool))
        self._handle = box[0]
        self._on_progress(-1, f"{label}: starting…")
        self._update_buttons()
        return self._handle

    def signed_probe_question(self, task: TaskContext) -> Callable[[str], bool]:
        """`allow_signed_probe(url)` for the webhook self-test running in `task`: asks the
        admin on the GUI thread (Prompts); a cancel answers no."""
        return lambda url: bool(self._asker.ask(
            lambda: self.prompts.confirm_signed_probe(url), task, False))

    def cancel(self) -> None:
        """Ask the running action to stop (takes effect before its next request)."""
        if self._handle is not None:
            self._handle.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Cancelling…")

    def _on_progress(self, pct: int, text: str) -> None:
        bar = self.progress_bar
        if pct < 0:
            bar.setRange(0, 0)  # indeterminate
        else:
            bar.setRange(0, 100)
            bar.setValue(max(0, min(100, pct)))
        bar.setFormat(text.replace("%", "%%") if text else "%p%")
        bar.setToolTip(text)
        self.progress_label.setText(text)
        self.progressed.emit(pct, text)

    def _on_failure(self, exc: BaseException) -> None:
        from wa_console.ops.context import OpCancelled

        if isinstance(exc, OpCancelled):
            self.status_label.setText(CANCELLED_TEXT)
            return
        label = self.action_labels.get(self._action or "", "The action")
        self.status_label.setText(f"{label} failed; see below.")
        self.error_panel.show_error(exc)

    def _on_finished(self) -> None:
        handle, action = self._handle, self._action or ""
        if handle is not None and handle.is_cancelled and not self._succeeded:
            self.status_label.setText(CANCELLED_TEXT)
        self._handle = None
        self._update_buttons()
        succeeded = self._succeeded

        def shown() -> None:
            if succeeded:
                self.data_changed.emit()
            self.action_finished.emit(action)

        self.reload(then=shown)

    def _detach_running(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
            self._action = None
