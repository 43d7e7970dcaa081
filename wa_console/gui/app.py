"""Start the console: QApplication, resources, style, main window."""

from __future__ import annotations

import logging
import sys
import time
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


def run(db_url: str | None, smoke: bool = False) -> int:
    """Show the main window until it is closed. `db_url`: from --db, or None for the default
    ($WA_CONSOLE_DB_URL, else the SQLite file in the user data folder).

    `smoke`: exit 0 once the database is open (1 on a failure), printing when the window was
    first shown, when the account list was on screen and when the store was ready, as
    `time.monotonic_ns()` stamps
    (system-wide on Linux, so a parent process can subtract its own start stamp). Used by the
    packaged-build test and benchmarks/startup.py.
    """
    app = create_application()
    from wa_console.gui.main_window import MainWindow

    window = MainWindow(db_url)
    window.show()
    # Logging setup imports platformdirs and logging.handlers: after the first paint, off-thread.
    from wa_console.gui.tasks import run_task
    from wa_console.logs import setup_logging

    run_task(lambda ctx: setup_logging())
    if not smoke:
        return app.exec()

    outcome = {"code": 1, "usable": False}
    QTimer.singleShot(0, lambda: print(f"smoke: shown {time.monotonic_ns()}", flush=True))

    def loaded(summaries: list) -> None:
        if not outcome["usable"]:  # the first list on screen, maybe from the start-up snapshot
            outcome["usable"] = True
            print(f"smoke: usable {time.monotonic_ns()} accounts={len(summaries)}", flush=True)

    def opened() -> None:
        print(f"smoke: ready {time.monotonic_ns()}", flush=True)
        outcome["code"] = 0
        app.quit()

    def failed(message: str) -> None:
        print(f"smoke: failed: {message}", file=sys.stderr, flush=True)
        app.quit()

    window.accounts_loaded.connect(loaded)
    window.store_opened.connect(opened)
    window.failed.connect(failed)
    window.prompts.error = lambda *a, **k: None  # type: ignore[method-assign]
    QTimer.singleShot(SMOKE_TIMEOUT_MS, app.quit)
    app.exec()
    window.close()
    return outcome["code"]
