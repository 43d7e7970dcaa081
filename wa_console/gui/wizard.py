"""The guided test send and reply (issue 7 item 6): a QWizard over ops.test_send.

sender → approved template → opted-in recipient → parameter values → review (the exact
payload; for a live account an explicit confirmation) → send (once) → live timeline of status
callbacks → the reply from the phone → verdict and proof record.

Every database read/write runs on `ctx.storage_pool`, the send and the simulated reply on
`ctx.remote_pool` (gui.tasks.run_task); the GUI thread only shows results. The timeline polls
`ops.test_send.watch` with a QTimer. `client_ref` is made once per wizard run, so a double
click (or a second Send) cannot send twice.

Signals:
    sent(object): the SendOutcome of the send (accepted or outcome unknown).
    progressed(object): each new Progress snapshot the timeline shows.
    proof_saved(object): the ProofInfo stored at the end (or on cancel after a send).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from wa_console.core.readiness import SIMULATED_LABEL
from wa_console.core.templates.model import ButtonType, HeaderFormat, ParameterFormat
from wa_console.core.templates.payload import HEADER_MEDIA_KEY, has_variable, url_key
from wa_console.gui.pages import PageContext
from wa_console.gui.prompts import Prompts
from wa_console.gui.tasks import run_task, while_alive
from wa_console.gui.widgets import simulated_badge
from wa_console.ops.test_send import (
    REPLY_TIMEOUT_S,
    STATUS_TIMEOUT_S,
    error_meaning,
    value_problems,
)

ERROR_STYLE = "color: #b3261e;"
OK_STYLE = "color: #1b7f3b;"


def _label(name: str, text: str = "", wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _simulated_label() -> QLabel:
    return simulated_badge("Sandbox account: everything goes to the local emulator, not to Meta.")


def _time(value: Any) -> str:
    return value.astimezone(UTC).strftime("%H:%M:%S UTC")


class _Page(QWizardPage):
    """A wizard page with the helpers every step uses."""

    def __init__(self, wizard: TestSendWizard, title: str, subtitle: str = "") -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle(title)
        if subtitle:
            self.setSubTitle(subtitle)
        self.layout_ = QVBoxLayout(self)
        self.message = _label("pageMessage")
        self.layout_.addWidget(self.message)

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")


class _ListPage(_Page):
    """A page whose answer is one item of a list loaded on the storage pool."""

    def __init__(self, wizard: TestSendWizard, title: str, subtitle: str,
                 list_name: str) -> None:
        super().__init__(wizard, title, subtitle)
        self.items = QListWidget()
        self.items.setObjectName(list_name)
        self.items.currentItemChanged.connect(lambda *_: self.completeChanged.emit())
        self.layout_.addWidget(self.items, 1)
        self.loaded = False

    def chosen(self) -> Any | None:
        item = self.items.currentItem()
        if item is None or item.isHidden():
            return None
        return item.data(Qt.ItemDataRole.UserRole)

    def isComplete(self) -> bool:  # noqa: N802 (Qt override)
        return self.chosen() is not None

    def fill(self, rows: list[tuple[str, Any]]) -> None:
        self.items.clear()
        for text, data in rows:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, data)
            self.items.addItem(item)
        self.loaded = True
        self.completeChanged.emit()


class SenderPage(_ListPage):
    def __init__(self, wizard: TestSendWizard) -> None:
        super().__init__(wizard, "Sender", "The number the test message is sent from.",
                         "senderList")

    def initializePage(self) -> None:  # noqa: N802
        if self.loaded:
            return
        ctx = self.wiz.ctx
        self.show_message("Loading the senders…")

        def work(_task: Any) -> list[Any]:
            from wa_console.store.senders import list_senders

            return list_senders(ctx.store.engine, ctx.account_id)

        self.wiz.storage(work, self._loaded)

    def _loaded(self, senders: list[Any]) -> None:
        valid = [s for s in senders if s.validation.valid]
        self.fill([(f"{s.label} — {s.value}" + (f" ({s.verified_name})"
                                                 if s.verified_name else ""), s.id)
                   for s in valid])
        if not valid:
            invalid = len(senders) - len(valid)
            why = (f" ({invalid} sender(s) exist but none is valid now)" if invalid else "")
            self.show_message("There is no valid sender" + why + ": add one on the Senders "
                              "page (a synced, connected number of this WABA), then run the "
                              "test send again.", error=True)
        else:
            self.show_message("Only valid senders are listed.")
            self.items.setCurrentRow(0)


class TemplatePage(_ListPage):
    def __init__(self, wizard: TestSendWizard) -> None:
        super().__init__(wizard, "Approved template",
                         "Only APPROVED templates, once per language they exist in.",
                         "templateList")
        self.search = QLineEdit()
        self.search.setObjectName("templateSearch")
        self.search.setPlaceholderText("Search by name or language")
        self.search.textChanged.connect(self._filter)
        self.layout_.insertWidget(1, self.search)

    def initializePage(self) -> None:  # noqa: N802
        if self.loaded:
            return
        ctx = self.wiz.ctx
        self.show_message("Loading the approved templates…")

        def work(_task: Any) -> list[Any]:
            from wa_console.store.synced import template_list

            return [t for t in template_list(ctx.store.engine, ctx.account_id,
                                             include_removed=False)
                    if t.meta_id is not None and t.status == "APPROVED"]

        self.wiz.storage(work, self._loaded)

    def _loaded(self, rows: list[Any]) -> None:
        self.fill([(f"{t.name} — {t.language}", t.id) for t in rows])
        self.show_message(f"{len(rows)} approved template(s)." if rows else
                          "No APPROVED template is synced: sync the templates on Verify & "
                          "sync (or get one approved), then run the test send again.",
                          error=not rows)
        self._filter(self.search.text())

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.items.count()):
            item = self.items.item(i)
            item.setHidden(bool(needle) and needle not in item.text().lower())
        self.completeChanged.emit()


class RecipientPage(_ListPage):
    def __init__(self, wizard: TestSendWizard) -> None:
        super().__init__(wizard, "Test recipient",
                         "Only internal phones with an opt-in record are listed.",
                         "recipientList")

    def initializePage(self) -> None:  # noqa: N802
        if self.loaded:
            return
        ctx = self.wiz.ctx
        self.show_message("Loading the test recipients…")

        def work(_task: Any) -> list[Any]:
            from wa_console.store.recipients import list_recipients

            return list_recipients(ctx.store.engine, ctx.account_id)

        self.wiz.storage(work, self._loaded)

    def _loaded(self, recipients: list[Any]) -> None:
        opted_in = [r for r in recipients if r.opted_in]
        self.wiz.recipient_phones = {r.id: r.phone for r in opted_in}
        self.fill([(f"{r.phone}" + (f" — {r.label}" if r.label else ""), r.id)
                   for r in opted_in])
        if not opted_in:
            self.show_message("There is no opted-in test recipient: add an internal phone with "
                              "its opt-in record (who, when, how) on the Recipients page.",
                              error=True)
        else:
            self.show_message("Test sends only go to opted-in recipients.")
            self.items.setCurrentRow(0)


class ValuesPage(_Page):
    """One field per template parameter, prefilled from the template's samples, linted live."""

    def __init__(self, wizard: TestSendWizard) -> None:
        super().__init__(wizard, "Parameter values",
                         "Prefilled from the template's examples; change them as you like.")
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.layout_.addWidget(self.form_host)
        self.errors = _label("valuesErrors")
        self.errors.setStyleSheet(ERROR_STYLE)
        self.layout_.addWidget(self.errors)
        self.layout_.addStretch(1)
        self.fields: dict[str, QLineEdit] = {}
        self.inline: dict[str, QLabel] = {}
        self.draft: Any = None
        self._loaded_for: int | None = None

    def initializePage(self) -> None:  # noqa: N802
        row_id = self.wiz.template_row_id
        if row_id == self._loaded_for:
            return
        ctx = self.wiz.ctx
        self.draft = None
        self._clear()
        self.show_message("Loading the template…")

        def work(_task: Any) -> Any:
            from wa_console.store.test_sends import template_for_send

            return template_for_send(ctx.store.engine, row_id)

        self.wiz.storage(work, lambda t: self._loaded(row_id, t),
                         lambda exc: self.show_message(str(exc), error=True))

    def _clear(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields, self.inline = {}, {}
        self.completeChanged.emit()

    def _loaded(self, row_id: int, template: Any) -> None:
        if row_id != self.wiz.template_row_id:
            return
        self._loaded_for, self.draft = row_id, template.draft
        draft = template.draft
        for key, label, value in self._parameters(draft):
            entry = QLineEdit(value)
            entry.setObjectName(f"value_{key}")
            entry.textChanged.connect(self._check)
            inline = _label(f"error_{key}")
            inline.setStyleSheet(ERROR_STYLE)
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(entry)
            column.addWidget(inline)
            caption = QLabel(label)
            caption.setBuddy(entry)
            self.form.addRow(caption, box)
            for widget in (caption, box):
                widget.show()  # now children: shown at once, not on the layout's queued show
            self.fields[key], self.inline[key] = entry, inline
        self.show_message(f"{template.name} ({template.language})" + (
            "" if self.fields else ": this template has no parameters."))
        self._check()

    @staticmethod
    def _parameters(draft: Any) -> list[tuple[str, str, str]]:
        """(value key, label, prefilled value) of every parameter the send needs."""
        samples = draft.samples
        positional = draft.parameter_format is ParameterFormat.POSITIONAL
        out: list[tuple[str, str, str]] = []

        def text_keys(keys: tuple[str, ...], where: str) -> None:
            for i, key in enumerate(keys, start=1):
                shown = f"{{{{{i}}}}}" if positional else f"{{{{{key}}}}}"
                out.append((key, f"{where} {shown}", samples.get(key) or samples.get(str(i), "")))

        if draft.header_format is HeaderFormat.TEXT:
            text_keys(draft.header_keys, "Header")
        elif draft.header_format is not HeaderFormat.NONE:
            out.append((HEADER_MEDIA_KEY, f"Header {draft.header_format.value.lower()} "
                                          "(https link or media ID)", ""))
        text_keys(draft.body_keys, "Body")
        for index, button in enumerate(draft.buttons):
            if button.type is ButtonType.URL and has_variable(button.url):
                out.append((url_key(index), f"URL button '{button.text}'", button.url_sample))
        return out

    def values(self) -> dict[str, str]:
        return {key: entry.text() for key, entry in self.fields.items()}

    def _check(self) -> None:
        for key, entry in self.fields.items():
            missing = not entry.text().strip()
            self.inline[key].setText("Enter a value." if missing else "")
            self.inline[key].setVisible(missing)
        problems = value_problems(self.draft, self.values()) if self.draft is not None else []
        self.errors.setText("\n".join(problems))
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        return self.draft is not None and not self.errors.text()


class ReviewPage(_Page):
    """The exact payload, the live confirmation, and the one Send button."""

    def __init__(self, wizard: TestSendWizard) -> None:
        super().__init__(wizard, "Review and send",
                         "This JSON is exactly what is posted to /messages.")
        self.payload_view = QPlainTextEdit()
        self.payload_view.setObjectName("payloadView")
        self.payload_view.setReadOnly(True)
        self.layout_.addWidget(self.payload_view, 1)
        row = QHBoxLayout()
        self.copy_button = QPushButton("Copy payload")
        self.copy_button.setObjectName("copyPayload")
        self.copy_button.clicked.connect(self._copy)
        row.addWidget(self.copy_button)
        row.addStretch(1)
        self.simulated = _simulated_label()
        row.addWidget(self.simulated)
        self.layout_.addLayout(row)
        self.confirm = QCheckBox()
        self.confirm.setObjectName("confirmLive")
        self.confirm.toggled.connect(self._update_send)
        self.layout_.addWidget(self.confirm)
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self.send_button.clicked.connect(self._send)
        self.layout_.addWidget(self.send_button)
        self.send_error = _label("sendError")
        self.send_error.setStyleSheet(ERROR_STYLE)
        self.layout_.addWidget(self.send_error)
        self.setCommitPage(True)  # no way back to change what was sent
        self.plan: Any = None
        self.sending = False

    def initializePage(self) -> None:  # noqa: N802
        wiz, ctx = self.wiz, self.wiz.ctx
        self.plan = None
        self.payload_view.clear()
        self.send_error.clear()
        self.simulated.setVisible(ctx.sandbox)
        self.confirm.setVisible(not ctx.sandbox)
        self.confirm.setChecked(False)
        self.show_message("Building the payload…")
        choice = wiz.choice()
        self._update_send()

        def work(_task: Any) -> Any:
            from wa_console.ops.test_send import prepare_send

            return prepare_send(ctx.store, ctx.account_id, **choice)

        wiz.storage(work, self._planned, self._refused)

    def _planned(self, plan: Any) -> None:
        self.plan = plan
        self.payload_view.setPlainText(json.dumps(plan.payload, indent=2, ensure_ascii=False))
        self.confirm.setText(f"I understand a real WhatsApp message will be sent to "
                             f"{plan.recipient_phone}")
        where = (f"the sandbox emulator ({SIMULATED_LABEL})" if plan.simulated
                 else "Meta (a real message)")
        self.show_message(f"'{plan.template_name}' ({plan.language}) from {plan.sender_label} "
                          f"to {plan.recipient_phone}, through {where}.")
        self._update_send()

    def _refused(self, exc: BaseException) -> None:
        self.show_message(f"This send cannot go ahead: {exc}", error=True)
        self._update_send()

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.payload_view.toPlainText())

    def _update_send(self) -> None:
        ready = self.plan is not None and (self.wiz.ctx.sandbox or self.confirm.isChecked())
        self.send_button.setEnabled(ready and not self.sending and self.wiz.outcome is None)

    def _send(self) -> None:
        if self.sending or self.plan is None or self.wiz.outcome is not None:
            return
        self.sending = True  # before anything else: a second click does nothing
        self.send_button.setEnabled(False)
        self.send_error.clear()
        self.show_message("Sending…")
        self.wiz.start_send(self.plan, self._sent, self._send_failed)

    def _sent(self, outcome: Any) -> None:
        self.sending = False
        if outcome.state == "rejected":
            # Nothing was sent: a new attempt gets a new client_ref.
            self.wiz.new_client_ref()
            self.wiz.plan = None  # the refusal stays on its message record; no proof
            self.send_error.setText(f"The send was refused; nothing was sent. {outcome.error}")
            self.show_message("Fix the cause, then send again.", error=True)
            self._update_send()
            return
        self.wiz.outcome = outcome
        self.completeChanged.emit()
        self.wiz.sent.emit(outcome)
        self.wiz.next()

    def _send_failed(self, exc: BaseException) -> None:
        self.sending = False
        self.send_error.setText(f"The send did not start: {exc}")
        self._update_send()

    def isComplete(self) -> bool:  # noqa: N802
        return self.wiz.outcome is not None


