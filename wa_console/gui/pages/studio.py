"""The Template studio page: the account's local drafts beside the `TemplateEditor`.

Left: the drafts (name · language · status) and the actions New draft, Duplicate to language…,
Open synced template…, Delete…. Right: the editor, a status line, Refresh status, a banner for a
draft changed elsewhere and an error panel.

Autosave: the editor's `draft_changed` (150 ms after the last edit) saves the draft on the
storage pool with the loaded version as `expected_version`; while typing never pauses, a
max-wait timer saves anyway every `MAX_UNSAVED_MS`, so at most ~1 s of typing is lost on a
crash. A new draft is inserted by its first save. Saves run one after another (the next waits for
the previous one's new version); a `DraftConflict` stops autosaving and shows the banner.

Submit (the editor's `submit_requested`) saves first, then runs `ops.submit_template` on the
remote pool; Refresh status runs `ops.refresh_template_status`. Storage work runs on
`ctx.storage_pool`, Meta calls on `ctx.remote_pool`, both through `run_task`.

Injectable for tests: `ask_language(current) -> str | None`, `choose_synced(rows) -> row id |
None` (rows: the synced APPROVED `TemplateRow`s), `confirm(text) -> bool`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from wa_console.core.templates.model import Category, TemplateDraft
from wa_console.core.validation import FieldIssue, Severity
from wa_console.gui.error_panel import ErrorPanel
from wa_console.gui.pages import PageContext
from wa_console.gui.studio import TemplateEditor
from wa_console.gui.tasks import TaskContext, TaskHandle, run_task, while_alive
from wa_console.gui.widgets import simulated_badge
from wa_console.store.drafts import (
    DraftConflict,
    DraftRecord,
    delete_draft,
    draft_from_synced,
    duplicate_to_language,
    list_drafts,
    load_draft,
    save_draft,
)

__all__ = ["MAX_UNSAVED_MS", "StudioPage", "draft_label", "status_text"]

MAX_UNSAVED_MS: Final = 1000
CONFLICT_TEXT: Final = ("This draft was changed elsewhere — reload. Autosave is paused; "
                        "nothing more is saved until you reload.")
DELETED_TEXT: Final = ("This draft was deleted elsewhere — reload. Autosave is paused; "
                       "nothing more is saved.")
NO_ACCOUNT_TEXT: Final = "No account selected"
NO_DRIFT_TEXT: Final = "No drift from the approved version"
KEYS_MISMATCH_TEXT: Final = "sends would fail: keys do not match the approved placeholders"
ID_ROLE: Final = Qt.ItemDataRole.UserRole


def status_text(rec: DraftRecord | None) -> str:
    """DRAFT (never submitted), PENDING, APPROVED, or REJECTED with Meta's reason."""
    if rec is None or not rec.meta_id:
        return "DRAFT"
    status = rec.status or "UNKNOWN"
    if status == "REJECTED" and rec.rejected_reason and rec.rejected_reason != "NONE":
        return f"REJECTED ({rec.rejected_reason})"
    return status


def draft_label(rec: DraftRecord) -> str:
    return f"{rec.draft.name or '(unnamed)'} · {rec.draft.language} · {status_text(rec)}"


def _blank() -> TemplateDraft:
    return TemplateDraft(name="", language="en_US", category=Category.UTILITY, body="")


