"""Fixtures for GUI tests: a main window on the test database, with scripted prompts."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.gui import ScriptedPrompts
from wa_console.gui.app import create_application
from wa_console.gui.main_window import MainWindow


@pytest.fixture
def open_window(qtbot, sqlite_url: str) -> Iterator[Callable[..., MainWindow]]:
    """Open a main window on the test database and wait until its account list is usable."""
    create_application()
    windows: list[MainWindow] = []

    def _open(url: str = sqlite_url) -> MainWindow:
        window = MainWindow(url)
        window.prompts = ScriptedPrompts(window)
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.store_opened, timeout=15000):
            window.show()
        windows.append(window)
        return window

    yield _open
    for window in windows:
        window.dirty = False
        window.close()
        window.store.engine.dispose() if window.store else None


@pytest.fixture(autouse=True)
def no_receiver_autostart(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows in tests do not start the sandbox's local receiver on its fixed port (one test
    switches it back on, on a free port)."""
    from wa_console.gui.pages.webhooks import WebhooksPage

    monkeypatch.setattr(WebhooksPage, "autostart_for_sandbox", False)