class TimelinePage(_Page):
    """The wamid, the status callbacks as they arrive, then the wait for the reply."""

    def __init__(self, wizard: TestSendWizard) -> None:
        super().__init__(wizard, "Status and reply",
                         "Status callbacks for the message appear here as Meta sends them.")
        self.wamid_label = _label("wamidLabel")
        self.layout_.insertWidget(0, self.wamid_label)
        self.timeline = QListWidget()
        self.timeline.setObjectName("timeline")
        self.layout_.addWidget(self.timeline, 1)
        self.instruction = _label("instruction")
        self.layout_.addWidget(self.instruction)
        self.countdown = _label("countdown")
        self.layout_.addWidget(self.countdown)
        row = QHBoxLayout()
        self.simulate_button = QPushButton("Simulate the reply")
        self.simulate_button.setObjectName("simulateReply")
        self.simulate_button.setToolTip(f"The sandbox test phone answers ({SIMULATED_LABEL}).")
        self.simulate_button.clicked.connect(self._simulate)
        row.addWidget(self.simulate_button)
        row.addStretch(1)
        self.simulated = _simulated_label()
        row.addWidget(self.simulated)
        self.layout_.addLayout(row)
        self.diagnosis = _label("diagnosis")
        self.diagnosis.setStyleSheet(ERROR_STYLE)
        self.layout_.addWidget(self.diagnosis)
        self.setCommitPage(True)  # going back would restart the wait
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.phase = "status"  # status -> reply -> done
        self.phase_started = 0.0
        self._polling = False
        self._simulating = False

    def initializePage(self) -> None:  # noqa: N802
        wiz = self.wiz
        outcome = wiz.outcome
        self.simulated.setVisible(wiz.ctx.sandbox)
        self.simulate_button.setVisible(wiz.ctx.sandbox)
        self.simulate_button.setEnabled(False)
        if outcome.wamid:
            self.wamid_label.setText(f"Accepted by Meta. wamid: {outcome.wamid}")
        else:
            self.wamid_label.setText(
                "Outcome unknown: the answer to the send was lost, so the message may or may "
                "not have gone out. It is NOT resent; watching for a status callback to "
                f"{wiz.plan.recipient_phone} to resolve it.")
        self.instruction.setText("Waiting for the status callbacks (sent, delivered, read)…")
        self.phase, self.phase_started = "status", time.monotonic()
        self.timer.start(wiz.poll_ms)
        self._tick()

    def cleanupPage(self) -> None:  # noqa: N802
        self.timer.stop()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        if self.phase == "done":
            return
        limit = (self.wiz.status_timeout_s if self.phase == "status"
                 else self.wiz.reply_timeout_s)
        waited = time.monotonic() - self.phase_started
        what = "status callbacks" if self.phase == "status" else "the reply"
        self.countdown.setText(f"Waiting for {what}: {max(0, int(limit - waited + 0.999))} s "
                               "left")
        if waited >= limit and not self._polling:
            self._timed_out(limit)
            return
        if self._polling:
            return
        self._polling = True
        client_ref = self.wiz.client_ref

        def work(_task: Any) -> Any:
            from wa_console.ops.test_send import watch

            return watch(self.wiz.ctx.store.engine, client_ref)

        self.wiz.storage(work, self._shown, self._poll_failed)

    def _poll_failed(self, exc: BaseException) -> None:
        self._polling = False
        self.diagnosis.setText(f"Could not read the stored callbacks: {exc}")

    def _shown(self, progress: Any) -> None:
        self._polling = False
        if self.phase == "done":
            return
        wiz = self.wiz
        wiz.progress = progress
        self._render(progress)
        wiz.progressed.emit(progress)
        if progress.wamid and not wiz.outcome.wamid:
            self.wamid_label.setText(f"Resolved from a status callback. wamid: {progress.wamid}"
                                     " (it was sent once; nothing was resent)")
        self.simulate_button.setEnabled(bool(progress.wamid) and not self._simulating
                                        and progress.reply is None)
        if progress.failed is not None:
            meaning = "; ".join(error_meaning(e) for e in progress.failed.errors or ())
            self._finish(f"The message failed: {meaning or 'Meta gave no error'}")
            return
        if progress.reply is not None:
            self.instruction.setText("The reply arrived.")
            self._finish("")
            wiz.next()
            return
        if self.phase == "status" and progress.signed_statuses:
            self.phase, self.phase_started = "reply", time.monotonic()
            phone = wiz.plan.recipient_phone
            self.instruction.setText(
                f"Reply from the phone now: send any message from {phone} to "
                f"{wiz.plan.sender_value} (replying to the test message is best).")

    def _render(self, progress: Any) -> None:
        lines = []
        for s in progress.statuses:
            signed = "signature valid" if s.signature_valid else "signature NOT valid"
            line = f"{s.status} at {_time(s.timestamp)} ({signed})"
            if s.errors:
                line += " — " + "; ".join(error_meaning(e) for e in s.errors)
            lines.append(line)
        for r in progress.replies:
            lines.append(f"reply “{r.text or r.type}” at {_time(r.timestamp)} "
                         f"({'signature valid' if r.signature_valid else 'signature NOT valid'})")
        if lines != [self.timeline.item(i).text() for i in range(self.timeline.count())]:
            self.timeline.clear()
            self.timeline.addItems(lines)

    def _timed_out(self, limit: float) -> None:
        self.phase = "done"
        self.timer.stop()
        self.countdown.setText("")
        ctx, client_ref = self.wiz.ctx, self.wiz.client_ref

        def work(_task: Any) -> tuple[Any, str]:
            from wa_console.ops.test_send import diagnose, watch

            # Fresh, not the last poll's: what arrived meanwhile counts.
            latest = watch(ctx.store.engine, client_ref)
            return latest, diagnose(ctx.store.engine, ctx.store, ctx.account_id, latest, limit)

        self.wiz.storage(work, self._diagnosed,
                         lambda exc: self._finish(f"Timed out; the diagnosis failed: {exc}",
                                                  already_done=True))

    def _diagnosed(self, result: tuple[Any, str]) -> None:
        progress, text = result
        self.wiz.progress = progress
        self._render(progress)
        self._finish(text, already_done=True)

    def _finish(self, problem: str, already_done: bool = False) -> None:
        if self.phase == "done" and not already_done:
            return
        self.phase = "done"
        self.timer.stop()
        self.countdown.setText("")
        self.simulate_button.setEnabled(False)
        self.diagnosis.setText(problem)
        self.completeChanged.emit()

    def _simulate(self) -> None:
        progress = self.wiz.progress
        if progress is None or not progress.wamid or self._simulating:
            return
        self._simulating = True
        self.simulate_button.setEnabled(False)
        simulator, wamid = self.wiz.simulator, progress.wamid

        def done(_result: Any) -> None:
            self._simulating = False

        def failed(exc: BaseException) -> None:
            self._simulating = False
            self.diagnosis.setText(f"The simulated reply failed: {exc}")

        run_task(lambda _task: simulator(wamid), pool=self.wiz.ctx.remote_pool,
                 on_success=while_alive(self, done), on_failure=while_alive(self, failed))

    def isComplete(self) -> bool:  # noqa: N802
        return self.phase == "done"


