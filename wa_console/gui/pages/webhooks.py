"""The *Webhooks* page: webhook readiness from both ends, the local receiver, proof import.

"Check Meta side" asks Meta (or the emulator) where it sends this account's webhooks and shows
the effective callback for message events prominently, with where it comes from (phone
override, WABA override or the app's callback URL). "Run self-test" calls the configured
callback URL as Meta would (handshake, signed and unsigned POSTs); before signed probes go to a
host that is not loopback the admin is asked through `Prompts`. Both run one at a time on
`ctx.remote_pool` with progress and Cancel; their stored results are (re)read on
`ctx.storage_pool`.

The "Local receiver" group starts the console's own receiver in-process (for use behind a
tunnel), shows its URL with a copy button and live event counts (polled every 500 ms), and is
stopped by `shutdown()` when the window closes. "Import captured webhook…" records a delivery
captured by the platform's own receiver after checking its signature.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from wa_console.core.sandbox_defaults import SANDBOX_VALUES
from wa_console.gui.error_panel import ErrorPanel, describe
from wa_console.gui.pages import PageContext
from wa_console.gui.pages.remote import RemoteActionPage, result_items
from wa_console.gui.tasks import TaskContext, TaskHandle, run_task, while_alive
from wa_console.gui.widgets import read_only_table

# The sandbox account's callback URL names the local receiver's default port (8765).
DEFAULT_RECEIVER_PORT: Final = urlsplit(str(SANDBOX_VALUES["webhook_callback_url"])).port or 8765
POLL_MS: Final = 500

META: Final = "meta"
SELF_TEST: Final = "self_test"
ACTION_LABELS: Final = {META: "Check Meta side", SELF_TEST: "Run self-test"}

ROW_LABELS: Final = {
    "webhook.meta_side": "Meta side (summary)",
    "webhook.meta.app_subscription": "App webhook subscription",
    "webhook.meta.messages_field": "messages field subscribed",
    "webhook.meta.app_callback": "App callback URL",
    "webhook.meta.waba_subscribed": "App subscribed to the WABA",
    "webhook.meta.waba_override": "WABA override",
    "webhook.meta.phone_override": "Phone number override",
    "webhook.meta.effective_callback": "Effective callback (messages)",
    "webhook.meta.template_events": "Template events",
    "webhook.platform_side": "Platform side (summary)",
    "webhook.platform.challenge": "Handshake, right token",
    "webhook.platform.wrong_token": "Handshake, wrong token",
    "webhook.platform.signed_post": "Signed status event",
    "webhook.platform.bad_signature": "Bad signature",
    "webhook.platform.unsigned_post": "No signature",
    "webhook.platform.transport": "HTTPS / TLS",
}
COLUMNS: Final = ("Check", "Outcome", "Detail", "Fix", "Latency")
SOURCE_TEXT: Final = {"phone": "from the phone number's override",
                      "waba": "from the WABA's override (subscribed_apps)",
                      "app": "from the app's callback URL (App Dashboard)"}


@dataclass(frozen=True)
class ResultRow:
    """One line of the results list (a stored check row or a fresh probe)."""

    key: str
    outcome: str
    detail: str
    fix: str | None
    latency_ms: float | None = None


def _rows_from_checks(checks: list[Any]) -> list[ResultRow]:
    return [ResultRow(c.key, c.outcome, c.detail, c.fix, c.evidence.get("latency_ms"))
            for c in checks]


def _read_stored(store: Any, account_id: int) -> list[Any]:
    from wa_console.ops.webhook_check import META_KEYS, PLATFORM_KEYS
    from wa_console.store.checks import load_checks

    return load_checks(store.engine, account_id, (*META_KEYS, *PLATFORM_KEYS))


class WebhooksPage(RemoteActionPage):
    """Signals:
    data_changed(): a check or self-test finished and its stored result is shown.
    action_finished(str): a remote action ended (success, failure or cancel); carries its name.
    loaded(): the stored results were (re)read and shown.
    receiver_changed(): the local receiver started or stopped (or failed to).
    imported(object): a captured webhook was recorded; carries the IngestResult.

    Attributes:
        resolve: host name → addresses for the loopback decision (tests replace it).
        autostart_for_sandbox: start the local receiver when a sandbox account is first shown
            (tests switch it off so that parallel windows do not race for the port).
    """

    autostart_for_sandbox = True
    receiver_changed = Signal()
    imported = Signal(object)

    action_labels = ACTION_LABELS

    def __init__(self, parent: QWidget | None = None, prompts: Any = None) -> None:
        super().__init__(parent)
        self.ctx: PageContext | None = None
        if prompts is not None:
            self.prompts = prompts
        self.resolve: Callable[[str], list[str]] | None = None
        self._generation = 0
        self._rows: list[ResultRow] = []
        self.receiver: Any = None  # wa_console.webhook.server.ReceiverServer while running
        self._receiver_busy = False
        self._autostarted = False
        self._build()
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._show_receiver_counts)
        self._update_buttons()
        self._update_receiver()

    # --- building -------------------------------------------------------------------------------
    def _build(self) -> None:
        header = self._build_header(
            "Checks of a sandbox account go to the local emulator and receiver, not to Meta.")

        self.check_meta_button = QPushButton(ACTION_LABELS[META], self,
                                             objectName="checkMetaButton")
        self.check_meta_button.setToolTip(
            "Ask Meta where it sends this account's webhooks: the app subscription, the WABA's "
            "subscribed apps and the overrides.")
        self.check_meta_button.clicked.connect(lambda: self.start(META))
        self.self_test_button = QPushButton(ACTION_LABELS[SELF_TEST], self,
                                            objectName="selfTestButton")
        self.self_test_button.setToolTip(
            "Call the configured callback URL as Meta does: the handshake with the right and a "
            "wrong verify token, a signed status event, and badly signed and unsigned ones.")
        self.self_test_button.clicked.connect(lambda: self.start(SELF_TEST))
        self.import_button = QPushButton("Import captured webhook…", self,
                                         objectName="importButton")
        self.import_button.clicked.connect(self.open_import_dialog)
        actions = QHBoxLayout()
        for button in (self.check_meta_button, self.self_test_button, self.import_button):
            actions.addWidget(button)
        actions.addStretch(1)

        self._build_progress_row()

        self.effective_label = QLabel(self, objectName="effectiveLabel")
        self.effective_label.setWordWrap(True)
        self.effective_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.effective_label.setStyleSheet(
            "QLabel { font-size: 115%; font-weight: bold; padding: 4px; }")
        self.template_label = QLabel(self, objectName="templateRouteLabel")
        self.template_label.setWordWrap(True)
        self.status_label = QLabel(self, objectName="statusLabel")
        self.status_label.setWordWrap(True)
        self.error_panel = ErrorPanel(self)

        fit, stretch = QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.Stretch
        self.table = read_only_table(COLUMNS, "resultsTable", self, word_wrap=True,
                                     modes=(fit, fit, stretch, stretch, fit))

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addLayout(actions)
        layout.addWidget(self.progress_row)
        layout.addWidget(self.effective_label)
        layout.addWidget(self.template_label)
        layout.addWidget(self.status_label)
        layout.addWidget(self.error_panel)
        layout.addWidget(self.table, 1)
        layout.addWidget(self._build_receiver())

    def _build_receiver(self) -> QGroupBox:
        box = QGroupBox("Local receiver", self, objectName="receiverGroup")
        self.port_spin = QSpinBox(box, objectName="receiverPort")
        self.port_spin.setRange(0, 65535)
        self.port_spin.setValue(DEFAULT_RECEIVER_PORT)
        self.port_spin.setSpecialValueText("any free port")
        self.receiver_button = QPushButton("Start receiver", box, objectName="receiverButton")
        self.receiver_button.clicked.connect(self.toggle_receiver)
        self.receiver_url = QLineEdit(box, objectName="receiverUrl")
        self.receiver_url.setReadOnly(True)
        self.copy_url_button = QPushButton("Copy", box, objectName="copyUrlButton")
        self.copy_url_button.clicked.connect(self.copy_receiver_url)
        self.receiver_counts = QLabel(box, objectName="receiverCounts")
        self.receiver_status = QLabel(box, objectName="receiverStatus")
        self.receiver_status.setWordWrap(True)
        note = QLabel("Runs the console's webhook receiver on this machine, into this "
                      "console's database: for use behind a tunnel (Meta needs a public HTTPS "
                      "URL that forwards to it).", box)
        note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Port:", box))
        row.addWidget(self.port_spin)
        row.addWidget(self.receiver_button)
        row.addStretch(1)
        url_row = QHBoxLayout()
        url_row.addWidget(self.receiver_url, 1)
        url_row.addWidget(self.copy_url_button)
        layout = QVBoxLayout(box)
        layout.addWidget(note)
        layout.addLayout(row)
        layout.addLayout(url_row)
        layout.addWidget(self.receiver_counts)
        layout.addWidget(self.receiver_status)
        return box

    # --- context --------------------------------------------------------------------------------
    def set_context(self, ctx: PageContext | None) -> None:
        """Show another account (None: none). A running check of the previous one is
        cancelled and its late results dropped; the local receiver keeps running (it serves
        every account of the database)."""
        self._detach_running()
        self.ctx = ctx
        self._generation += 1
        self.error_panel.clear()
        self.status_label.clear()
        self._show_rows([])
        self.effective_label.setText("Effective callback: not checked yet.")
        self.template_label.clear()
        self.account_label.setText(ctx.account_name if ctx else "No account selected")
        self.simulated_label.setVisible(bool(ctx and ctx.sandbox))
        self._update_buttons()
        self._update_receiver()
        if ctx is not None:
            self.reload()
            if ctx.sandbox and self.autostart_for_sandbox and not self._autostarted:
                # The emulator posts the sandbox account's webhooks to the local receiver's
                # default URL; starting it saves the newcomer a step. Once per window: a port
                # in use is reported, not retried on every account switch.
                self._autostarted = True
                self.start_receiver()

    def refresh(self) -> None:
        """Another page changed stored state: re-read the results."""
        self.reload()

    def shutdown(self) -> None:
        """Cancel a running check and stop the local receiver (the window is closing)."""
        if self._handle is not None:
            self._handle.cancel()
        self._poll.stop()
        receiver, self.receiver = self.receiver, None
        if receiver is not None:
            receiver.stop(timeout=2.0)

    @property
    def rows(self) -> list[ResultRow]:
        return list(self._rows)

    def outcomes(self) -> dict[str, str]:
        """key → outcome of the rows shown."""
        return {r.key: r.outcome for r in self._rows}

    # --- checks ---------------------------------------------------------------------------------
    def start(self, action: str) -> TaskHandle | None:
        """Start "Check Meta side" or "Run self-test" (ignored while one runs)."""
        ctx = self.ctx
        if ctx is None or self._handle is not None:
            return None
        store, account_id, base_url = ctx.store, ctx.account_id, ctx.base_url
        resolve = self.resolve

        def work(task: TaskContext) -> Any:
            # Imported on the worker: the first import of requests/SQLAlchemy is slow.
            from wa_console.ops.context import OpContext
            from wa_console.ops.webhook_check import check_meta_side, self_test

            op_ctx = OpContext(report=task.report, cancelled=task.cancelled)
            if action == META:
                return check_meta_side(op_ctx, store, account_id, base_url)
            extra = {"resolve": resolve} if resolve is not None else {}
            return self_test(op_ctx, store, account_id,
                             allow_signed_probe=self.signed_probe_question(task), **extra)

        return self._run_action(action, work, ctx.remote_pool)

    def _on_success(self, result: Any) -> None:
        self._succeeded = True
        from wa_console.ops.webhook_check import MetaSideReport

        if isinstance(result, MetaSideReport):
            self._show_routes(result.summary.evidence)
        self.status_label.setText(result.summary.detail)

    # --- stored state ---------------------------------------------------------------------------
    def reload(self, then: Callable[[], None] | None = None) -> None:
        """Re-read the stored webhook results (storage pool) and show them."""
        ctx = self.ctx
        if ctx is None:
            return
        generation = self._generation
        store, account_id = ctx.store, ctx.account_id

        def shown(checks: list[Any]) -> None:
            if generation != self._generation:
                return
            self._show_rows(_rows_from_checks(checks))
            meta = next((c for c in checks if c.key == "webhook.meta_side"), None)
            if meta is not None:
                self._show_routes(meta.evidence)
            self.loaded.emit()
            if then is not None:
                then()

        def failed(exc: BaseException) -> None:
            if generation == self._generation:
                self.error_panel.show_error(exc)
                if then is not None:
                    then()

        run_task(lambda _task: _read_stored(store, account_id),
                 on_success=while_alive(self, shown), on_failure=while_alive(self, failed),
                 pool=ctx.storage_pool)

    def _show_routes(self, evidence: Any) -> None:
        url, source = evidence.get("effective_callback"), evidence.get("effective_source")
        if url:
            self.effective_label.setText(
                f"Message events go to {url}\n{SOURCE_TEXT.get(source, '')}")
        else:
            self.effective_label.setText("Message events go nowhere: Meta has no callback URL "
                                         "for this app.")
        template = evidence.get("template_events_callback")
        self.template_label.setText(
            f"Template events always go to the app's callback URL: {template}" if template
            else "Template events go nowhere: the app has no callback URL.")

    def _show_rows(self, rows: list[ResultRow]) -> None:
        self._rows = list(rows)
        table = self.table
        table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            latency = QTableWidgetItem(f"{row.latency_ms:.0f} ms"
                                       if isinstance(row.latency_ms, int | float) else "")
            items = [*result_items(row.key, ROW_LABELS.get(row.key, row.key), row.outcome,
                                   row.detail, row.fix), latency]
            for column, item in enumerate(items):
                table.setItem(index, column, item)
        table.resizeRowsToContents()

    def _update_buttons(self) -> None:
        idle = self.ctx is not None and self._handle is None
        self.check_meta_button.setEnabled(idle)
        self.self_test_button.setEnabled(idle)
        self.import_button.setEnabled(self.ctx is not None)
        self.progress_row.setVisible(self._handle is not None)
        self.cancel_button.setEnabled(self._handle is not None)

    # --- local receiver -------------------------------------------------------------------------
    def toggle_receiver(self) -> None:
        if self.receiver is not None:
            self.stop_receiver()
        else:
            self.start_receiver()

    def start_receiver(self) -> None:
        """Start the in-process receiver on the chosen port (binding runs on a worker)."""
        ctx = self.ctx
        if ctx is None or self.receiver is not None or self._receiver_busy:
            return
        store, port = ctx.store, self.port_spin.value()

        def work(_task: TaskContext) -> Any:
            from wa_console.webhook.app import account_secrets
            from wa_console.webhook.server import ReceiverServer

            return ReceiverServer(store.engine, account_secrets(store), host="127.0.0.1",
                                  port=port).start()

        def started(server: Any) -> None:
            self._receiver_busy = False
            self.receiver = server
            self.receiver_status.setText(f"Listening on {server.url}.")
            self._poll.start()
            self._update_receiver()
            self.receiver_changed.emit()

        def failed(exc: BaseException) -> None:
            self._receiver_busy = False
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else \
                describe(exc).meaning
            self.receiver_status.setText(f"The receiver did not start: {reason}")
            self._update_receiver()
            self.receiver_changed.emit()

        self._receiver_busy = True
        self.receiver_status.setText("Starting…")
        self._update_receiver()
        run_task(work, on_success=while_alive(self, started), on_failure=while_alive(self, failed),
                 pool=ctx.remote_pool)

    def stop_receiver(self) -> None:
        """Stop the receiver (joining its threads runs on a worker)."""
        receiver = self.receiver
        if receiver is None or self._receiver_busy:
            return
        self._poll.stop()
        self._receiver_busy = True
        self.receiver_status.setText("Stopping…")
        self._update_receiver()

        def stopped(_result: Any = None) -> None:
            self._receiver_busy = False
            self.receiver = None
            self.receiver_status.setText("Stopped.")
            self._update_receiver()
            self.receiver_changed.emit()

        def failed(exc: BaseException) -> None:
            stopped()
            self.receiver_status.setText(f"Stopping failed: {describe(exc).meaning}")

        pool = self.ctx.remote_pool if self.ctx is not None else None
        run_task(lambda _task: receiver.stop(), on_success=while_alive(self, stopped),
                 on_failure=while_alive(self, failed), pool=pool)

    def copy_receiver_url(self) -> None:
        if self.receiver_url.text():
            QGuiApplication.clipboard().setText(self.receiver_url.text())

    def _show_receiver_counts(self) -> None:
        receiver = self.receiver
        if receiver is None:
            self.receiver_counts.setText("")
            return
        self.receiver_counts.setText(f"Events accepted: {receiver.events_accepted} · "
                                     f"refused: {receiver.events_refused}")

    def _update_receiver(self) -> None:
        running = self.receiver is not None
        self.receiver_button.setText("Stop receiver" if running else "Start receiver")
        self.receiver_button.setEnabled(not self._receiver_busy
                                        and (running or self.ctx is not None))
        self.port_spin.setEnabled(not running and not self._receiver_busy)
        self.receiver_url.setText(self.receiver.url if running else "")
        self.copy_url_button.setEnabled(running)
        self._show_receiver_counts()

    # --- proof import ---------------------------------------------------------------------------
    def open_import_dialog(self) -> ImportCaptureDialog | None:
        """Show the "Import captured webhook" dialog (non-modal) and return it."""
        if self.ctx is None:
            return None
        dialog = ImportCaptureDialog(self.ctx, self)
        dialog.imported.connect(self.imported)
        dialog.imported.connect(lambda _result: self.data_changed.emit())
        dialog.show()
        return dialog


class ImportCaptureDialog(QDialog):
    """Paste a captured raw body and its X-Hub-Signature-256; the console verifies it with the
    app secret and records it like a received event.

    Signals:
        imported(object): the capture was recorded; carries the IngestResult.
        finished_import(): an import attempt ended (recorded or refused).
    """

    imported = Signal(object)
    finished_import = Signal()

    def __init__(self, ctx: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import captured webhook")
        self.ctx = ctx
        self.body_edit = QPlainTextEdit(self, objectName="captureBody")
        self.body_edit.setPlaceholderText("The raw POST body, exactly as your receiver got it")
        self.signature_edit = QLineEdit(self, objectName="captureSignature")
        self.signature_edit.setPlaceholderText("sha256=<64 hex digits>")
        self.import_button = QPushButton("Import", self, objectName="captureImportButton")
        self.import_button.clicked.connect(self.start_import)
        self.close_button = QPushButton("Close", self)
        self.close_button.clicked.connect(self.close)
        self.result_label = QLabel(self, objectName="captureResult")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout()
        form.addRow("Raw body:", self.body_edit)
        form.addRow("X-Hub-Signature-256:", self.signature_edit)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.result_label)
        layout.addLayout(buttons)
        self.resize(640, 420)

    def start_import(self) -> None:
        ctx = self.ctx
        raw = self.body_edit.toPlainText().encode("utf-8")
        header = self.signature_edit.text()
        self.import_button.setEnabled(False)
        self.result_label.setStyleSheet("")
        self.result_label.setText("Verifying and recording…")

        def work(_task: TaskContext) -> Any:
            from wa_console.webhook.proof_import import import_capture

            return import_capture(ctx.store, ctx.account_id, raw, header)

        run_task(work, on_success=while_alive(self, self._on_imported),
                 on_failure=while_alive(self, self._on_refused),
                 on_finished=while_alive(self, self._on_finished), pool=ctx.storage_pool)

    def _on_imported(self, result: Any) -> None:
        parts = [f"{result.statuses} status update(s)", f"{result.inbound} inbound message(s)"]
        if result.opted_out:
            parts.append(f"opted out: {', '.join(result.opted_out)}")
        text = ("Already recorded (the same delivery was stored before): " if result.duplicate
                else "Recorded with a valid signature: ") + ", ".join(parts) + "."
        self.result_label.setStyleSheet("QLabel { color: #1b5e20; }")
        self.result_label.setText(text)
        self.imported.emit(result)

    def _on_refused(self, exc: BaseException) -> None:
        from wa_console.webhook.proof_import import ProofImportError

        message = exc.message if isinstance(exc, ProofImportError) else describe(exc).as_text()
        self.result_label.setStyleSheet("QLabel { color: #b71c1c; }")
        self.result_label.setText(message)

    def _on_finished(self) -> None:
        self.import_button.setEnabled(True)
        self.finished_import.emit()
