"""Small widget builders the pages share."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QWidget


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
