"""Start the console: QApplication, resources, style, main window."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QFile, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from wa_console import __version__

log = logging.getLogger(__name__)
SMOKE_TIMEOUT_MS = 60_000


def create_application(argv: Sequence[str] = ()) -> QApplication:
    """The QApplication with our names (QSettings location), resources and style sheet."""
    QCoreApplication.setOrganizationName("wa-console")
    QCoreApplication.setApplicationName("wa-console")
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    from wa_console.gui.forms import resources_rc  # noqa: F401  (registers :/ resources)

    app.setWindowIcon(QIcon(":/icons/app.svg"))
    style = QFile(":/style.qss")
    if style.open(QFile.OpenModeFlag.ReadOnly):
        app.setStyleSheet(bytes(style.readAll().data()).decode("utf-8"))
    return app  # type: ignore[return-value]


def run(db_url: str, smoke: bool = False) -> int:
    """Show the main window until it is closed. `smoke`: exit 0 once the accounts are loaded
    (1 on a failure); used by the packaged-build test."""
    app = create_application()
    from wa_console.gui.main_window import MainWindow

    window = MainWindow(db_url)
    window.show()
    if smoke:
        outcome = {"code": 1}

        def loaded(_: list) -> None:
            outcome["code"] = 0
            app.quit()

        def failed(message: str) -> None:
            print(f"smoke: failed: {message}", file=sys.stderr)
            app.quit()

        window.accounts_loaded.connect(loaded)
        window.failed.connect(failed)
        window.prompts.error = lambda *a, **k: None  # type: ignore[method-assign]
        QTimer.singleShot(SMOKE_TIMEOUT_MS, app.quit)
        app.exec()
        window.close()
        return outcome["code"]
    return app.exec()
