"""The Proofs page: every guided test send's proof record, with its details and JSON export.

Columns: date, verdict, live or simulated, template, recipient (masked), wamid. Only a live
proof with verdict "proven" is production proof; sandbox ones say "simulated – not proof".
"Run test send…" opens the wizard (gui/wizard.py). Storage is read on `ctx.storage_pool`.

Signals:
    data_changed(): a new proof was saved from the wizard opened here (readiness refreshes).
    refreshed(): a refresh finished and is on screen (its result or its error).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from wa_console.core.readiness import SIMULATED_LABEL
from wa_console.gui.pages import PageContext
from wa_console.gui.prompts import Prompts, WindowPrompts
from wa_console.gui.tasks import LatestOnly

COLUMNS: Final = ("Date", "Verdict", "Mode", "Template", "Recipient", "wamid")
EMPTY_TEXT: Final = "No proof yet — run a test send to make one."


def mode_text(simulated: bool) -> str:
    return SIMULATED_LABEL if simulated else "live"


class ProofsPage(QWidget):
    """The account's proof records (`proofs`: as listed, newest first)."""

    prompts = WindowPrompts()

    data_changed = Signal()
    refreshed = Signal()

    def __init__(self, parent: QWidget | None = None, *, prompts: Prompts | None = None,
                 wizard_factory: Callable[..., Any] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("proofsPage")
        self.ctx: PageContext | None = None
        if prompts is not None:
            self.prompts = prompts
        # Tests pass a factory that adds the emulator's reply simulator to the wizard.
        self.wizard_factory = wizard_factory
        self.wizard: Any = None
        self.proofs: list[Any] = []
        self._loads = LatestOnly(self)

        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        title = QLabel("Proofs")
        font = title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        title.setFont(font)
        top.addWidget(title, 1)
        self.run_button = QPushButton("Run test send…")
        self.run_button.setObjectName("runTestSend")
        self.run_button.clicked.connect(self.open_wizard)
        top.addWidget(self.run_button)
        self.export_button = QPushButton("Export JSON…")
        self.export_button.setObjectName("exportProof")
        self.export_button.clicked.connect(self._export)
        top.addWidget(self.export_button)
        outer.addLayout(top)

        self.message = QLabel()
        self.message.setObjectName("proofsMessage")
        self.message.setWordWrap(True)
        outer.addWidget(self.message)

        splitter = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("proofsTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self._show_selected)
        splitter.addWidget(self.table)
        self.details = QPlainTextEdit()
        self.details.setObjectName("proofDetails")
        self.details.setReadOnly(True)
        splitter.addWidget(self.details)
        outer.addWidget(splitter, 1)
        self._set_enabled()
        self.message.setText("No account selected")

    # --- the page contract ----------------------------------------------------------------------
    def set_context(self, ctx: PageContext | None) -> None:
        self.ctx = ctx
        self._loads.next()
        self._fill([])
        self._set_enabled()
        if ctx is None:
            self.message.setText("No account selected")
            return
        self.refresh()

    def refresh(self) -> None:
        ctx = self.ctx
        if ctx is None:
            return

        def work(_task: Any) -> list[Any]:
            from wa_console.store.proofs import list_proofs

            return list_proofs(ctx.store.engine, ctx.account_id)

        self._loads.load(work, ctx.storage_pool, self._loaded, self._failed)

    # --- showing ----------------------------------------------------------------------------------
    def _loaded(self, proofs: Sequence[Any]) -> None:
        self._fill(list(proofs))
        live = sum(1 for p in proofs if p.counts_as_production_proof)
        self.message.setText(EMPTY_TEXT if not proofs else
                             f"{len(proofs)} proof record(s); {live} live proof(s) of the round "
                             f"trip. Sandbox records are {SIMULATED_LABEL}.")
        self.refreshed.emit()

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(f"Could not load the proofs: {exc}")
        self.refreshed.emit()

    def _fill(self, proofs: list[Any]) -> None:
        self.proofs = proofs
        self.table.setRowCount(len(proofs))
        for row, proof in enumerate(proofs):
            record = proof.record
            template = record.get("template") or {}
            cells = (proof.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                     record.get("verdict_label") or proof.verdict,
                     mode_text(proof.simulated),
                     f"{template.get('name', '')} ({template.get('language', '')})",
                     str(record.get("recipient") or ""), proof.wamid or "—")
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        if proofs:
            self.table.selectRow(0)
        else:
            self.details.clear()
        self._set_enabled()

    def selected(self) -> Any | None:
        rows = self.table.selectionModel().selectedRows()
        return self.proofs[rows[0].row()] if rows else None

    def _show_selected(self) -> None:
        proof = self.selected()
        self.details.setPlainText(
            json.dumps(dict(proof.record), indent=2, ensure_ascii=False) if proof else "")
        self._set_enabled()

    def _set_enabled(self) -> None:
        self.run_button.setEnabled(self.ctx is not None and self.wizard is None)
        self.export_button.setEnabled(self.selected() is not None)

    # --- actions ----------------------------------------------------------------------------------
    def _export(self) -> None:
        from wa_console.gui.wizard import export_proof

        if self.ctx is not None:
            export_proof(self.prompts, self.selected(), self.ctx, self)

    def open_wizard(self) -> Any:
        """Open the test send wizard (one at a time); returns it."""
        if self.ctx is None or self.wizard is not None:
            return self.wizard
        from wa_console.gui.wizard import TestSendWizard

        factory = self.wizard_factory or TestSendWizard
        wizard = factory(self.ctx, self.prompts, self)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.proof_saved.connect(self._proof_saved)
        wizard.finished.connect(self._wizard_closed)
        self.wizard = wizard
        self._set_enabled()
        wizard.open()
        return wizard

    def _proof_saved(self, _proof: Any) -> None:
        self.refresh()
        self.data_changed.emit()

    def _wizard_closed(self, _result: int) -> None:
        self.wizard = None
        self._set_enabled()
        # A proof saved on cancel reaches no signal (the wizard is gone); the storage pool runs
        # tasks in order, so this refresh sees it.
        self.refresh()
