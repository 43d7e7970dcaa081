"""The *Verify & sync* page: Verify provider, Sync channel account, Sync templates, Run all
checks and Subscribe app, with live progress, Cancel, the check results and the last runs.

Every remote action runs one at a time through `gui.tasks.run_task` on `ctx.remote_pool` (the
op gets an `OpContext` built from the task context, so the Graph client checks Cancel before
every request). The table and the "last ..." labels are (re)read from the database on
`ctx.storage_pool` after every action and on `set_context`; `data_changed` is emitted once
that read is shown, after a successful action, so listeners see the page already up to date.
The main window calls `shutdown()` when it closes (it cancels a running action).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wa_console.gui.error_panel import ErrorPanel
from wa_console.gui.pages import PageContext
from wa_console.gui.pages.remote import RemoteActionPage, result_items
from wa_console.gui.tasks import TaskContext, TaskHandle, run_task
from wa_console.gui.widgets import read_only_table

# Action names (also the keys of `VerifyPage.buttons`).
VERIFY: Final = "verify"
SYNC_ACCOUNT: Final = "sync_account"
SYNC_TEMPLATES: Final = "sync_templates"
RUN_ALL: Final = "run_all"
SUBSCRIBE: Final = "subscribe"
ACTION_LABELS: Final = {VERIFY: "Verify provider", SYNC_ACCOUNT: "Sync channel account",
                        SYNC_TEMPLATES: "Sync templates", RUN_ALL: "Run all checks",
                        SUBSCRIBE: "Subscribe app"}

CHECK_LABELS: Final = {
    "app.credentials": "App ID and App secret",
    "token.valid": "Access token valid",
    "token.expiry": "Token expiry",
    "token.type": "Token type",
    "token.app": "Token belongs to the app",
    "token.scopes": "Token scopes and WABA access",
    "waba.readable": "WABA readable",
    "phone.in_waba": "Phone number in the WABA",
    "phone.display_matches": "Display number matches",
    "phone.registered": "Phone registered and connected",
    "phone.name_approved": "Display name approved",
    "app.subscribed": "App subscribed to the WABA",
}
COLUMNS: Final = ("Check", "Outcome", "Detail", "Fix")


@dataclass(frozen=True)
class _Stored:
    """What the page reads from the database (on the storage pool)."""

    checks: list[Any]  # store.checks.CheckResultData
    runs: dict[str, Any]  # kind → newest SyncRunInfo
    ok_runs: dict[str, Any]  # kind → newest ok SyncRunInfo


def _read_stored(store: Any, account_id: int) -> _Stored:
    from wa_console.core.readiness import CheckKey
    from wa_console.store.checks import load_checks
    from wa_console.store.synced import last_sync_run, last_sync_runs

    runs = last_sync_runs(store.engine, account_id)
    ok_runs = {kind: run for kind in runs
               if (run := last_sync_run(store.engine, account_id, kind, outcome="ok"))}
    # Verify provider's checks only; the webhook checks have their own page.
    return _Stored(load_checks(store.engine, account_id, keys=tuple(CheckKey)), runs, ok_runs)


def _when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def confirm_with_dialog(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


class VerifyPage(RemoteActionPage):
    """Signals:
    data_changed(): a verify, sync, subscribe or run-all succeeded and the page shows its
        stored result; other pages should refresh.
    progressed(int, str): each progress update shown (percent or -1, text).
    action_finished(str): a remote action ended (success, failure or cancel) and the page
        shows the stored state after it; carries the action name.
    loaded(): the table and labels were (re)read from the database.

    Attributes:
        confirm: `confirm(title, text) -> bool`, asked before Subscribe app (tests replace it).
        buttons: action name → its QPushButton.
    """

    action_labels = ACTION_LABELS

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx: PageContext | None = None
        self.confirm: Callable[[str, str], bool] = (
            lambda title, text: confirm_with_dialog(self, title, text))
        self._generation = 0  # bumped on set_context: drops reads of the previous account
        self._checks: list[Any] = []
        self._build()
        self._update_buttons()

    # --- building -----------------------------------------------------------------------------
    def _build(self) -> None:
        header = self._build_header(
            "Results come from the sandbox emulator, not from Meta: they prove the console "
            "works, not that a real account does.")

        self.buttons: dict[str, QPushButton] = {}
        actions = QHBoxLayout()
        for action, label in ACTION_LABELS.items():
            button = QPushButton(label, self, objectName=f"{_camel(action)}Button")
            button.clicked.connect(lambda _=False, a=action: self.start(a))
            self.buttons[action] = button
            actions.addWidget(button)
        actions.addStretch(1)
        self.buttons[SUBSCRIBE].setToolTip(
            "Available when the last Verify provider found the app not subscribed to the WABA.")
        self.verify_button = self.buttons[VERIFY]
        self.sync_account_button = self.buttons[SYNC_ACCOUNT]
        self.sync_templates_button = self.buttons[SYNC_TEMPLATES]
        self.run_all_button = self.buttons[RUN_ALL]
        self.subscribe_button = self.buttons[SUBSCRIBE]

        self._build_progress_row()

        self.status_label = QLabel(self, objectName="statusLabel")
        self.status_label.setWordWrap(True)
        self.error_panel = ErrorPanel(self)

        self.last_verified_label = QLabel(self, objectName="lastVerifiedLabel")
        self.accounts_synced_label = QLabel(self, objectName="accountsSyncedLabel")
        self.templates_synced_label = QLabel(self, objectName="templatesSyncedLabel")
        for label in (self.last_verified_label, self.accounts_synced_label,
                      self.templates_synced_label):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        fit, stretch = QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.Stretch
        self.table = read_only_table(COLUMNS, "checksTable", self, word_wrap=True,
                                     modes=(fit, fit, stretch, stretch))

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addLayout(actions)
        layout.addWidget(self.progress_row)
        layout.addWidget(self.status_label)
        layout.addWidget(self.error_panel)
        layout.addWidget(self.last_verified_label)
        layout.addWidget(self.accounts_synced_label)
        layout.addWidget(self.templates_synced_label)
        layout.addWidget(self.table, 1)

    # --- context ------------------------------------------------------------------------------
    def set_context(self, ctx: PageContext | None) -> None:
        """Show another account (None: none). A running action of the previous one is
        cancelled; its late results are dropped."""
        self._detach_running()
        self.ctx = ctx
        self._generation += 1
        self._checks = []
        self.error_panel.clear()
        self.status_label.clear()
        self._show_checks([])
        for label in (self.last_verified_label, self.accounts_synced_label,
                      self.templates_synced_label):
            label.clear()
        self.account_label.setText(ctx.account_name if ctx else "No account selected")
        self.simulated_label.setVisible(bool(ctx and ctx.sandbox))
        self._update_buttons()
        if ctx is not None:
            self.reload()

    def shutdown(self) -> None:
        """Cancel a running action (the main window calls this on close, then waits for its
        pools)."""
        if self._handle is not None:
            self._handle.cancel()

    @property
    def checks(self) -> list[Any]:
        """The check results shown (CheckResultData, in stored order)."""
        return list(self._checks)

    # --- actions ------------------------------------------------------------------------------
    def start(self, action: str) -> TaskHandle | None:
        """Start one remote action (ignored while another runs or without an account)."""
        ctx = self.ctx
        if ctx is None or self._handle is not None:
            return None
        if action == SUBSCRIBE and not self._confirm_subscribe():
            return None
        store, account_id, base_url = ctx.store, ctx.account_id, ctx.base_url

        def work(task: TaskContext) -> Any:
            # The ops (and requests, SQLAlchemy) are imported here, on the worker: an import
            # on the GUI thread would freeze the window for the first click.
            from wa_console.ops.context import OpContext

            op_ctx = OpContext(report=task.report, cancelled=task.cancelled)
            if action == RUN_ALL:  # its webhook self-test asks before signed probes go out
                return _op(action)(op_ctx, store, account_id, base_url,
                                   allow_signed_probe=self.signed_probe_question(task))
            return _op(action)(op_ctx, store, account_id, base_url)

        return self._run_action(action, work, ctx.remote_pool)

    def _confirm_subscribe(self) -> bool:
        ctx = self.ctx
        assert ctx is not None
        return self.confirm(
            "Subscribe app",
            f"Subscribe the app to the WhatsApp Business Account of “{ctx.account_name}”? "
            "Meta then sends this WABA's webhooks (messages, delivery statuses, template "
            "updates) to the app's callback URL.")

    def _on_success(self, result: Any) -> None:
        self._succeeded = True
        self.status_label.setText(_summary(self._action or "", result))
        from wa_console.ops.readiness import RunAllResult

        if isinstance(result, RunAllResult) and result.stopped_at is not None:
            self.error_panel.show_problem(
                f"Run all checks stopped at {_step_name(result.stopped_at)}",
                result.reason or "", result.fix)

    # --- stored state -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Another page changed stored state (a sync from the Senders page's hint, say)."""
        if self.ctx is not None and not self.busy:
            self.reload()

    def reload(self, then: Callable[[], None] | None = None) -> None:
        """Re-read the checks and last runs (storage pool), show them and emit `loaded`; then
        call `then` (also when the read failed; not when the account changed meanwhile)."""
        ctx = self.ctx
        if ctx is None:
            return
        generation = self._generation
        store, account_id = ctx.store, ctx.account_id

        def shown(stored: _Stored) -> None:
            if generation != self._generation:
                return
            self._show_stored(stored)
            self.loaded.emit()
            if then is not None:
                then()

        def failed(exc: BaseException) -> None:
            if generation == self._generation:
                self.error_panel.show_error(exc)
                if then is not None:
                    then()

        run_task(lambda _task: _read_stored(store, account_id), on_success=shown,
                 on_failure=failed, pool=ctx.storage_pool)

    def _show_stored(self, stored: _Stored) -> None:
        self._checks = list(stored.checks)
        self._show_checks(self._checks)
        if stored.checks:
            when = max(c.checked_at for c in stored.checks)
            ok = sum(c.outcome == "ok" for c in stored.checks)
            simulated = " (simulated)" if any(c.simulated for c in stored.checks) else ""
            self.last_verified_label.setText(
                f"Last verified: {_when(when)}{simulated}: {ok} of {len(stored.checks)} "
                "checks ok")
        else:
            self.last_verified_label.setText("Last verified: never")
        self.accounts_synced_label.setText(_run_text(
            "Accounts synced", stored.runs.get("account"), stored.ok_runs.get("account"),
            _account_counts))
        self.templates_synced_label.setText(_run_text(
            "Templates synced", stored.runs.get("templates"), stored.ok_runs.get("templates"),
            _template_counts))
        self._update_buttons()

    def _show_checks(self, checks: list[Any]) -> None:
        table = self.table
        table.setRowCount(len(checks))
        for row, check in enumerate(checks):
            items = result_items(check.key, CHECK_LABELS.get(check.key, check.key),
                                 check.outcome, check.detail, check.fix)
            for column, item in enumerate(items):
                table.setItem(row, column, item)
        table.resizeRowsToContents()

    def outcomes(self) -> dict[str, str]:
        """key → outcome of the rows shown (for tests and the status bar)."""
        return {c.key: c.outcome for c in self._checks}

    def _update_buttons(self) -> None:
        idle = self.ctx is not None and self._handle is None
        for button in self.buttons.values():
            button.setEnabled(idle)
        unsubscribed = any(c.key == "app.subscribed" and c.outcome == "failed"
                           for c in self._checks)
        self.subscribe_button.setEnabled(idle and unsubscribed)
        self.progress_row.setVisible(self._handle is not None)
        self.cancel_button.setEnabled(self._handle is not None)