class VerdictPage(_Page):
    def __init__(self, wizard: TestSendWizard) -> None:
        super().__init__(wizard, "Verdict", "The proof record is saved with the verdict.")
        self.verdict_label = _label("verdictLabel")
        font = self.verdict_label.font()
        font.setBold(True)
        self.verdict_label.setFont(font)
        self.layout_.insertWidget(0, self.verdict_label)
        self.simulated = _simulated_label()
        self.layout_.insertWidget(1, self.simulated, 0, Qt.AlignmentFlag.AlignLeft)
        self.record_view = QPlainTextEdit()
        self.record_view.setObjectName("recordView")
        self.record_view.setReadOnly(True)
        self.layout_.addWidget(self.record_view, 1)
        self.export_button = QPushButton("Export JSON…")
        self.export_button.setObjectName("exportProof")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._export)
        self.layout_.addWidget(self.export_button)
        self.setFinalPage(True)

    def initializePage(self) -> None:  # noqa: N802
        from wa_console.ops.test_send import verdict

        wiz = self.wiz
        self.simulated.setVisible(wiz.ctx.sandbox)
        result = verdict(wiz.progress, wiz.plan.simulated) if wiz.progress else None
        self.verdict_label.setText(result.label if result else "No progress was recorded.")
        self.verdict_label.setStyleSheet(OK_STYLE if result and result.proven else ERROR_STYLE)
        self.show_message("Saving the proof record…")
        wiz.save_proof(note="", on_saved=self._saved)

    def _saved(self, proof: Any) -> None:
        from wa_console.store.proofs import export_proof_json

        self.record_view.setPlainText(export_proof_json(proof))
        # The stored verdict is the last word (a callback may have arrived since the label).
        self.verdict_label.setText(str(proof.record.get("verdict_label") or proof.summary))
        self.verdict_label.setStyleSheet(OK_STYLE if proof.verdict == "proven" else ERROR_STYLE)
        self.show_message(f"Proof record #{proof.id} saved; it is listed on the Proofs page.")
        self.export_button.setEnabled(True)

    def _export(self) -> None:
        export_proof(self.wiz.prompts, self.wiz.proof, self.wiz.ctx, self)


