"""The Readiness page: the seven-item checklist and the five feature toggles it gates.

All reading and writing happens on `ctx.storage_pool` through `run_task`; the widgets only show
what a task returned. Readiness never switches a toggle: only the admin's click does (and that
click is saved with `store.toggles.set_toggle`), so a feature that was on when readiness was lost
is shown checked and *suspended*, with the reason, until the admin switches it off.

Signals:
    data_changed(): a toggle was saved (other pages may refresh).
    action_requested(Action): the admin pressed an item's fix button; the main window routes the
        `core.readiness.Action` to the right tab or operation.
    refreshed(): a refresh finished and is on screen (its result or its error).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from wa_console.core.readiness import (
    FEATURES,
    Action,
    FeatureGate,
    GateState,
    ItemState,
    Readiness,
    Requirement,
    gate,
)
from wa_console.gui.pages import PageContext
from wa_console.gui.tasks import LatestOnly, run_task, while_alive
from wa_console.gui.widgets import simulated_badge

# The state mark of a checklist item: text (never colour alone) and colour.
STATE_TEXT: Final[Mapping[ItemState, str]] = {
    ItemState.OK: "✔ OK",
    ItemState.FAILING: "✖ Failing",
    ItemState.NOT_CHECKED: "? Not checked",
    ItemState.STALE: "⟳ Stale",
}
STATE_COLOUR: Final[Mapping[ItemState, str]] = {
    ItemState.OK: "#1b7f3b",
    ItemState.FAILING: "#b3261e",
    ItemState.NOT_CHECKED: "#6b6b6b",
    ItemState.STALE: "#a15c00",
}
SUSPENDED_COLOUR: Final = "#a15c00"
GREYED_COLOUR: Final = "#8a8a8a"

# (store, account_id) -> Readiness; None means ops.readiness.load_readiness (looked up at call
# time, so tests may monkeypatch the module function or set this hook).
ReadinessLoader = Callable[[Any, int], Readiness]


class _ItemRow:
    """The widgets of one checklist line."""

    def __init__(self, grid: QGridLayout, row: int, requirement: Requirement,
                 on_fix: Callable[[Requirement], None]) -> None:
        self.requirement = requirement
        self.mark = QLabel()
        self.mark.setObjectName(f"state_{requirement.value}")
        self.mark.setMinimumWidth(110)
        self.label = QLabel(requirement.label)
        self.label.setObjectName(f"label_{requirement.value}")
        font = self.label.font()
        font.setBold(True)
        self.label.setFont(font)
        self.reason = QLabel()
        self.reason.setObjectName(f"reason_{requirement.value}")
        self.reason.setWordWrap(True)
        self.reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reason.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.button = QPushButton()
        self.button.setObjectName(f"fix_{requirement.value}")
        self.button.clicked.connect(lambda: on_fix(requirement))
        self.button.hide()
        grid.addWidget(self.mark, row, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.label, row, 1, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.reason, row, 2, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.button, row, 3, Qt.AlignmentFlag.AlignTop)
        self.action: Action | None = None
        self.state: ItemState | None = None

    def show_item(self, state: ItemState | None, reason: str, action: Action | None,
                  problems: tuple[str, ...] = ()) -> None:
        self.state = state
        self.action = action if state is not None and state is not ItemState.OK else None
        if state is None:
            self.mark.setText("")
            self.mark.setStyleSheet("")
        else:
            self.mark.setText(STATE_TEXT[state])
            self.mark.setStyleSheet(f"color: {STATE_COLOUR[state]}; font-weight: bold;")
        self.reason.setText(reason)
        self.reason.setToolTip("\n".join(f"• {p}" for p in problems) if len(problems) > 1
                               else "")
        if self.action is not None:
            self.button.setText(self.action.label)
            self.button.show()
        else:
            self.button.hide()


class ReadinessPage(QWidget):
    """The checklist (state mark, label, reason, fix button per item), headline, advisories,
    and the feature toggles (a QCheckBox per feature, objectName = the feature key)."""

    data_changed = Signal()
    action_requested = Signal(object)
    refreshed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("readinessPage")
        self.ctx: PageContext | None = None
        self.readiness: Readiness | None = None
        self.toggles: dict[str, bool] = {}
        self.gates: dict[str, FeatureGate] = {}
        self.readiness_loader: ReadinessLoader | None = None
        self._loads = LatestOnly(self)
        self._saving: set[str] = set()

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        layout = QVBoxLayout(body)

        top = QHBoxLayout()
        self.headline = QLabel("No account selected")
        self.headline.setObjectName("readinessHeadline")
        font = self.headline.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.headline.setFont(font)
        self.headline.setWordWrap(True)
        top.addWidget(self.headline, 1)
        self.simulated = simulated_badge(
            "This is a sandbox account: every result comes from the local emulator, so nothing "
            "here proves production readiness.")
        self.simulated.hide()
        top.addWidget(self.simulated, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)

        self.proof = QLabel()
        self.proof.setObjectName("readinessProof")
        self.proof.setWordWrap(True)
        self.proof.setToolTip("Production proof = a real Meta message id, a signed status "
                              "callback for it and the reply from the test phone (Proofs page).")
        layout.addWidget(self.proof)

        self.status = QLabel()
        self.status.setObjectName("readinessStatus")
        self.status.setWordWrap(True)
        self.status.hide()
        layout.addWidget(self.status)
        self.error = QLabel()
        self.error.setObjectName("readinessError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {STATE_COLOUR[ItemState.FAILING]};")
        self.error.hide()
        layout.addWidget(self.error)

        checklist = QGroupBox("Requirements")
        checklist.setObjectName("checklist")
        grid = QGridLayout(checklist)
        grid.setColumnStretch(2, 1)
        self.rows: dict[Requirement, _ItemRow] = {
            req: _ItemRow(grid, i, req, self._fix_clicked) for i, req in enumerate(Requirement)}
        layout.addWidget(checklist)

        self.advisory_box = QGroupBox("Notes")
        self.advisory_box.setObjectName("advisories")
        self.advisory_layout = QVBoxLayout(self.advisory_box)
        self.advisory_labels: list[QLabel] = []
        self.advisory_box.hide()
        layout.addWidget(self.advisory_box)

        features = QGroupBox("Features")
        features.setObjectName("features")
        feature_layout = QVBoxLayout(features)
        hint = QLabel("Each feature needs every requirement above. Readiness never switches a "
                      "feature; a feature that is on when readiness is lost is suspended until "
                      "the requirements are met again.")
        hint.setWordWrap(True)
        feature_layout.addWidget(hint)
        self.checkboxes: dict[str, QCheckBox] = {}
        for feature in FEATURES:
            box = QCheckBox(feature.label)
            box.setObjectName(feature.key)
            box.setEnabled(False)
            box.clicked.connect(lambda checked, key=feature.key: self._toggle_clicked(key, checked))
            feature_layout.addWidget(box)
            self.checkboxes[feature.key] = box
        layout.addWidget(features)
        layout.addStretch(1)
        self._clear()

    # --- the page contract --------------------------------------------------------------------
    def set_context(self, ctx: PageContext | None) -> None:
        """Show another account (None: no account); loads its checklist in the background."""
        self.ctx = ctx
        self._loads.next()
        self._saving.clear()
        self._clear()
        if ctx is not None:
            self.simulated.setVisible(ctx.sandbox)
            self.refresh()

    def refresh(self) -> None:
        """Reload readiness and the stored toggles on the storage pool, then show them."""
        ctx = self.ctx
        if ctx is None:
            return
        loader = self.readiness_loader

        def work(_task: Any) -> tuple[Readiness, dict[str, bool]]:
            from wa_console.ops import readiness as ops_readiness
            from wa_console.store.toggles import load_toggles

            load = loader or ops_readiness.load_readiness
            return load(ctx.store, ctx.account_id), load_toggles(ctx.store.engine, ctx.account_id)

        self.status.setText("Loading readiness…")
        self.status.setStyleSheet("")
        self.status.show()
        self._loads.load(work, ctx.storage_pool, lambda result: self._loaded(*result),
                         self._load_failed)

    # --- showing --------------------------------------------------------------------------------
    def _clear(self) -> None:
        self.readiness = None
        self.toggles = {}
        self.gates = {}
        self.headline.setText("No account selected" if self.ctx is None else "Loading…")
        self.headline.setStyleSheet("")
        self.proof.clear()
        self.simulated.hide()
        self.status.hide()
        self.error.hide()
        for row in self.rows.values():
            row.show_item(None, "", None)
        self._set_advisories([])
        for box in self.checkboxes.values():
            box.setChecked(False)
            box.setEnabled(False)
            box.setToolTip("")
            box.setText(next(f.label for f in FEATURES if f.key == box.objectName()))
            box.setStyleSheet("")

    def _loaded(self, readiness: Readiness, toggles: dict[str, bool]) -> None:
        if self.ctx is None:
            return  # an older refresh, or another account meanwhile
        self.readiness = readiness
        self.toggles = dict(toggles)
        self.status.hide()
        self.headline.setText(readiness.headline)
        self.proof.setText(readiness.proof_line)
        colour = STATE_COLOUR[ItemState.OK] if readiness.ready else STATE_COLOUR[ItemState.FAILING]
        self.headline.setStyleSheet(f"color: {colour};")
        self.simulated.setVisible(readiness.simulated or self.ctx.sandbox)
        for item in readiness.items:
            self.rows[item.requirement].show_item(item.state, item.reason, item.action,
                                                  item.problems)
        self._set_advisories([a.text for a in readiness.advisories])
        self.gates = gate(readiness, self.toggles)
        for key, feature_gate in self.gates.items():
            self._show_gate(key, feature_gate)
        self.refreshed.emit()

    def _load_failed(self, exc: BaseException) -> None:
        self.status.setText(f"Could not load readiness: {exc}")
        self.status.setStyleSheet(f"color: {STATE_COLOUR[ItemState.FAILING]};")
        self.status.show()
        self.refreshed.emit()

    def _set_advisories(self, texts: list[str]) -> None:
        for label in self.advisory_labels:
            self.advisory_layout.removeWidget(label)
            label.deleteLater()
        self.advisory_labels = []
        for text in texts:
            label = QLabel(f"⚠ {text}")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.advisory_layout.addWidget(label)
            label.show()
            self.advisory_labels.append(label)
        self.advisory_box.setVisible(bool(texts))

    def _show_gate(self, key: str, feature_gate: FeatureGate) -> None:
        box = self.checkboxes[key]
        label = next(f.label for f in FEATURES if f.key == key)
        box.setChecked(feature_gate.checked)
        box.setEnabled(feature_gate.interactive and key not in self._saving)
        box.setToolTip(feature_gate.tooltip)
        box.setProperty("gateState", feature_gate.state.value)
        if feature_gate.state is GateState.SUSPENDED:
            box.setText(f"{label} — suspended (readiness lost; hover for the reason)")
            box.setStyleSheet(f"color: {SUSPENDED_COLOUR};")
        elif feature_gate.state is GateState.DISABLED:
            box.setText(label)
            box.setStyleSheet(f"color: {GREYED_COLOUR};")
        else:
            box.setText(label)
            box.setStyleSheet("")

    def _same_account(self, ctx: PageContext) -> bool:
        return self.ctx is not None and (self.ctx.store, self.ctx.account_id) == (
            ctx.store, ctx.account_id)

    # --- clicks ---------------------------------------------------------------------------------
    def _fix_clicked(self, requirement: Requirement) -> None:
        action = self.rows[requirement].action
        if action is not None:
            self.action_requested.emit(action)

    def _toggle_clicked(self, key: str, checked: bool) -> None:
        ctx = self.ctx
        current = self.gates.get(key)
        if ctx is None or current is None:
            return
        if checked and current.state is not GateState.AVAILABLE_OFF:
            # Only a ready, switched-off feature may be switched on; show the truth again.
            self._show_gate(key, current)
            return
        self._saving.add(key)
        self.checkboxes[key].setEnabled(False)

        def work(_task: Any) -> None:
            from wa_console.store.toggles import set_toggle

            set_toggle(ctx.store.engine, ctx.account_id, key, checked)

        def saved(_result: Any) -> None:
            self._saving.discard(key)
            if self._same_account(ctx):
                self.error.hide()
                self.data_changed.emit()
                self.refresh()

        def failed(exc: BaseException) -> None:
            self._saving.discard(key)
            if self._same_account(ctx):
                label = next(f.label for f in FEATURES if f.key == key)
                self.error.setText(f"Could not save {label}: {exc}")
                self.error.show()
                self.refresh()

        run_task(work, pool=ctx.storage_pool, on_success=while_alive(self, saved),
                 on_failure=while_alive(self, failed))
