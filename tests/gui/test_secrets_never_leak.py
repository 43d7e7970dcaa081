"""After a full save, export and logging, no secret value is in any file the console wrote."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtCore import QSettings, Qt

from tests.support.gui import fill_valid, press_save
from tests.support.samples import SECRETS
from wa_console.logs import setup_logging


def test_no_secret_in_database_log_export_or_settings(qtbot, open_window, tmp_path) -> None:
    """Raw bytes of the SQLite files, the log, the export and QSettings hold 0 secret values."""
    log_file = setup_logging(tmp_path / "logs", level=logging.DEBUG)
    window = open_window()
    qtbot.mouseClick(window.ui.addButton, Qt.MouseButton.LeftButton)
    fill_valid(qtbot, window)
    with qtbot.waitSignal(window.saved, timeout=10000):
        press_save(qtbot, window)
    qtbot.waitUntil(lambda: window._busy is None)
    window.prompts.path = str(tmp_path / "export.json")
    window.ui.actionExport.trigger()
    qtbot.waitUntil(lambda: (tmp_path / "export.json").exists() and window._busy is None)
    # Code that logs carelessly must still not leak: the file handler redacts.
    careless = logging.getLogger("wa_console.careless")
    careless.error("token %s secret %s", SECRETS["access_token"], SECRETS["app_secret"])
    careless.warning("GET /debug_token?input_token=%s&access_token=1|x",
                     SECRETS["access_token"])
    try:
        raise RuntimeError(f"verify token was {SECRETS['webhook_verify_token']}")
    except RuntimeError:
        careless.exception("failed")
    window.close()
    QSettings().sync()
    for handler in logging.getLogger("wa_console").handlers:
        handler.flush()

    database = Path(window.store.engine.url.database)
    files = [p for p in database.parent.glob(database.name + "*")]  # db, -wal, -shm
    files += [log_file, tmp_path / "export.json", Path(QSettings().fileName())]
    scanned = {str(p): p.read_bytes() for p in files if p.exists()}
    assert str(database) in scanned and str(log_file) in scanned
    assert b"careless" in scanned[str(log_file)]  # the log really has the lines
    hits = [(name, key) for name, data in scanned.items() for key, secret in SECRETS.items()
            if secret.encode() in data]
    assert hits == []
    refs = json.loads((tmp_path / "export.json").read_text())["credentials"]
    assert all(ref.startswith("keyring:wa-console/") for ref in refs.values())
