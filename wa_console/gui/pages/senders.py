"""The Senders page: sender accounts on synced numbers (top) and test recipients with consent
(bottom).

Senders: a table of the account's senders, each validated against the last Sync channel account
(status "Valid" or the problem), and an Add sender row choosing among the synced numbers of the
WABA (display number and phone number ID both shown; numbers that cannot send are listed but
disabled, with the reason) and the value the platform uses. Before any sync the page says so and
offers the sync (`action_requested("sync_account")`, wired by the main window).

Test recipients: number, label and consent state (when, who, how; the opt-out reason), Add
recipient with the error inline, Record opt-in / Opt out through a dialog asking who recorded
it and how, the full history, and the account's opt-out keywords.

All storage work runs on `ctx.storage_pool` through `run_task`; questions go through `prompts`
(through the main window's Prompts, scripted in tests).

Signals:
    data_changed(): a sender, recipient or keyword change was saved (readiness refreshes).
    action_requested(str): the admin asked for another page's action ("sync_account").
    refreshed(): a load finished and is on screen (its result or its error).
    action_failed(str): a change was refused; the message is shown inline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from wa_console.core.senders import SENDER_VALUE_LABELS, SENDER_VALUES
from wa_console.gui.pages import PageContext
from wa_console.gui.pages.phones import BAD, GOOD, NEUTRAL, WARN
from wa_console.gui.prompts import WindowPrompts
from wa_console.gui.tasks import LatestOnly, run_task, while_alive
from wa_console.gui.widgets import read_only_table, simulated_badge

NO_SYNC_TEXT: Final = ("No phone numbers are synced for this WABA yet. Sync the channel account "
                       "first, then pick the number to send from.")
SENDER_COLUMNS: Final = ("Label", "Number", "Phone number ID", "Value used", "Verified name",
                         "Quality", "Tier", "Status")
RECIPIENT_COLUMNS: Final = ("Number", "Label", "Consent", "Since", "Recorded by", "How",
                            "Opt-out reason")


@dataclass(frozen=True)
class _PageData:
    senders: list[Any]
    candidates: list[Any]
    recipients: list[Any]
    keywords: tuple[str, ...]


def _item(text: str, colour: str | None = None, tip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if colour:
        item.setForeground(QColor(colour))
    if tip:
        item.setToolTip(tip)
    return item


def _bold(label: QLabel, scale: float = 1.0) -> QLabel:
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * scale)
    label.setFont(font)
    return label


def sender_status(sender: Any) -> tuple[str, str]:
    """The Status cell of a sender: its text and colour."""
    validation = sender.validation
    if not validation.valid:
        return f"Problem: {validation.errors[0]}", BAD
    if validation.warnings:
        n = len(validation.warnings)
        return f"Valid ({n} warning{'s' if n != 1 else ''})", WARN
    return "Valid", GOOD


def candidate_text(candidate: Any) -> str:
    """An Add sender choice: display number, phone number ID, name and, if disabled, why."""
    phone = candidate.phone
    text = (f"{phone.display_phone_number or '(no number)'} — ID {phone.meta_id} — "
            f"{phone.verified_name or '(no verified name)'}")
    if candidate.sender_label is not None:
        return f"{text} (already the sender '{candidate.sender_label}')"
    if not candidate.validation.valid:
        return f"{text} (cannot send: {candidate.validation.errors[0]})"
    return text


class SendersPage(QWidget):
    """Senders and test recipients of the shown account (see the module docstring)."""

    prompts = WindowPrompts()

    data_changed = Signal()
    action_requested = Signal(str)
    refreshed = Signal()
    action_failed = Signal(str)

    def __init__(self, parent: QWidget | None = None, prompts: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("sendersPage")
        self.ctx: PageContext | None = None
        if prompts is not None:
            self.prompts = prompts
        self.senders: list[Any] = []
        self.candidates: list[Any] = []
        self.recipients: list[Any] = []
        self._loads = LatestOnly(self)
        self._busy = False
        self._select_after_reload: str | None = None  # a recipient's phone, after adding it

        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(_bold(QLabel("Senders"), 1.25), 1)
        self.simulated = simulated_badge(
            "These numbers come from the local sandbox emulator, not Meta.")
        self.simulated.hide()
        top.addWidget(self.simulated)
        outer.addLayout(top)

        # --- senders ---------------------------------------------------------------------------
        sync_row = QHBoxLayout()
        self.message = QLabel()
        self.message.setObjectName("sendersMessage")
        self.message.setWordWrap(True)
        sync_row.addWidget(self.message, 1)
        self.sync_button = QPushButton("Sync channel account")
        self.sync_button.setObjectName("syncAccountButton")
        self.sync_button.clicked.connect(lambda: self.action_requested.emit("sync_account"))
        self.sync_button.hide()
        sync_row.addWidget(self.sync_button)
        outer.addLayout(sync_row)

        self.senders_table = read_only_table(SENDER_COLUMNS, "sendersTable")
        self.senders_table.itemSelectionChanged.connect(self._update_buttons)
        outer.addWidget(self.senders_table, 2)

        add_row = QHBoxLayout()
        self.phone_combo = QComboBox()
        self.phone_combo.setObjectName("senderPhone")
        self.phone_combo.setToolTip("A synced number of this WABA; numbers that cannot send are "
                                    "listed but disabled, with the reason")
        add_row.addWidget(self.phone_combo, 3)
        self.value_combo = QComboBox()
        self.value_combo.setObjectName("senderValue")
        self.value_combo.setToolTip("What the platform is given to send from this number")
        for value in SENDER_VALUES:
            self.value_combo.addItem(SENDER_VALUE_LABELS[value], value)
        add_row.addWidget(self.value_combo)
        self.label_edit = QLineEdit()
        self.label_edit.setObjectName("senderLabel")
        self.label_edit.setPlaceholderText("Label (default: verified name)")
        add_row.addWidget(self.label_edit, 1)
        self.add_sender_button = QPushButton("Add sender")
        self.add_sender_button.setObjectName("addSenderButton")
        self.add_sender_button.clicked.connect(self._on_add_sender_clicked)
        add_row.addWidget(self.add_sender_button)
        self.change_value_button = QPushButton("Change value")
        self.change_value_button.setObjectName("changeValueButton")
        self.change_value_button.setToolTip("Switch between the display number and the phone "
                                            "number ID")
        self.change_value_button.clicked.connect(self._on_change_value_clicked)
        add_row.addWidget(self.change_value_button)
        self.remove_sender_button = QPushButton("Remove")
        self.remove_sender_button.setObjectName("removeSenderButton")
        self.remove_sender_button.clicked.connect(self._on_remove_sender_clicked)
        add_row.addWidget(self.remove_sender_button)
        outer.addLayout(add_row)
        self.sender_error = self._error_label("senderError")
        outer.addWidget(self.sender_error)

        # --- test recipients -------------------------------------------------------------------
        outer.addWidget(_bold(QLabel("Test recipients"), 1.1))
        note = QLabel("Internal phones a test send may go to. Each needs a recorded opt-in (who, "
                      "when, how); a reply with an opt-out keyword opts it out at once.")
        note.setWordWrap(True)
        outer.addWidget(note)
        self.recipients_table = read_only_table(RECIPIENT_COLUMNS, "recipientsTable")
        self.recipients_table.itemSelectionChanged.connect(self._update_buttons)
        outer.addWidget(self.recipients_table, 2)

        recipient_row = QHBoxLayout()
        self.recipient_phone = QLineEdit()
        self.recipient_phone.setObjectName("recipientPhone")
        self.recipient_phone.setPlaceholderText("e.g. +1 555 010 0199")
        self.recipient_phone.returnPressed.connect(self._on_add_recipient_clicked)
        recipient_row.addWidget(self.recipient_phone, 2)
        self.recipient_label = QLineEdit()
        self.recipient_label.setObjectName("recipientLabel")
        self.recipient_label.setPlaceholderText("Label, e.g. whose phone")
        recipient_row.addWidget(self.recipient_label, 2)
        self.add_recipient_button = QPushButton("Add recipient")
        self.add_recipient_button.setObjectName("addRecipientButton")
        self.add_recipient_button.clicked.connect(self._on_add_recipient_clicked)
        recipient_row.addWidget(self.add_recipient_button)
        self.opt_in_button = QPushButton("Record opt-in…")
        self.opt_in_button.setObjectName("optInButton")
        self.opt_in_button.clicked.connect(lambda: self._on_consent_clicked("opt_in"))
        recipient_row.addWidget(self.opt_in_button)
        self.opt_out_button = QPushButton("Opt out…")
        self.opt_out_button.setObjectName("optOutButton")
        self.opt_out_button.clicked.connect(lambda: self._on_consent_clicked("opt_out"))
        recipient_row.addWidget(self.opt_out_button)
        self.history_button = QPushButton("History")
        self.history_button.setObjectName("historyButton")
        self.history_button.clicked.connect(self._on_history_clicked)
        recipient_row.addWidget(self.history_button)
        outer.addLayout(recipient_row)
        self.recipient_error = self._error_label("recipientError")
        outer.addWidget(self.recipient_error)

        keyword_row = QHBoxLayout()
        keyword_row.addWidget(QLabel("Opt-out keywords"))
        self.keywords_edit = QLineEdit()
        self.keywords_edit.setObjectName("optOutKeywords")
        self.keywords_edit.setToolTip("Comma separated. An inbound message that is exactly one "
                                      "of them (any case) opts its sender out.")
        keyword_row.addWidget(self.keywords_edit, 1)
        self.save_keywords_button = QPushButton("Save keywords")
        self.save_keywords_button.setObjectName("saveKeywordsButton")
        self.save_keywords_button.clicked.connect(self._on_save_keywords_clicked)
        keyword_row.addWidget(self.save_keywords_button)
        outer.addLayout(keyword_row)
        self.keywords_error = self._error_label("keywordsError")
        outer.addWidget(self.keywords_error)

        self._show_message("No account selected")
        self._update_buttons()

    @staticmethod
    def _error_label(name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setStyleSheet(f"color: {BAD};")
        label.hide()
        return label

    # --- the page contract --------------------------------------------------------------------
    def set_context(self, ctx: PageContext | None) -> None:
        """Show another account's senders and recipients (None: no account)."""
        self.ctx = ctx
        self._loads.next()
        self._busy = False
        self._show(_PageData([], [], [], ()))
        for label in (self.sender_error, self.recipient_error, self.keywords_error):
            label.hide()
        self.simulated.setVisible(bool(ctx and ctx.sandbox))
        if ctx is None:
            self._show_message("No account selected")
            self.sync_button.hide()
            self._update_buttons()
            return
        self.refresh()

    def refresh(self) -> None:
        """Reload senders, candidate numbers, recipients and keywords on the storage pool."""
        ctx = self.ctx
        if ctx is None:
            return

        def work(_task: Any) -> _PageData:
            from wa_console.store import recipients, senders

            engine, account = ctx.store.engine, ctx.account_id
            return _PageData(senders.list_senders(engine, account),
                             senders.sender_candidates(engine, account),
                             recipients.list_recipients(engine, account),
                             recipients.opt_out_keywords(engine, account))

        self._loads.load(work, ctx.storage_pool, self._loaded, self._load_failed)

    # --- showing --------------------------------------------------------------------------------
    def _loaded(self, data: _PageData) -> None:
        if self.ctx is None:
            return
        self._show(data)
        if not data.candidates:
            self._show_message(NO_SYNC_TEXT)
            self.sync_button.show()
        else:
            valid = sum(s.validation.valid for s in data.senders)
            self._show_message(f"{len(data.senders)} sender(s), {valid} valid. Senders are "
                               "checked against the last Sync channel account.")
            self.sync_button.hide()
        self.simulated.setVisible(self.ctx.sandbox)
        self.refreshed.emit()

    def _load_failed(self, exc: BaseException) -> None:
        self._show_message(f"Could not load the senders and recipients: {exc}")
        self.refreshed.emit()

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _show(self, data: _PageData) -> None:
        self.senders, self.candidates, self.recipients = (
            list(data.senders), list(data.candidates), list(data.recipients))
        self._fill_senders()
        self._fill_candidates()
        self._fill_recipients()
        self.keywords_edit.setText(", ".join(data.keywords))
        self._update_buttons()

    def _fill_senders(self) -> None:
        table = self.senders_table
        table.setRowCount(len(self.senders))
        for row, s in enumerate(self.senders):
            status, colour = sender_status(s)
            notes = "\n".join(s.validation.errors + s.validation.warnings)
            quality = (s.quality_rating or "UNKNOWN").upper()
            cells = [
                _item(s.label), _item(s.display_phone_number or ""), _item(s.phone_meta_id),
                _item(f"{s.value} ({SENDER_VALUE_LABELS[s.sender_value].lower()})"),
                _item(s.verified_name or ""),
                _item(quality, {"GREEN": GOOD, "YELLOW": WARN, "RED": BAD}.get(quality, NEUTRAL)),
                _item((s.messaging_limit_tier or "unknown").removeprefix("TIER_")),
                _item(status, colour, notes)]
            for column, cell in enumerate(cells):
                table.setItem(row, column, cell)

    def _fill_candidates(self) -> None:
        self.phone_combo.clear()
        model = self.phone_combo.model()
        assert isinstance(model, QStandardItemModel)
        first_enabled = -1
        for index, candidate in enumerate(self.candidates):
            self.phone_combo.addItem(candidate_text(candidate), candidate.phone.meta_id)
            reasons = candidate.validation.errors + candidate.validation.warnings
            model.item(index).setToolTip("\n".join(reasons) or "Can send")
            if not candidate.selectable:
                model.item(index).setEnabled(False)
            elif first_enabled < 0:
                first_enabled = index
        self.phone_combo.setCurrentIndex(first_enabled)

    def _fill_recipients(self) -> None:
        table = self.recipients_table
        table.setRowCount(len(self.recipients))
        for row, r in enumerate(self.recipients):
            latest = r.latest
            if latest is None:
                state, colour = "No opt-in recorded", WARN
            elif r.opted_in:
                state, colour = "Opted in", GOOD
            else:
                state, colour = "Opted out", BAD
            when = f"{latest.at:%Y-%m-%d %H:%M} UTC" if latest else ""
            reason = latest.detail or latest.method if latest and not r.opted_in else ""
            cells = [_item(r.phone), _item(r.label), _item(state, colour),
                     _item(when), _item(latest.recorded_by if latest else ""),
                     _item(latest.method if latest else ""), _item(reason)]
            for column, cell in enumerate(cells):
                table.setItem(row, column, cell)
        wanted, self._select_after_reload = self._select_after_reload, None
        row = next((i for i, r in enumerate(self.recipients) if r.phone == wanted), None)
        if row is not None:
            table.selectRow(row)

    def _selected(self, table: QTableWidget, items: Sequence[Any]) -> Any | None:
        rows = {i.row() for i in table.selectedItems()}
        return items[rows.pop()] if len(rows) == 1 and max(rows) < len(items) else None

    def selected_sender(self) -> Any | None:
        return self._selected(self.senders_table, self.senders)

    def selected_recipient(self) -> Any | None:
        return self._selected(self.recipients_table, self.recipients)

    def _update_buttons(self) -> None:
        ready = self.ctx is not None and not self._busy
        sender, recipient = self.selected_sender(), self.selected_recipient()
        self.add_sender_button.setEnabled(ready and self.phone_combo.currentIndex() >= 0)
        self.change_value_button.setEnabled(ready and sender is not None)
        self.remove_sender_button.setEnabled(ready and sender is not None)
        self.add_recipient_button.setEnabled(ready)
        self.opt_in_button.setEnabled(ready and recipient is not None)
        self.opt_out_button.setEnabled(ready and recipient is not None and recipient.opted_in)
        self.history_button.setEnabled(recipient is not None)
        self.save_keywords_button.setEnabled(ready)

    # --- changes ----------------------------------------------------------------------------
    def _change(self, work: Callable[[Any], Any], error_label: QLabel,
                on_done: Callable[[], None] | None = None) -> None:
        """Run one change on the storage pool; refresh and announce it, or show why not."""
        ctx = self.ctx
        if ctx is None or self._busy:
            return
        self._busy = True
        error_label.hide()
        self._update_buttons()
        generation = self._loads.generation

        def succeeded(_result: Any) -> None:
            self._busy = False
            if generation != self._loads.generation:
                return
            if on_done:
                on_done()
            self.data_changed.emit()
            self.refresh()

        def failed(exc: BaseException) -> None:
            from wa_console.store.recipients import RecipientError
            from wa_console.store.senders import SenderError

            self._busy = False
            self._update_buttons()
            if generation != self._loads.generation:
                return
            text = (str(exc) if isinstance(exc, SenderError | RecipientError)
                    else f"Could not save: {exc}")
            error_label.setText(text)
            error_label.show()
            self.action_failed.emit(text)

        run_task(lambda _task: work(ctx.store.engine), pool=ctx.storage_pool,
                 on_success=while_alive(self, succeeded), on_failure=while_alive(self, failed))

    def _on_add_sender_clicked(self) -> None:
        if self.ctx is None:
            return
        phone_id = self.phone_combo.currentData()
        if phone_id is None:
            return
        value, label = self.value_combo.currentData(), self.label_edit.text().strip() or None
        account = self.ctx.account_id

        def work(engine: Any) -> Any:
            from wa_console.store.senders import create_sender

            return create_sender(engine, account, phone_id, sender_value=value, label=label)

        self._change(work, self.sender_error, on_done=self.label_edit.clear)

    def _on_change_value_clicked(self) -> None:
        sender = self.selected_sender()
        if sender is None:
            return
        other = next(v for v in SENDER_VALUES if v != sender.sender_value)

        def work(engine: Any) -> Any:
            from wa_console.store.senders import update_sender

            return update_sender(engine, sender.id, sender_value=other)

        self._change(work, self.sender_error)

    def _on_remove_sender_clicked(self) -> None:
        sender = self.selected_sender()
        if sender is None or not self.prompts.confirm_remove_sender(sender.label):
            return

        def work(engine: Any) -> None:
            from wa_console.store.senders import delete_sender

            delete_sender(engine, sender.id)

        self._change(work, self.sender_error)

    def _on_add_recipient_clicked(self) -> None:
        if self.ctx is None:
            return
        phone, label = self.recipient_phone.text(), self.recipient_label.text()
        account = self.ctx.account_id

        added: list[Any] = []

        def work(engine: Any) -> Any:
            from wa_console.store.recipients import add_recipient

            added.append(add_recipient(engine, account, phone, label))
            return added[-1]

        def clear() -> None:
            self.recipient_phone.clear()
            self.recipient_label.clear()
            # The next step is recording the opt-in: have the new recipient selected for it.
            self._select_after_reload = added[-1].phone if added else None

        self._change(work, self.recipient_error, on_done=clear)

    def _on_consent_clicked(self, kind: str) -> None:
        recipient = self.selected_recipient()
        if recipient is None:
            return
        answer = self.prompts.consent(kind, recipient.phone)
        if answer is None:
            return

        def work(engine: Any) -> Any:
            from wa_console.store.recipients import record_opt_in, record_opt_out

            record = record_opt_in if kind == "opt_in" else record_opt_out
            return record(engine, recipient.id, recorded_by=answer.recorded_by,
                          method=answer.method, detail=answer.detail)

        self._change(work, self.recipient_error)

    def _on_history_clicked(self) -> None:
        recipient = self.selected_recipient()
        if recipient is not None:
            self.prompts.consent_history(recipient.phone,
                                         [e.describe() for e in recipient.history])

    def _on_save_keywords_clicked(self) -> None:
        if self.ctx is None:
            return
        keywords = self.keywords_edit.text().split(",")
        account = self.ctx.account_id

        def work(engine: Any) -> Any:
            from wa_console.store.recipients import set_opt_out_keywords

            return set_opt_out_keywords(engine, account, keywords)

        self._change(work, self.keywords_error)
