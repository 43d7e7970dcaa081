"""Qt item models of the Delivery health page.

`MessageListModel` shows the filtered outbound messages, newest first, without ever holding all of
them: the view asks for more rows as it scrolls (`canFetchMore`/`fetchMore`), and each page of
`PAGE_SIZE` rows is read on the storage pool, so 200,000 messages open as fast as 500 do and the
GUI thread never waits for the database.

Signals (MessageListModel):
    page_loaded(int): a page arrived and its rows are in the model (the number of rows now).
    page_failed(str): a page could not be read (the message; the model stops fetching).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import QColor

from wa_console.gui.tasks import run_task, while_alive

PAGE_SIZE: Final = 500
MESSAGE_COLUMNS: Final = ("Sent at (UTC)", "Recipient", "Sender", "Template", "Status",
                          "Status at (UTC)", "Error")
SENDER_COLUMN: Final = MESSAGE_COLUMNS.index("Sender")
STATUS_COLUMN: Final = MESSAGE_COLUMNS.index("Status")
STATUS_COLOURS: Final = {"failed": "#b3261e", "unconfirmed": "#a15c00", "read": "#1b7f3b",
                         "delivered": "#1b7f3b", "sent": "#5f6368"}

# Loads `limit` rows from `offset` (runs on the storage pool, never touches Qt).
PageLoader = Callable[[int, int], Sequence[Any]]
_Index = QModelIndex | QPersistentModelIndex


def utc_text(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M:%S}" if at else ""


class MessageListModel(QAbstractTableModel):
    """The message list: `MessageRow`s of `store.health.message_page`, fetched page by page.

    `reset(total, first_rows, loader)` shows a new filter's result: its total row count (from
    `count_messages`), the first page (loaded with the figures, so the list appears with them)
    and the loader for the following pages. Pages of an older filter that arrive late are
    dropped.
    """

    page_loaded = Signal(int)
    page_failed = Signal(str)

    def __init__(self, pool: QThreadPool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self.rows: list[Any] = []
        self.total = 0
        self.sender_labels: dict[str, str] = {}
        self._loader: PageLoader | None = None
        self._loading = False
        self._generation = 0

    # --- filling ---------------------------------------------------------------------------------
    def reset(self, total: int, first_rows: Sequence[Any], loader: PageLoader | None) -> None:
        self.beginResetModel()
        self._generation += 1
        self.rows = list(first_rows)
        self.total = max(total, len(self.rows))
        self._loader = loader
        self._loading = False
        self.endResetModel()

    def clear(self) -> None:
        self.reset(0, [], None)

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008 (Qt's default)
        return (not parent.isValid() and self._loader is not None and not self._loading
                and len(self.rows) < self.total)

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008 (Qt's default)
        if not self.canFetchMore(parent) or self._loader is None:
            return
        self._loading = True
        loader, offset, generation = self._loader, len(self.rows), self._generation

        def arrived(rows: Sequence[Any]) -> None:
            if generation != self._generation:
                return  # a page of the previous filter
            self._loading = False
            if not rows:
                self.total = len(self.rows)  # messages were deleted since the count
                return
            start = len(self.rows)
            self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
            self.rows.extend(rows)
            self.endInsertRows()
            self.page_loaded.emit(len(self.rows))

        def failed(exc: BaseException) -> None:
            if generation == self._generation:
                self._loader = None  # stop asking: each scroll would fail the same way
                self._loading = False
                self.page_failed.emit(f"Could not load more messages: {exc}")

        run_task(lambda _task: loader(offset, PAGE_SIZE), pool=self.pool,
                 on_success=while_alive(self, arrived), on_failure=while_alive(self, failed))

    def set_sender_labels(self, labels: dict[str, str]) -> None:
        """Show senders by label (they load after the first page)."""
        self.sender_labels = labels
        if self.rows:
            self.dataChanged.emit(self.index(0, SENDER_COLUMN),
                                  self.index(len(self.rows) - 1, SENDER_COLUMN))

    # --- reading ---------------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's default)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's default)
        return 0 if parent.isValid() else len(MESSAGE_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(MESSAGE_COLUMNS)):
            return MESSAGE_COLUMNS[section]
        return None

    def row_at(self, row: int) -> Any | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def cells(self, message: Any) -> tuple[str, ...]:
        sender = self.sender_labels.get(message.phone_number_id or "",
                                        message.phone_number_id or "")
        return (utc_text(message.created_at), message.recipient or "", sender,
                message.template or "", message.status or "", utc_text(message.status_at),
                "" if message.error_code is None else str(message.error_code))

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        message = self.row_at(index.row()) if index.isValid() else None
        if message is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cells(message)[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == STATUS_COLUMN:
            colour = STATUS_COLOURS.get(message.status or "")
            return QColor(colour) if colour else None
        if role == Qt.ItemDataRole.ToolTipRole and message.status == "unconfirmed":
            return "No delivered, read or failed status arrived in time: never assume delivered."
        return None