# --- helpers ------------------------------------------------------------------------------------

def _op(action: str) -> Callable[..., Any]:
    from wa_console.ops.readiness import run_all_checks
    from wa_console.ops.sync import sync_channel_account, sync_templates
    from wa_console.ops.verify import subscribe_app, verify_provider

    return {VERIFY: verify_provider, SYNC_ACCOUNT: sync_channel_account,
            SYNC_TEMPLATES: sync_templates, RUN_ALL: run_all_checks,
            SUBSCRIBE: subscribe_app}[action]


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def _step_name(step: str) -> str:
    return ACTION_LABELS.get(step, step) if step != "verify" else ACTION_LABELS[VERIFY]


def _summary(action: str, result: Any) -> str:
    """One line about a successful action's result."""
    from wa_console.ops.readiness import RunAllResult
    from wa_console.ops.verify import SubscribeResult, VerifyReport
    from wa_console.store.synced import AccountSyncResult, TemplateSyncResult

    if isinstance(result, VerifyReport):
        problems = len(result.problems)
        return (f"All {len(result)} checks ok." if not problems else
                f"{problems} of {len(result)} checks need attention: see the fixes below.")
    if isinstance(result, SubscribeResult):
        return result.detail + (" The app subscription check is ok now." if result.subscribed
                                else " The app subscription check still fails.")
    if isinstance(result, AccountSyncResult):
        name = result.waba.name if result.waba is not None else None
        return (f"Account synced{f': {name}' if name else ''}, {len(result.phones)} phone "
                "numbers.")
    if isinstance(result, TemplateSyncResult):
        return (f"{result.total:,} templates synced: {result.added:,} new, "
                f"{result.changed:,} changed, {result.removed:,} removed.")
    if isinstance(result, RunAllResult):
        if result.stopped_at is not None:
            return f"Run all checks stopped at {_step_name(result.stopped_at)}; see below."
        return ("All checks ran: provider verified, account and templates synced, webhooks "
                "checked (results on the Webhooks page).")
    return f"{ACTION_LABELS.get(action, action)} done."


def _account_counts(counts: dict[str, Any]) -> str:
    n = counts.get("phone_numbers")
    return f"{n} phone numbers" if isinstance(n, int) else ""


def _template_counts(counts: dict[str, Any]) -> str:
    total = counts.get("total")
    by_status = counts.get("by_status") or {}
    parts = [f"{total:,} templates"] if isinstance(total, int) else []
    parts.extend(f"{status.lower()} {n:,}" for status, n in sorted(by_status.items()))
    return ", ".join(parts)


def _run_text(title: str, last: Any, last_ok: Any,
              counts: Callable[[dict[str, Any]], str]) -> str:
    if last is None:
        return f"{title}: never"
    simulated = " (simulated)" if last.simulated else ""
    if last.outcome == "ok":
        detail = counts(last.counts)
        return f"{title}: {_when(last.finished_at)}{simulated}" + (f": {detail}" if detail else "")
    text = f"{title}: the last attempt {last.outcome} at {_when(last.finished_at)}"
    if last_ok is not None:
        detail = counts(last_ok.counts)
        text += f"; last success {_when(last_ok.finished_at)}" + (f": {detail}" if detail
                                                                   else "")
    return text