def export_proof(prompts: Prompts, proof: Any, ctx: PageContext, owner: QWidget) -> None:
    """Ask where to write `proof` as JSON and write it on the storage pool."""
    if proof is None:
        return
    path = prompts.export_proof_path(f"proof-{proof.id}.json")
    if not path:
        return

    def work(_task: Any) -> str:
        from wa_console.store.proofs import export_proof_json

        Path(path).write_text(export_proof_json(proof), encoding="utf-8")
        return path

    run_task(work, pool=ctx.storage_pool,
             on_success=while_alive(owner, lambda p: prompts.info(
                 "Proof exported", f"The proof record was written to {p}.")),
             on_failure=while_alive(owner, lambda exc: prompts.error(
                 "Export failed", f"The proof record could not be written: {exc}")))


class TestSendWizard(QWizard):
    """The guided test send. `status_timeout_s`, `reply_timeout_s` and `poll_ms` are plain
    attributes (tests shorten them); `simulator(wamid)` makes the sandbox phone reply."""

    __test__ = False  # not a pytest test class despite the name

    sent = Signal(object)
    progressed = Signal(object)
    proof_saved = Signal(object)

    def __init__(self, ctx: PageContext, prompts: Prompts, parent: QWidget | None = None, *,
                 simulator: Callable[[str], str] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("testSendWizard")
        self.setWindowTitle(f"Test send and reply — {ctx.account_name}")
        self.ctx, self.prompts = ctx, prompts
        self.status_timeout_s = STATUS_TIMEOUT_S
        self.reply_timeout_s = REPLY_TIMEOUT_S
        self.poll_ms = 500
        self.simulator = simulator or self._default_simulator
        self.client_ref = uuid.uuid4().hex  # once per run: a second Send finds the same row
        # The review and timeline pages are commit pages (no way back); their button moves on.
        self.setButtonText(QWizard.WizardButton.CommitButton, "Next >")
        self.recipient_phones: dict[int, str] = {}
        self.plan: Any = None
        self.outcome: Any = None
        self.progress: Any = None
        self.proof: Any = None
        self._proof_pending = False
        self.sender_page = SenderPage(self)
        self.template_page = TemplatePage(self)
        self.recipient_page = RecipientPage(self)
        self.values_page = ValuesPage(self)
        self.review_page = ReviewPage(self)
        self.timeline_page = TimelinePage(self)
        self.verdict_page = VerdictPage(self)
        for page in (self.sender_page, self.template_page, self.recipient_page,
                     self.values_page, self.review_page, self.timeline_page,
                     self.verdict_page):
            self.addPage(page)

    # --- shared state -------------------------------------------------------------------------
    @property
    def template_row_id(self) -> int | None:
        return self.template_page.chosen()

    def choice(self) -> dict[str, Any]:
        return {"sender_id": self.sender_page.chosen(),
                "template_row_id": self.template_page.chosen(),
                "recipient_id": self.recipient_page.chosen(),
                "values": self.values_page.values()}

    def new_client_ref(self) -> None:
        self.client_ref = uuid.uuid4().hex

    def storage(self, work: Callable[[Any], Any], on_success: Callable[[Any], None],
                on_failure: Callable[[BaseException], None] | None = None) -> None:
        """Run `work` on the storage pool; results come back only while the wizard lives."""
        run_task(work, pool=self.ctx.storage_pool, on_success=while_alive(self, on_success),
                 on_failure=while_alive(self, on_failure or self._show_failure))

    def _show_failure(self, exc: BaseException) -> None:
        page = self.currentPage()
        if isinstance(page, _Page):
            page.show_message(str(exc), error=True)

    def _default_simulator(self, wamid: str) -> str:
        from wa_console.ops.test_send import simulate_reply

        return simulate_reply(wamid)

    # --- the send -----------------------------------------------------------------------------
    def start_send(self, plan: Any, on_success: Callable[[Any], None],
                   on_failure: Callable[[BaseException], None]) -> None:
        self.plan = plan
        ctx, client_ref, choice = self.ctx, self.client_ref, self.choice()

        def work(task: Any) -> Any:
            from wa_console.ops.context import OpContext
            from wa_console.ops.test_send import send_test

            # The send is never cancelled half-way: once posted, its outcome must be stored.
            op = OpContext(report=task.report)
            return send_test(op, ctx.store, ctx.account_id, client_ref=client_ref,
                             base_url=ctx.base_url, **choice)

        run_task(work, pool=ctx.remote_pool, on_success=while_alive(self, on_success),
                 on_failure=while_alive(self, on_failure))

    # --- the proof ----------------------------------------------------------------------------
    def save_proof(self, note: str, on_saved: Callable[[Any], None] | None = None) -> None:
        """Store the proof of this run once (on the storage pool)."""
        if self.plan is None or self.proof is not None or self._proof_pending:
            return
        self._proof_pending = True
        ctx, plan, outcome, client_ref = self.ctx, self.plan, self.outcome, self.client_ref

        def work(_task: Any) -> Any:
            from wa_console.ops.test_send import record_proof, verdict, watch
            from wa_console.store.test_sends import send_record

            progress = (watch(ctx.store.engine, client_ref)
                        if send_record(ctx.store.engine, client_ref) is not None else None)
            result = verdict(progress, plan.simulated) if progress is not None else None
            if result is None:
                from wa_console.ops.test_send import Verdict

                result = Verdict(False, "incomplete", "Not sent", ("the send",))
            return record_proof(ctx.store.engine, plan, progress, result, outcome, note)

        def saved(proof: Any) -> None:
            self.proof = proof
            self.proof_saved.emit(proof)
            if on_saved is not None:
                on_saved(proof)

        # Not tied to the wizard's life: a proof saved on cancel must still be stored.
        run_task(work, pool=ctx.storage_pool, on_success=while_alive(self, saved))

    def done(self, result: int) -> None:
        """Cancel (or finish) at any point: stop polling; a send that happened keeps a
        consistent record and, when cancelled before the verdict, an "incomplete" proof."""
        self.timeline_page.stop()
        if result != QWizard.DialogCode.Accepted and self.plan is not None:
            note = ("cancelled while the send was in flight; the message record shows its "
                    "outcome" if self.review_page.sending else "cancelled by the admin")
            self.save_proof(note=note)
        super().done(result)
