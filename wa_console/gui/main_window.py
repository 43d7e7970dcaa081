"""The main window: channel accounts on the left, the settings page built from the schema.

All storage work (opening and migrating the database, keyring reads/writes, saves) runs on a
one-thread pool through `tasks.run_task`, so the window paints at once and never freezes, and the
writes of one console happen in the order the admin made them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QSettings,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QCloseEvent,
    QIcon,
    QKeySequence,
    QShortcut,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import QMainWindow, QWidget

from wa_console.core.schema import CHANNEL_FIELDS, default_values
from wa_console.gui.forms.ui_main_window import Ui_MainWindow
from wa_console.gui.tasks import TaskHandle, cancel_all_and_wait, run_task

if TYPE_CHECKING:
    from wa_console.gui.prompts import Prompts

# Imported where first needed, not here: the settings form (binder), the dialogs (prompts) and
# validation (phonenumbers) are not on screen at the first paint; each import costs start-up time.

log = logging.getLogger(__name__)

ID_ROLE = Qt.ItemDataRole.UserRole + 1
PAGE_WELCOME, PAGE_SETTINGS = 0, 1
# The account's tabs beside Settings: (key, tab title, module, class). Built on first use.
ACCOUNT_PAGES = (
    ("verify", "&Verify && sync", "wa_console.gui.pages.verify", "VerifyPage"),
    ("phones", "&Phone numbers", "wa_console.gui.pages.phones", "PhonesPage"),
    ("senders", "S&enders", "wa_console.gui.pages.senders", "SendersPage"),
    ("templates", "Te&mplates", "wa_console.gui.pages.templates", "TemplatesPage"),
    ("studio", "Template st&udio", "wa_console.gui.pages.studio", "StudioPage"),
    ("webhooks", "&Webhooks", "wa_console.gui.pages.webhooks", "WebhooksPage"),
    ("proofs", "Pr&oofs", "wa_console.gui.pages.proofs", "ProofsPage"),
    ("health", "Deliver&y health", "wa_console.gui.pages.health", "HealthPage"),
    ("readiness", "Rea&diness", "wa_console.gui.pages.readiness", "ReadinessPage"),
)


class MainWindow(QMainWindow):
    """Signals:
    accounts_loaded(list): the account list was (re)loaded; carries the summaries. The first
        time may come from the start-up snapshot, before the store is open.
    store_opened(): the database is open and migrated; every action is available.
    record_loaded(object): an account's settings are shown in the form.
    saved(object): a save succeeded; carries the stored AccountRecord.
    failed(str): a storage action failed; carries the message shown to the admin.
    """

    accounts_loaded = Signal(list)
    store_opened = Signal()
    record_loaded = Signal(object)
    saved = Signal(object)
    failed = Signal(str)

    def __init__(self, db_url: str | None, secrets: Any = None, prompts: Prompts | None = None,
                 parent: QWidget | None = None, base_url: str | None = None) -> None:
        super().__init__(parent)
        self.ui = Ui_MainWindow()
        self.ui.setupUi(self)
        self.db_url = db_url
        self._prompts = prompts
        self._binder: Any = None  # the settings form, built when first shown
        self._pending_id: int | None = None  # an account chosen before the store was open
        self._secrets = secrets  # a SecretStore; built off-thread when None (keyring import)
        self.store: Any = None  # AccountStore, once the database is open
        self.record: Any = None  # the AccountRecord shown, or None for a new unsaved account
        self.dirty = False
        self._touched: set[str] = set()
        self._busy: TaskHandle | None = None
        self._after_save: Any = None
        self._close_after_save = False
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)  # storage work stays in the order the admin made it
        self.remote_pool = QThreadPool(self)  # Meta / emulator calls: long, cancellable
        self.remote_pool.setMaxThreadCount(2)
        self.base_url = base_url  # where Graph calls go; None: Meta, or the shared emulator
        self.pages: dict[str, QWidget] = {}
        self._page_ctx: Any = None  # the PageContext the pages were last given

        self.setWindowIcon(QIcon(":/icons/app.svg"))
        for button, icon in ((self.ui.addButton, "add"), (self.ui.renameButton, "rename"),
                             (self.ui.deleteButton, "delete"), (self.ui.saveButton, "save"),
                             (self.ui.revertButton, "revert")):
            button.setIcon(QIcon(f":/icons/{icon}.svg"))
        self.model = QStandardItemModel(self)
        self.ui.accountList.setModel(self.model)
        self.ui.splitter.setStretchFactor(1, 1)
        QShortcut(QKeySequence(Qt.Key.Key_F2), self.ui.accountList, self._on_rename)
        QShortcut(QKeySequence.StandardKey.Delete, self.ui.accountList, self._on_delete)

        self.ui.accountList.selectionModel().currentChanged.connect(self._on_current_changed)
        self.ui.addButton.clicked.connect(self._on_add)
        self.ui.addOwnButton.clicked.connect(self._on_add)
        self.ui.actionNewAccount.triggered.connect(self._on_add)
        self.ui.createSandboxButton.clicked.connect(self._on_create_sandbox)
        self.ui.renameButton.clicked.connect(self._on_rename)
        self.ui.deleteButton.clicked.connect(self._on_delete)
        self.ui.saveButton.clicked.connect(self.save)
        self.ui.actionSave.triggered.connect(self.save)
        self.ui.revertButton.clicked.connect(self._on_revert)
        self.ui.actionExport.triggered.connect(self._on_export)
        self.ui.actionImport.triggered.connect(self._on_import)
        self.ui.actionQuit.triggered.connect(self.close)
        self.ui.actionAbout.triggered.connect(self._on_about)
        self.ui.actionSave.setShortcutContext(Qt.ShortcutContext.WindowShortcut)

        self._restore_geometry()
        self._update_actions()
        self.statusBar().showMessage("Opening the database…")
        # Started after the first paint: the worker's imports (SQLAlchemy) would compete for
        # the GIL with building and showing the window.
        QTimer.singleShot(0, self._start_storage)

    @property
    def prompts(self) -> Any:
        if self._prompts is None:
            from wa_console.gui.prompts import Prompts

            self._prompts = Prompts(self)
        return self._prompts

    @prompts.setter
    def prompts(self, prompts: Any) -> None:
        self._prompts = prompts

    @property
    def binder(self) -> Any:
        """The settings form, generated from the schema the first time it is needed."""
        if self._binder is None:
            from wa_console.gui.binder import FormBinder

            self._binder = FormBinder.build(self.ui.formHost, CHANNEL_FIELDS)
            self._binder.on_changed = self._on_field_changed
        return self._binder

    # --- background work ----------------------------------------------------------------------
    def _run(self, fn: Any, on_success: Any, on_failure: Any = None) -> None:
        """Run one storage action off the GUI thread; the window shows it is busy meanwhile.

        The busy state ends *before* the result handler runs, so the handler (and whoever
        listens to the signals it emits) sees an idle window and may start the next action.
        """
        handle: list[TaskHandle] = []

        def idle() -> None:
            if handle and self._busy is handle[0]:
                self._busy = None
                self._update_actions()

        def then(callback: Any) -> Any:
            def deliver(arg: Any) -> None:
                idle()
                callback(arg)
            return deliver

        handle.append(run_task(lambda ctx: fn(), on_success=then(on_success),
                               on_failure=then(on_failure or self._on_task_failed),
                               on_finished=idle, pool=self.pool))
        self._busy = handle[0]
        self._update_actions()

    def _start_storage(self) -> None:
        """List the accounts from the start-up snapshot, then open the store (one worker, in
        that order)."""
        self._run(self._read_snapshot, self._on_snapshot)
        self._run(self._open_store, self._on_store_opened)

    def _read_snapshot(self) -> list | None:
        from wa_console.store.db import resolve_db_url
        from wa_console.store.snapshot import read_account_list

        self.db_url = resolve_db_url(self.db_url)
        return read_account_list(self.db_url)

    def _on_snapshot(self, summaries: list | None) -> None:
        if summaries is not None and self.store is None:
            self._show_accounts(summaries)

    def _open_store(self) -> tuple[Any, list]:
        from wa_console.store.accounts import AccountStore
        from wa_console.store.db import open_database, resolve_db_url
        from wa_console.store.secrets import SecretStore

        self.db_url = resolve_db_url(self.db_url)
        secrets = self._secrets or SecretStore()
        store = AccountStore(open_database(self.db_url), secrets)
        return store, store.list_accounts()

    def _on_store_opened(self, result: tuple[Any, list]) -> None:
        self.store, summaries = result
        self._secrets = self.store.secrets
        self.statusBar().showMessage("Ready", 3000)
        pending, self._pending_id = self._pending_id, None
        self._show_accounts(summaries, pending)
        self.store_opened.emit()

    def _reload_list(self, select_id: int | None = None) -> None:
        self._run(self.store.list_accounts, lambda s: self._show_accounts(s, select_id))

    def _show_accounts(self, summaries: list, select_id: int | None = None) -> None:
        selection = self.ui.accountList.selectionModel()
        selection.blockSignals(True)
        self.model.clear()
        for summary in summaries:
            item = QStandardItem(summary.name)
            item.setData(summary.id, ID_ROLE)
            item.setEditable(False)
            if summary.sandbox:
                item.setIcon(QIcon(":/icons/sandbox.svg"))
                item.setToolTip("Sandbox account: simulated, never counted as proof")
            else:
                item.setIcon(QIcon(":/icons/account.svg"))
            self.model.appendRow(item)
        selection.blockSignals(False)
        if select_id is not None:
            self._select_id(select_id)
        elif self.record is not None:
            self._select_id(self.record.id)
        if not summaries and self.record is None and not self.dirty:
            self.ui.pages.setCurrentIndex(PAGE_WELCOME)
        elif self.record is None and not self.dirty and summaries:
            self.ui.accountList.setCurrentIndex(self.model.index(0, 0))
        self._update_actions()
        self.accounts_loaded.emit(summaries)

    def _select_id(self, account_id: int) -> None:
        for row in range(self.model.rowCount()):
            index = self.model.index(row, 0)
            if index.data(ID_ROLE) == account_id:
                selection = self.ui.accountList.selectionModel()
                selection.blockSignals(True)
                selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
                selection.blockSignals(False)
                if self.record is None or self.record.id != account_id:
                    self._load_record(account_id)
                return

    def _load_record(self, account_id: int) -> None:
        if self.store is None:  # chosen from the snapshot list: load once the store is open
            self._pending_id = account_id
            return
        self._run(lambda: self.store.get(account_id), self._show_record)

    def _show_record(self, record: Any) -> None:
        self.record = record
        self.binder.load(record.values, record.refs)
        self._set_dirty(False)
        self._touched.clear()
        self._show_banner("")
        self.ui.pages.setCurrentIndex(PAGE_SETTINGS)
        self._update_title()
        self._update_pages()
        self.record_loaded.emit(record)

    # --- the account's pages ------------------------------------------------------------------
    def _ensure_pages(self) -> None:
        if self.pages:
            return
        import importlib

        for key, title, module, name in ACCOUNT_PAGES:
            page = getattr(importlib.import_module(module), name)(self)
            page.setObjectName(f"{key}Page")
            self.ui.accountTabs.addTab(page, title)
            self.pages[key] = page
            page.data_changed.connect(lambda key=key: self._on_page_data_changed(key))
        for page in self.pages.values():
            requested = getattr(page, "action_requested", None)
            if requested is not None:
                requested.connect(self._on_action_requested)

    def _update_pages(self) -> None:
        """Give every page the account now shown (None while a new account is unsaved)."""
        from wa_console.gui.pages import PageContext

        self._ensure_pages()
        ctx = None
        if self.store is not None and self.record is not None:
            ctx = PageContext(store=self.store, account_id=self.record.id,
                              account_name=self.record.name, sandbox=self.record.sandbox,
                              storage_pool=self.pool, remote_pool=self.remote_pool,
                              base_url=self.base_url)
        for index in range(1, self.ui.accountTabs.count()):
            self.ui.accountTabs.setTabEnabled(index, ctx is not None)
        # A save that changed nothing the pages see must not reset them: set_context cancels a
        # page's running action (a sync) and re-reads everything.
        if ctx == self._page_ctx:
            return
        self._page_ctx = ctx
        for page in self.pages.values():
            page.set_context(ctx)

    def _on_page_data_changed(self, source: str) -> None:
        """A page changed stored state (a verify, a sync, a toggle): the others re-read it."""
        for key, page in self.pages.items():
            if key != source:
                page.refresh()

    def _on_action_requested(self, action: Any) -> None:
        """A fix button (checklist item, a page's "sync first"): show the tab where that fix
        happens. Pages may name the action by its value ("sync_account")."""
        from wa_console.core.readiness import Action

        action = Action(action) if isinstance(action, str) else action
        tab = {Action.OPEN_SETTINGS: "settings", Action.ENTER_TOKEN: "settings",
               Action.VERIFY_PROVIDER: "verify", Action.SYNC_ACCOUNT: "verify",
               Action.SYNC_TEMPLATES: "verify", Action.SUBSCRIBE_APP: "verify",
               Action.OPEN_PHONE_NUMBERS: "phones", Action.OPEN_TEMPLATES: "studio",
               Action.CHECK_WEBHOOKS: "webhooks", Action.OPEN_SENDERS: "senders",
               Action.OPEN_DELIVERY_HEALTH: "health"}[action]
        widget = self.ui.settingsTab if tab == "settings" else self.pages[tab]
        self.ui.accountTabs.setCurrentWidget(widget)

    # --- editing --------------------------------------------------------------------------------
    def _on_field_changed(self, key: str) -> None:
        self._touched.add(key)
        self._set_dirty(True)
        # Live feedback for the fields the admin has touched; all fields are checked on save.
        result = self._validate_locally()
        self.binder.show_issues(result.issues, only=self._touched)

    def _validate_locally(self) -> Any:
        from wa_console.core.validation import validate_form  # phonenumbers: not at start-up

        refs = self.record.refs if self.record else {}
        return validate_form(self.binder.values(), self.binder.secret_edits(), refs)

    def _set_dirty(self, dirty: bool) -> None:
        self.dirty = dirty
        self.setWindowModified(dirty)
        self._update_actions()

    def _update_title(self) -> None:
        if self.record is not None:
            name = self.record.name
        else:
            name = "New channel account" if self.ui.pages.currentIndex() == PAGE_SETTINGS else ""
        simulated = self.record is not None and self.record.sandbox
        self.setWindowTitle(f"{name}[*] — wa-console" if name else "wa-console[*]")
        self.ui.settingsTitle.setText(
            f"WhatsApp Setting — {name}" + ("  · simulated" if simulated else "")
            if name else "WhatsApp Setting")
        self.ui.settingsTitle.setToolTip(
            "Sandbox mode: this account talks to the built-in Graph API emulator. Everything "
            "works; nothing counts as production readiness or proof." if simulated else "")

    def _update_actions(self) -> None:
        busy = self._busy is not None
        ready = self.store is not None
        has_record = self.record is not None
        on_settings = self.ui.pages.currentIndex() == PAGE_SETTINGS
        self.ui.saveButton.setEnabled(ready and not busy and self.dirty)
        self.ui.actionSave.setEnabled(ready and not busy and self.dirty)
        self.ui.revertButton.setEnabled(not busy and self.dirty and on_settings)
        for widget in (self.ui.addButton, self.ui.actionNewAccount, self.ui.actionImport,
                       self.ui.createSandboxButton, self.ui.addOwnButton):
            widget.setEnabled(ready and not busy)
        for widget in (self.ui.renameButton, self.ui.deleteButton, self.ui.actionExport):
            widget.setEnabled(ready and not busy and has_record)
        self.ui.stateLabel.setText(
            "Working…" if busy else "Unsaved changes" if self.dirty else
            "Saved" if has_record else "")

    def _on_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if not current.isValid():
            return
        if self.record is not None and current.data(ID_ROLE) == self.record.id:
            return
        if not self._resolve_unsaved(lambda: self._select_id(current.data(ID_ROLE))):
            selection = self.ui.accountList.selectionModel()
            selection.blockSignals(True)
            selection.setCurrentIndex(previous, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            selection.blockSignals(False)
            return
        self._load_record(current.data(ID_ROLE))

    def _resolve_unsaved(self, then: Any) -> bool:
        """True if the caller may go on now. With unsaved edits, asks; 'Save' saves, then runs
        `then`, and returns False (the save is asynchronous)."""
        from wa_console.gui.prompts import UnsavedChoice

        if not self.dirty:
            return True
        choice = self.prompts.unsaved_changes(self.record.name if self.record else "New account")
        if choice is UnsavedChoice.DISCARD:
            self._set_dirty(False)
            return True
        if choice is UnsavedChoice.SAVE:
            self.save(then=then)
        return False

    def _on_add(self) -> None:
        if not self._resolve_unsaved(self._on_add):
            return
        self.record = None
        self.ui.accountList.selectionModel().clearSelection()
        self.binder.load({**default_values(), "account_name": ""}, {})
        self._touched.clear()
        self.ui.pages.setCurrentIndex(PAGE_SETTINGS)
        self.ui.accountTabs.setCurrentWidget(self.ui.settingsTab)
        self._update_pages()
        self._set_dirty(True)
        self._show_banner("")
        self._update_title()
        self.binder.widgets["account_name"].setFocus()

    def _on_revert(self) -> None:
        if self.record is not None:
            self._show_record(self.record)
        else:
            self._set_dirty(False)
            self.ui.pages.setCurrentIndex(PAGE_WELCOME if not self.model.rowCount()
                                          else PAGE_SETTINGS)
            self._reload_list()

    # --- saving ---------------------------------------------------------------------------------
    def save(self, then: Any = None) -> None:
        """Validate every field; if all are clean, save everything in one transaction."""
        if self._busy is not None or self.store is None:
            return
        result = self._validate_locally()
        self._touched = {s.key for s in CHANNEL_FIELDS}
        self.binder.show_issues(result.issues)
        if not result.ok:
            self._close_after_save = False
            self._focus_first_error(result.issues)
            self.statusBar().showMessage("Not saved: fix the fields marked in red", 5000)
            return
        values, edits = self.binder.values(), self.binder.secret_edits()
        record = self.record
        self._after_save = then if callable(then) else None

        def work() -> Any:
            if record is None:
                return self.store.create(values, edits)
            return self.store.save(record.id, record.version, values, edits)

        self._run(work, self._on_saved, lambda exc: self._on_save_failed(exc, values, edits))

    def _on_saved(self, record: Any) -> None:
        self._show_record(record)
        self.statusBar().showMessage(f"Saved '{record.name}'", 5000)
        self._reload_list(record.id)
        self.saved.emit(record)
        then, self._after_save = self._after_save, None
        if self._close_after_save:
            self.close()
        elif then:
            then()

    def _on_save_failed(self, exc: BaseException, values: dict, edits: dict) -> None:
        from wa_console.store.accounts import ConflictError, ValidationFailed
        from wa_console.store.secrets import KeyringUnavailable

        self._close_after_save = False
        self._after_save = None
        if isinstance(exc, ValidationFailed):
            self.binder.show_issues(exc.issues)
            self._focus_first_error(exc.issues)
            self.failed.emit(str(exc))
        elif isinstance(exc, ConflictError):
            self.failed.emit(str(exc))
            if exc.deleted:
                self.prompts.error("Deleted elsewhere", str(exc))
                self.record = None
                self._reload_list()
            elif self.prompts.conflict(str(exc)):
                self._load_record(self.record.id)
            else:
                self._show_banner(str(exc), error=True)
        elif isinstance(exc, KeyringUnavailable):
            self.failed.emit(str(exc))
            if self.prompts.keyring_unavailable(str(exc)):
                self.store.secrets.use_session_memory()
                self._show_banner("No keyring: secrets you save now are kept in memory until "
                                  "you quit, and must be entered again next time.")
                self.save()
        else:
            self._on_task_failed(exc)

    def _focus_first_error(self, issues: list) -> None:
        widget = self.binder.first_error_widget(issues)
        if widget is not None:
            self.ui.formScroll.ensureWidgetVisible(widget)
            widget.setFocus()

    # --- account actions ------------------------------------------------------------------------
    def _on_create_sandbox(self) -> None:
        from wa_console.core.credentials import SecretEdit
        from wa_console.core.sandbox_defaults import (
            SANDBOX_SECRETS,
            SANDBOX_VALUES,
            sandbox_account_name,
        )

        def work() -> Any:
            taken = {s.name for s in self.store.list_accounts()}
            values = {**SANDBOX_VALUES, "account_name": sandbox_account_name(taken)}
            edits = {k: SecretEdit("set", v) for k, v in SANDBOX_SECRETS.items()}
            return self.store.create(values, edits)

        def created(record: Any) -> None:
            self._show_record(record)
            self._reload_list(record.id)
            self.statusBar().showMessage(
                f"Created '{record.name}': a simulated account for trying the console offline",
                8000)

        self._run(work, created, lambda exc: self._on_save_failed(exc, {}, {}))

    def _on_rename(self) -> None:
        if self.record is None or self._busy is not None:
            return
        if self.dirty:
            self.prompts.info("Rename", "Save or revert your changes before renaming.")
            return
        name = self.prompts.new_name(self.record.name)
        if not name or name.strip() == self.record.name:
            return
        record = self.record
        self._run(lambda: self.store.rename(record.id, record.version, name.strip()),
                  self._on_saved, lambda exc: self._on_save_failed(exc, {}, {}))

    def _on_delete(self) -> None:
        if self.record is None or self._busy is not None:
            return
        record = self.record
        if not self.prompts.confirm_delete(record.name):
            return

        def deleted(_: Any) -> None:
            self.record = None
            self._update_pages()
            self._set_dirty(False)
            self.statusBar().showMessage(f"Deleted '{record.name}'", 5000)
            self._reload_list()

        self._run(lambda: self.store.delete(record.id), deleted)

    def _on_export(self) -> None:
        if self.record is None:
            return
        record = self.record
        path = self.prompts.export_path(f"{record.name}.json")
        if not path:
            return

        def work() -> str:
            import json

            doc = self.store.export(record.id)
            Path(path).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n",
                                  encoding="utf-8")
            return path

        self._run(work, lambda p: self.statusBar().showMessage(
            f"Exported '{record.name}' to {p} (no secrets, only references)", 8000))

    def _on_import(self) -> None:
        path = self.prompts.import_path()
        if not path:
            return

        def work() -> Any:
            import json

            try:
                doc = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ImportProblem(f"{Path(path).name} could not be read as JSON: {exc}") from None
            return self.store.import_document(doc)

        def failed(exc: BaseException) -> None:
            from wa_console.store.accounts import ValidationFailed

            if isinstance(exc, ValidationFailed):
                lines = [f"• {i.message}" for i in exc.issues if i.is_error]
                self.failed.emit("\n".join(lines))
                self.prompts.error("Import refused", f"{Path(path).name} was not imported. "
                                   f"Fix these {len(lines)} problem(s) and try again:",
                                   "\n".join(lines))
            else:
                self._on_task_failed(exc)

        def imported(record: Any) -> None:
            self._show_record(record)
            self._reload_list(record.id)
            self.statusBar().showMessage(f"Imported '{record.name}'", 5000)

        self._run(work, imported, failed)

    def _on_about(self) -> None:
        from wa_console import __version__
        from wa_console.store.db import safe_url

        self.prompts.info("About wa-console", f"wa-console {__version__}\n\nConnect an "
                          "organisation to the WhatsApp Business Cloud API and prove it works.\n\n"
                          f"Database: {safe_url(str(self.db_url))}")

    # --- errors and banner ----------------------------------------------------------------------
    def _on_task_failed(self, exc: BaseException) -> None:
        """Anything unexpected: a readable message (never a traceback); details in the log."""
        from wa_console.core.redaction import redact
        from wa_console.store.db import DatabaseUnavailable, safe_url
        from wa_console.store.secrets import SecretStoreError

        if isinstance(exc, SecretStoreError | ImportProblem):
            title, message = "Could not complete the action", str(exc)
        elif isinstance(exc, DatabaseUnavailable):
            title, message = "Database problem", str(exc)
        elif type(exc).__module__.startswith("sqlalchemy"):  # the database failed mid-session
            orig = getattr(exc, "orig", None) or exc
            title = "Database problem"
            message = (f"The database at {safe_url(str(self.db_url))} could not be used: "
                       f"{str(orig).splitlines()[0] if str(orig) else type(orig).__name__}")
        else:
            title = "Unexpected problem"
            message = f"{type(exc).__name__}: {exc}. Details are in the log file."
        message = redact(message)
        if self.store is None:
            self.statusBar().showMessage("The database could not be opened")
        self._show_banner(message, error=True)
        self.failed.emit(message)
        self.prompts.error(title, message)

    def _show_banner(self, text: str, error: bool = False) -> None:
        banner = self.ui.banner
        banner.setText(text)
        banner.setProperty("severity", "error" if error else "info")
        banner.style().unpolish(banner)
        banner.style().polish(banner)
        banner.setVisible(bool(text))

    # --- window state ---------------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        settings = QSettings()
        geometry = settings.value("main_window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = settings.value("main_window/splitter")
        if splitter is not None:
            self.ui.splitter.restoreState(splitter)

    def closeEvent(self, event: QCloseEvent) -> None:
        from wa_console.gui.prompts import UnsavedChoice

        if self.dirty:
            choice = self.prompts.unsaved_changes(
                self.record.name if self.record else "New account")
            if choice is UnsavedChoice.CANCEL:
                event.ignore()
                return
            if choice is UnsavedChoice.SAVE:
                event.ignore()
                self._close_after_save = True
                self.save()
                return
            self._set_dirty(False)
        settings = QSettings()
        settings.setValue("main_window/geometry", self.saveGeometry())
        settings.setValue("main_window/splitter", self.ui.splitter.saveState())
        for page in self.pages.values():
            shutdown = getattr(page, "shutdown", None)
            if shutdown is not None:
                shutdown()
        cancel_all_and_wait([self.pool, self.remote_pool])
        event.accept()


class ImportProblem(Exception):
    """An import file that cannot even be read."""