class StudioPage(QWidget):
    """Drafts list + template editor; see the module docstring."""

    data_changed = Signal()

    def __init__(self, parent: QWidget | None = None, *,
                 ask_language: Callable[[str], str | None] | None = None,
                 choose_synced: Callable[[list[Any]], int | None] | None = None,
                 confirm: Callable[[str], bool] | None = None) -> None:
        super().__init__(parent)
        self.ctx: PageContext | None = None
        self._ask_language = ask_language or self._ask_language_dialog
        self._choose_synced = choose_synced or self._choose_synced_dialog
        self._confirm = confirm or self._confirm_dialog
        self._generation = 0          # bumped on set_context: late results are dropped
        self._record: DraftRecord | None = None   # the loaded draft as last stored
        self._draft_id: int | None = None
        self._version: int | None = None
        self._loading = False
        self._dirty = False
        self._conflict = False
        self._saving = False
        self._queued: TemplateDraft | None = None
        self._after_save: list[Callable[[], None]] = []
        self._remote: TaskHandle | None = None
        self._build()
        self.set_context(None)

    # --- construction -------------------------------------------------------------------------

    def _build(self) -> None:
        self.account_label = QLabel(self, objectName="studio.account")
        self.simulated_label = simulated_badge(
            "A sandbox account: submissions go to the local emulator, not to Meta.", self)

        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.drafts_list = QListWidget(left, objectName="studio.drafts")
        self.new_button = QPushButton("New draft", left, objectName="studio.new")
        self.duplicate_button = QPushButton("Duplicate to language…", left,
                                            objectName="studio.duplicate")
        self.open_synced_button = QPushButton("Open synced template…", left,
                                              objectName="studio.open_synced")
        self.delete_button = QPushButton("Delete…", left, objectName="studio.delete")
        left_layout.addWidget(QLabel("Drafts", left))
        left_layout.addWidget(self.drafts_list, 1)
        for button in (self.new_button, self.duplicate_button, self.open_synced_button,
                       self.delete_button):
            left_layout.addWidget(button)

        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        self.status_label = QLabel(right, objectName="studio.status")
        self.save_label = QLabel(right, objectName="studio.saved")
        self.refresh_status_button = QPushButton("Refresh status", right,
                                                 objectName="studio.refresh_status")
        self.busy_label = QLabel(right, objectName="studio.busy")
        status_row = QHBoxLayout()
        status_row.addWidget(self.status_label, 1)
        status_row.addWidget(self.busy_label)
        status_row.addWidget(self.save_label)
        status_row.addWidget(self.refresh_status_button)

        self.conflict_banner = QWidget(right, objectName="studio.conflict")
        self.conflict_banner.setStyleSheet("background-color: #fff3d6;")
        banner_layout = QHBoxLayout(self.conflict_banner)
        self.conflict_label = QLabel(CONFLICT_TEXT, self.conflict_banner,
                                     objectName="studio.conflict_text")
        self.conflict_label.setWordWrap(True)
        self.reload_button = QPushButton("Reload", self.conflict_banner,
                                         objectName="studio.reload")
        banner_layout.addWidget(self.conflict_label, 1)
        banner_layout.addWidget(self.reload_button)

        self.error_panel = ErrorPanel(right)
        self.editor = TemplateEditor(right)
        right_layout.addLayout(status_row)
        right_layout.addWidget(self.conflict_banner)
        right_layout.addWidget(self.error_panel)
        right_layout.addWidget(self.editor, 1)

        # Drift vs the synced APPROVED template of the same name + language (issue 6 §6).
        self.drift_box = QWidget(right, objectName="studio.drift")
        drift_layout = QVBoxLayout(self.drift_box)
        drift_layout.setContentsMargins(0, 0, 0, 0)
        drift_layout.addWidget(QLabel("Drift vs approved", self.drift_box))
        self.drift_list = QListWidget(self.drift_box, objectName="studio.drift_list")
        self.drift_list.setMaximumHeight(90)
        self.keys_warning = QLabel(KEYS_MISMATCH_TEXT, self.drift_box,
                                   objectName="studio.keys_warning")
        self.keys_warning.setStyleSheet("color: #b00020;")
        drift_layout.addWidget(self.drift_list)
        drift_layout.addWidget(self.keys_warning)
        self.keys_warning.hide()
        self.drift_box.hide()
        right_layout.addWidget(self.drift_box)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 4)
        splitter.setSizes([200, 900])  # the drafts list is a narrow column beside the editor
        header = QHBoxLayout()
        header.addWidget(self.account_label, 1)
        header.addWidget(self.simulated_label)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(splitter, 1)

        self._max_wait = QTimer(self)
        self._max_wait.setSingleShot(True)
        self._max_wait.setInterval(MAX_UNSAVED_MS)
        self._max_wait.timeout.connect(self._save_now)

        self.drafts_list.currentItemChanged.connect(self._on_selected)
        self.new_button.clicked.connect(self.new_draft)
        self.duplicate_button.clicked.connect(self.duplicate)
        self.open_synced_button.clicked.connect(self.open_synced)
        self.delete_button.clicked.connect(self.delete)
        self.refresh_status_button.clicked.connect(self.refresh_status)
        self.reload_button.clicked.connect(self.reload_draft)
        self.editor.updated.connect(self._on_editor_updated)
        self.editor.draft_changed.connect(self._on_draft_changed)
        self.editor.submit_requested.connect(self.submit)

    # --- the page contract --------------------------------------------------------------------

    def set_context(self, ctx: PageContext | None) -> None:
        """Show another account's drafts (None: none); unsaved edits of the previous one are
        saved first."""
        if self.ctx is not None and self._dirty and not self._conflict:
            self._save(self.editor.draft())
        self._generation += 1
        self.ctx = ctx
        self._saving, self._queued, self._after_save = False, None, []
        self._remote = None
        self.account_label.setText(ctx.account_name if ctx else NO_ACCOUNT_TEXT)
        self.simulated_label.setVisible(bool(ctx and ctx.sandbox))
        self.error_panel.clear()
        self.busy_label.clear()
        with _blocked(self.drafts_list):
            self.drafts_list.clear()
        self._show(None, _blank())
        self.setEnabled(ctx is not None)
        if ctx is not None:
            self.refresh()

    def refresh(self) -> None:
        """Reload the drafts list (keeps the editor as it is)."""
        ctx = self.ctx
        if ctx is None:
            return
        engine, account_id = ctx.store.engine, ctx.account_id
        self._storage(lambda _t: list_drafts(engine, account_id), self._show_list)

    def shutdown(self) -> None:
        """Save unsaved edits and cancel a running Meta call (the main window then waits for its
        pools)."""
        self._max_wait.stop()
        if self.ctx is not None and self._dirty and not self._conflict:
            self._save(self.editor.draft())
        if self._remote is not None:
            self._remote.cancel()

    # --- state --------------------------------------------------------------------------------

    @property
    def current_id(self) -> int | None:
        return self._draft_id

    @property
    def busy(self) -> bool:
        return self._remote is not None

    @property
    def saving(self) -> bool:
        """A save is running or queued, or edits are not yet saved."""
        return self._saving or self._dirty

    def drafts(self) -> list[tuple[int, str]]:
        """The list as shown: (draft id, text)."""
        return [(self.drafts_list.item(i).data(ID_ROLE), self.drafts_list.item(i).text())
                for i in range(self.drafts_list.count())]

    def _show(self, rec: DraftRecord | None, draft: TemplateDraft) -> None:
        """Load `draft` (stored as `rec`, None: not saved yet) into the editor."""
        self._max_wait.stop()
        self._record = rec
        self._draft_id = rec.id if rec else None
        self._version = rec.version if rec else None
        self._dirty = False
        self._conflict = False
        self.conflict_banner.hide()
        self._loading = True
        try:
            self.editor.set_draft(draft)
        finally:
            self._loading = False
        self.save_label.setText("Saved" if rec else "")
        self._update_status()
        self._select_current()
        self._update_drift(rec)

    def drift_texts(self) -> list[str]:
        """The drift list as shown (empty when the box is hidden)."""
        if not self.drift_box.isVisibleTo(self):
            return []
        return [self.drift_list.item(i).text() for i in range(self.drift_list.count())]

    def _update_drift(self, rec: DraftRecord | None) -> None:
        """Compare the stored draft with its synced APPROVED counterpart, and check its Sender
        account link (store.senders), off the GUI thread."""
        if rec is None or self.ctx is None:
            self.drift_box.hide()
            self.editor.record.show_issues([])
            return
        from wa_console.core.templates.drift import drift, keys_match
        from wa_console.ops.readiness import approved_version
        from wa_console.store.senders import template_sender_problems

        engine, account_id, draft = self.ctx.store.engine, self.ctx.account_id, rec.draft

        def work(_task: TaskContext) -> tuple[tuple[list[str], bool] | None, str | None]:
            link = template_sender_problems(engine, account_id, rec.id).get(rec.id)
            found, approved = approved_version(engine, account_id, draft.name, draft.language)
            if not found or approved is None:
                return None, link
            return ([d.message for d in drift(draft, approved)], keys_match(draft, approved)), link

        def done(result: tuple[tuple[list[str], bool] | None, str | None]) -> None:
            if self._draft_id != rec.id:
                return  # another draft is shown by now
            compared, link = result
            # A link to a missing or invalid sender: sends from this template would fail.
            self.editor.record.show_issues(
                [FieldIssue("sender_account", link, Severity.WARNING)] if link else [])
            if compared is None:
                self.drift_box.hide()
                return
            messages, match = compared
            self.drift_list.clear()
            self.drift_list.addItems(messages or [NO_DRIFT_TEXT])
            self.keys_warning.setVisible(not match)
            self.drift_box.show()

        self._storage(work, done)

    def _update_status(self) -> None:
        rec = self._record
        if rec is None:
            text = "New draft — saved automatically once you type"
        else:
            text = f"Status: {status_text(rec)}"
            if rec.meta_id:
                text += f" · Meta ID {rec.meta_id}"
        if self.ctx is not None and self.ctx.sandbox:
            text += " (simulated)"
        self.status_label.setText(text)
        self._update_buttons()

    def _update_buttons(self) -> None:
        idle = self._remote is None
        has = self._draft_id is not None
        self.new_button.setEnabled(idle)
        self.open_synced_button.setEnabled(idle)
        self.duplicate_button.setEnabled(idle and has)
        self.delete_button.setEnabled(idle and has)
        self.refresh_status_button.setEnabled(
            idle and self._record is not None and bool(self._record.meta_id))

    def _select_current(self) -> None:
        with _blocked(self.drafts_list):
            self.drafts_list.setCurrentRow(-1)
            for i in range(self.drafts_list.count()):
                if self.drafts_list.item(i).data(ID_ROLE) == self._draft_id:
                    self.drafts_list.setCurrentRow(i)
                    break

    def _relabel(self, rec: DraftRecord) -> bool:
        """Update the list line of `rec` (a renamed draft); False when it is not listed."""
        for i in range(self.drafts_list.count()):
            item = self.drafts_list.item(i)
            if item.data(ID_ROLE) == rec.id:
                item.setText(draft_label(rec))
                return True
        return False

    def _show_list(self, records: list[DraftRecord]) -> None:
        with _blocked(self.drafts_list):
            self.drafts_list.clear()
            for rec in records:
                item = QListWidgetItem(draft_label(rec))
                item.setData(ID_ROLE, rec.id)
                if rec.rejected_reason and rec.status == "REJECTED":
                    item.setToolTip(f"Rejected reason: {rec.rejected_reason}")
                self.drafts_list.addItem(item)
        self._select_current()

    # --- tasks --------------------------------------------------------------------------------

    def _mine(self, fn: Callable[..., None]) -> Callable[..., None]:
        """`fn`, dropped when the page is gone or shows another account by then."""
        generation = self._generation

        def call(*args: Any) -> None:
            if generation == self._generation:
                fn(*args)
        return while_alive(self, call)

    def _storage(self, work: Callable[[TaskContext], Any], done: Callable[[Any], None],
                 failed: Callable[[BaseException], None] | None = None) -> None:
        assert self.ctx is not None
        run_task(work, on_success=self._mine(done),
                 on_failure=self._mine(failed or self.error_panel.show_error),
                 pool=self.ctx.storage_pool)

    def _remote_task(self, text: str, op: Callable[..., Any], draft_id: int,
                     done: Callable[[Any], None]) -> None:
        """Run `op(opctx, store, account_id, draft_id, base_url)` on the remote pool (busy)."""
        ctx = self.ctx
        assert ctx is not None
        store, account_id, base_url = ctx.store, ctx.account_id, ctx.base_url

        def work(task: TaskContext) -> Any:
            from wa_console.ops.context import OpContext

            return op(OpContext(report=task.report, cancelled=task.cancelled), store,
                      account_id, draft_id, base_url=base_url)

        def finished() -> None:
            self._remote = None
            self.busy_label.clear()
            self._update_buttons()

        self.error_panel.clear()
        self.busy_label.setText(text)
        self._remote = run_task(
            work, on_success=self._mine(done), on_failure=self._mine(self.error_panel.show_error),
            on_progress=self._mine(lambda _pct, t: self.busy_label.setText(t) if t else None),
            on_finished=self._mine(finished), pool=ctx.remote_pool)
        self._update_buttons()

    # --- autosave -----------------------------------------------------------------------------

    def _on_editor_updated(self) -> None:
        if self._loading or self.ctx is None or self._conflict:
            return
        self._dirty = True
        self.save_label.setText("Editing…")
        if not self._max_wait.isActive():
            self._max_wait.start()

    def _on_draft_changed(self, draft: TemplateDraft) -> None:
        if self._conflict or self.ctx is None:
            return
        self._save(draft)

    def _save_now(self) -> None:
        """The max-wait timer: save what is typed so far even though typing goes on."""
        if self._dirty and not self._conflict and self.ctx is not None:
            self._save(self.editor.draft())

    def _save(self, draft: TemplateDraft, then: Callable[[], None] | None = None) -> None:
        """Save `draft` as the loaded draft; `then` runs once it (and any queued save) is stored.
        One save at a time: a save asked for meanwhile waits for the new version."""
        if then is not None:
            self._after_save.append(then)
        self._max_wait.stop()
        self._dirty = False
        if self._saving:
            self._queued = draft
            return
        ctx = self.ctx
        if ctx is None or self._conflict:
            return
        self._saving = True
        self.save_label.setText("Saving…")
        engine, account_id, sandbox = ctx.store.engine, ctx.account_id, ctx.sandbox
        draft_id, version = self._draft_id, self._version
        created = draft_id is None

        def work(_task: TaskContext) -> DraftRecord:
            return save_draft(engine, account_id, draft, draft_id=draft_id,
                              expected_version=version, simulated=sandbox)

        def saved(rec: DraftRecord) -> None:
            self._saving = False
            if self._draft_id == draft_id:  # still the same draft
                self._record, self._draft_id, self._version = rec, rec.id, rec.version
                self._update_status()
                self._update_drift(rec)
            self.save_label.setText("Saved" if not self._dirty else "Editing…")
            if created or not self._relabel(rec):
                self.refresh()
            self._next()

        def failed(exc: BaseException) -> None:
            self._saving = False
            self._queued = None
            self._after_save = []
            if self._remote is _PENDING:  # a submit waited for this save
                self._remote = None
                self.busy_label.clear()
                self._update_buttons()
            if self._draft_id != draft_id:  # that draft is no longer shown (e.g. deleted)
                return
            self.save_label.setText("Not saved")
            if isinstance(exc, DraftConflict):
                self._conflict = True
                self._max_wait.stop()
                self.conflict_label.setText(DELETED_TEXT if exc.deleted else CONFLICT_TEXT)
                self.conflict_banner.show()
            else:
                self.error_panel.show_error(exc)

        self._storage(work, saved, failed)

    def _next(self) -> None:
        if self._queued is not None:
            draft, self._queued = self._queued, None
            self._save(draft)
            return
        thens, self._after_save = self._after_save, []
        for then in thens:
            then()

    def _flushed(self, then: Callable[[], None]) -> None:
        """Run `then` once unsaved edits of the loaded draft are stored (at once if none)."""
        if self.ctx is None or self._conflict:
            then()
        elif self._dirty:
            self._save(self.editor.draft(), then)
        elif self._saving:
            self._after_save.append(then)
        else:
            then()

    # --- actions ------------------------------------------------------------------------------

    def _on_selected(self, item: QListWidgetItem | None, _previous: Any = None) -> None:
        if item is None or self.ctx is None:
            return
        draft_id = item.data(ID_ROLE)
        if draft_id != self._draft_id:
            self._flushed(lambda: self.open_draft(draft_id))

    def open_draft(self, draft_id: int) -> None:
        """Load draft `draft_id` into the editor."""
        if self.ctx is None:
            return
        engine = self.ctx.store.engine
        self.error_panel.clear()
        self._storage(lambda _t: load_draft(engine, draft_id),
                      lambda rec: self._show(rec, rec.draft))

    def reload_draft(self) -> None:
        """Reload the loaded draft as stored (drops the local edits; clears the banner)."""
        if self._draft_id is None:
            self._show(None, _blank())
            return
        draft_id = self._draft_id
        if self._conflict and self._record is not None:
            engine = self.ctx.store.engine if self.ctx else None

            def missing(exc: BaseException) -> None:
                self._show(None, _blank())
                self.refresh()
            self._storage(lambda _t: load_draft(engine, draft_id),
                          lambda rec: self._show(rec, rec.draft), missing)
            return
        self.open_draft(draft_id)

    def new_draft(self) -> None:
        """Start a blank draft (inserted by its first autosave)."""
        self._flushed(lambda: self._show(None, _blank()))

    def duplicate(self) -> None:
        """Copy the loaded draft to another language (asks which) and open the copy."""
        if self.ctx is None or self._draft_id is None:
            return
        language = self._ask_language(self.editor.draft().language)
        if not language:
            return
        engine, draft_id = self.ctx.store.engine, self._draft_id
        self._flushed(lambda: self._storage(
            lambda _t: duplicate_to_language(engine, draft_id, language.strip()), self._opened))

    def open_synced(self) -> None:
        """Copy a synced APPROVED template into a new draft (asks which) and open it."""
        if self.ctx is None:
            return
        from wa_console.store.synced import template_list

        engine, account_id = self.ctx.store.engine, self.ctx.account_id

        def chosen(rows: list[Any]) -> None:
            row_id = self._choose_synced(rows)
            if row_id is None:
                return
            self._flushed(lambda: self._storage(
                lambda _t: draft_from_synced(engine, row_id), self._opened))

        self._storage(
            lambda _t: [r for r in template_list(engine, account_id, include_removed=False)
                        if r.meta_id and r.status == "APPROVED"], chosen)

    def _opened(self, rec: DraftRecord) -> None:
        self._show(rec, rec.draft)
        self.refresh()
        self.data_changed.emit()

    def delete(self) -> None:
        """Delete the loaded draft after confirmation (at Meta too once submitted)."""
        rec, ctx = self._record, self.ctx
        if ctx is None or rec is None or self._remote is not None:
            return
        where = " at Meta and here" if rec.meta_id else ""
        if not self._confirm(f"Delete '{rec.draft.name}' ({rec.draft.language}){where}? "
                             "This cannot be undone."):
            return
        self._max_wait.stop()
        self._dirty = False
        draft_id = rec.id

        def start() -> None:
            if rec.meta_id:
                from wa_console.ops.templates import delete_template

                self._remote_task("Deleting…", delete_template, draft_id, deleted)
            else:  # never submitted: local only, no Meta call
                engine = ctx.store.engine
                self._storage(lambda _t: delete_draft(engine, draft_id), deleted)

        def deleted(_result: Any) -> None:
            self._show(None, _blank())
            self.refresh()
            self.data_changed.emit()

        if self._saving:
            self._after_save.append(start)
        else:
            start()

    def submit(self, draft: TemplateDraft | None = None) -> None:
        """Save the draft, then create (or edit) it at Meta; the status follows."""
        if self.ctx is None or self._remote is not None or self._conflict:
            return
        from wa_console.ops.templates import submit_template

        self.busy_label.setText("Saving before submit…")
        self._remote = _PENDING  # busy from now on (buttons off, no second submit)
        self._update_buttons()

        def go() -> None:
            self._remote = None
            if self._draft_id is None or self._conflict:
                self.busy_label.clear()
                self._update_buttons()
                return
            self._remote_task("Submitting…", submit_template, self._draft_id, self._submitted)

        self._save(draft or self.editor.draft(), go)
        if self._conflict or not self._saving:  # the save could not start
            self._remote = None
            self.busy_label.clear()
            self._update_buttons()

    def _submitted(self, rec: DraftRecord) -> None:
        self._set_record(rec)
        self.data_changed.emit()

    def refresh_status(self) -> None:
        """Ask Meta for the submitted draft's status (PENDING → APPROVED / REJECTED)."""
        if self.ctx is None or self._draft_id is None or self._remote is not None:
            return
        from wa_console.ops.templates import refresh_template_status

        self._remote_task("Refreshing status…", refresh_template_status, self._draft_id,
                          self._status_refreshed)

    def _status_refreshed(self, rec: DraftRecord) -> None:
        changed = self._record is None or (rec.status, rec.rejected_reason) != (
            self._record.status, self._record.rejected_reason)
        self._set_record(rec)
        if changed:
            self.data_changed.emit()

    def _set_record(self, rec: DraftRecord) -> None:
        """Meta's answer for the loaded draft (status writes do not bump the version)."""
        if rec.id == self._draft_id:
            self._record = rec
            self._version = rec.version
            self._update_status()
        self.refresh()

    # --- default dialogs ----------------------------------------------------------------------

    def _ask_language_dialog(self, current: str) -> str | None:
        text, ok = QInputDialog.getText(self, "Duplicate to language",
                                        f"Language code for the copy (this draft: {current}):")
        return text.strip() if ok and text.strip() else None

    def _choose_synced_dialog(self, rows: list[Any]) -> int | None:
        if not rows:
            QMessageBox.information(self, "Open synced template",
                                    "No synced APPROVED templates — use Verify & sync first.")
            return None
        labels = [f"{r.name} · {r.language} · {r.category or ''}" for r in rows]
        label, ok = QInputDialog.getItem(self, "Open synced template",
                                         "Approved template to copy into a draft:", labels, 0,
                                         False)
        return rows[labels.index(label)].id if ok and label in labels else None

    def _confirm_dialog(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Delete draft", text)
        return answer == QMessageBox.StandardButton.Yes


class _Pending:
    """Stands in for the task handle while a submit waits for its save."""

    def cancel(self) -> None:
        pass


_PENDING: Any = _Pending()


class _blocked:
    """`with _blocked(widget):` signals off (the list is refilled without selecting)."""

    def __init__(self, widget: QWidget) -> None:
        self._widget = widget

    def __enter__(self) -> None:
        self._old = self._widget.blockSignals(True)

    def __exit__(self, *_exc: object) -> None:
        self._widget.blockSignals(self._old)
