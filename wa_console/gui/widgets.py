"""Small widget builders the pages share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QWidget

from wa_console.core.readiness import SIMULATED_LABEL


def read_only_table(columns: Sequence[str], name: str, parent: QWidget | None = None, *,
                    modes: Sequence[QHeaderView.ResizeMode] | None = None,
                    word_wrap: bool = False) -> QTableWidget:
    """A table of results the admin reads and selects rows of, never edits. `modes` sets each
    column's resize mode (default: fit contents, the last one stretches)."""
    table = QTableWidget(0, len(columns), parent)
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(columns))
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setWordWrap(word_wrap)
    head = table.horizontalHeader()
    if modes is None:
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setStretchLastSection(True)
    else:
        for column, mode in enumerate(modes):
            head.setSectionResizeMode(column, mode)
    return table


SIMULATED_TEXT: Final = f"Sandbox account: {SIMULATED_LABEL}"


def simulated_badge(tooltip: str, parent: QWidget | None = None) -> QLabel:
    """The one look of "this is the sandbox": every page that shows simulated data wears it."""
    badge = QLabel(SIMULATED_TEXT, parent)
    badge.setObjectName("simulatedLabel")
    badge.setStyleSheet("QLabel { color: #8a5300; background: #fff8e1; padding: 2px 6px; "
                        "border-radius: 3px; }")
    badge.setToolTip(tooltip)
    return badge
