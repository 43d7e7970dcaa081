"""The main window with real widgets (pytest-qt, offscreen), a real SQLite file and keyring."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from tests.support.gui import field, fill_valid, message, press_save, type_into
from tests.support.samples import SECRETS, TOKEN, TYPED
from wa_console.core.schema import CHANNEL_FIELDS, Kind
from wa_console.gui.binder import SecretField
from wa_console.gui.prompts import UnsavedChoice


def test_full_configuration_survives_a_restart(qtbot, open_window, memory_keyring) -> None:
    """Type a full valid configuration, Ctrl+S, reopen the window: every value is there."""
    window = open_window()
    qtbot.mouseClick(window.ui.addButton, Qt.MouseButton.LeftButton)
    fill_valid(qtbot, window)
    assert window.isWindowModified() and window.ui.saveButton.isEnabled()
    with qtbot.waitSignal(window.saved, timeout=10000):
        press_save(qtbot, window)
    qtbot.waitUntil(lambda: not window.isWindowModified() and window._busy is None)
    window.close()
    assert not window.isVisible()

    again = open_window()
    qtbot.waitUntil(lambda: again.record is not None, timeout=10000)
    for key, text in TYPED.items():
        assert field(again, key).text() == text, key
    assert field(again, "graph_api_version").text() == "v23.0"
    assert field(again, "provider").currentData() == "meta_whatsapp"
    assert not field(again, "sandbox").isChecked()
    for key, secret in SECRETS.items():
        widget = field(again, key)
        assert widget.entry.text() == ""  # the stored secret is never loaded into the widget
        assert widget.state_text() == "Stored in the OS keyring"
        assert again.store.secrets.get(again.record.refs[key]) == secret
    assert sorted(memory_keyring.entries.values()) == sorted(SECRETS.values())
    assert again.model.rowCount() == 1 and again.windowTitle().startswith("Main campus")


BAD_VALUES = [  # (field typed, bad text, extra overrides, field with the error, message part)
    ("waba_id", "1022 9012 9340 398", {}, "waba_id", "remove the spaces"),
    ("phone_number_id", "+447911123456", {}, "phone_number_id", "an ID has no '+'"),
    ("app_id", "12345", {}, "app_id", "too short for a Meta ID"),
    ("phone_number_id", "447911123456", {}, "phone_number_id", "looks like the display number"),
    ("app_id", TYPED["waba_id"], {}, "app_id", "the same number as the WhatsApp Business"),
    ("display_phone_number", "07911 123456", {}, "display_phone_number", "start with +"),
    ("webhook_callback_url", "http://platform.example.org/hook", {}, "webhook_callback_url",
     "only calls https://"),
    ("webhook_callback_url", "https://platform.example.org/hook#top", {},
     "webhook_callback_url", "#fragment"),
    ("webhook_verify_token", TOKEN, {}, "webhook_verify_token", "the same as the access token"),
    ("webhook_verify_token", "two words", {}, "webhook_verify_token", "contains spaces"),
    ("app_secret", "not-hex", {}, "app_secret", "32 hexadecimal characters"),
    ("graph_api_version", "23.0", {}, "graph_api_version", "did you mean v23.0?"),
    ("account_name", "", {}, "account_name", "Account name is required"),
]


@pytest.mark.parametrize(("key", "text", "extra", "error_key", "expected"), BAD_VALUES,
                         ids=[f"{b[0]}:{b[4]}" for b in BAD_VALUES])
def test_bad_value_shows_inline_error_and_saves_nothing(
    qtbot, open_window, memory_keyring, key, text, extra, error_key, expected
) -> None:
    """Each class of bad value: the message appears under its field and nothing is stored."""
    window = open_window()
    qtbot.mouseClick(window.ui.addButton, Qt.MouseButton.LeftButton)
    fill_valid(qtbot, window, **extra)
    type_into(qtbot, window, key, text)
    press_save(qtbot, window)
    label = message(window, error_key)
    assert label.isVisible()
    assert expected in label.text()
    assert label.property("role") == "fieldError"
    other_errors = [s.key for s in CHANNEL_FIELDS
                    if s.key != error_key and message(window, s.key).property("role") == "fieldError"
                    and message(window, s.key).isVisible()]
    assert other_errors == []
    assert window.isWindowModified()  # the edits are kept, not lost
    focused = QApplication.focusWidget()
    widget = field(window, error_key)
    assert focused in (widget, getattr(widget, "entry", None))
    assert window.store.list_accounts() == []
    assert memory_keyring.entries == {}


def test_errors_appear_and_disappear_as_you_type(qtbot, open_window) -> None:
    """Live validation marks a touched field and clears the mark once it is fixed."""
    window = open_window()
    qtbot.mouseClick(window.ui.addButton, Qt.MouseButton.LeftButton)
    type_into(qtbot, window, "waba_id", "12ab")
    assert message(window, "waba_id").isVisible()
    assert not message(window, "phone_number_id").isVisible()  # untouched fields stay quiet
    type_into(qtbot, window, "waba_id", TYPED["waba_id"])
    assert not message(window, "waba_id").isVisible()


def test_warning_does_not_block_saving(qtbot, open_window) -> None:
    """A '+' in the callback query is a warning with the encoded fix; the save goes through."""
    window = open_window()
    qtbot.mouseClick(window.ui.addButton, Qt.MouseButton.LeftButton)
    fill_valid(qtbot, window, webhook_callback_url="https://platform.example.org/h?x=a+b")
    with qtbot.waitSignal(window.saved, timeout=10000):
        press_save(qtbot, window)
    assert "x=a%2Bb" in message(window, "webhook_callback_url").text() or \
        window.record.values["webhook_callback_url"].endswith("x=a+b")


def test_revert_restores_the_saved_values(qtbot, open_window) -> None:
    """Revert drops the edits and shows the stored settings; the title loses its asterisk."""
    window = open_window()
    qtbot.mouseClick(window.ui.createSandboxButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.record is not None and window._busy is None)
    type_into(qtbot, window, "app_id", "999999999999")
    assert window.isWindowModified() and window.ui.revertButton.isEnabled()
    qtbot.mouseClick(window.ui.revertButton, Qt.MouseButton.LeftButton)
    assert field(window, "app_id").text() == "300000000000003"
    assert not window.isWindowModified() and not window.ui.saveButton.isEnabled()


def test_first_start_offers_a_sandbox_account(qtbot, open_window) -> None:
    """With no accounts the welcome page offers a sandbox account, shown as simulated."""
    window = open_window()
    assert window.ui.pages.currentWidget() is window.ui.welcomePage
    with qtbot.waitSignal(window.record_loaded, timeout=10000):
        qtbot.mouseClick(window.ui.createSandboxButton, Qt.MouseButton.LeftButton)
    assert field(window, "sandbox").isChecked()
    assert "simulated" in window.ui.settingsTitle.text()
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    assert window.model.item(0).toolTip().startswith("Sandbox account: simulated")


def test_close_with_unsaved_changes_asks(qtbot, open_window) -> None:
    """Cancel keeps the window open with the edits; Discard closes it."""
    window = open_window()
    qtbot.mouseClick(window.ui.addButton, Qt.MouseButton.LeftButton)
    type_into(qtbot, window, "account_name", "Half done")
    window.prompts.unsaved = UnsavedChoice.CANCEL
    window.close()
    assert window.isVisible() and field(window, "account_name").text() == "Half done"
    window.prompts.unsaved = UnsavedChoice.DISCARD
    window.close()
    assert not window.isVisible()
    assert [a[0] for a in window.prompts.asked] == ["unsaved", "unsaved"]


def test_close_with_save_saves_then_closes(qtbot, open_window) -> None:
    """Choosing Save on close stores the edits, then closes the window."""
    window = open_window()
    qtbot.mouseClick(window.ui.addButton, Qt.MouseButton.LeftButton)
    fill_valid(qtbot, window)
    window.prompts.unsaved = UnsavedChoice.SAVE
    with qtbot.waitSignal(window.saved, timeout=10000):
        window.close()
    qtbot.waitUntil(lambda: not window.isVisible())
    assert [s.name for s in window.store.list_accounts()] == ["Main campus"]


def test_save_over_a_change_made_elsewhere_is_refused(qtbot, open_window) -> None:
    """Two consoles edit one account: the second save is refused, nothing is overwritten."""
    first = open_window()
    qtbot.mouseClick(first.ui.createSandboxButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: first.record is not None and first._busy is None)
    second = open_window()
    qtbot.waitUntil(lambda: second.record is not None and second._busy is None)

    # Two windows: Ctrl+S goes to the active one only, so click each window's Save button.
    type_into(qtbot, first, "app_id", "111111111111")
    with qtbot.waitSignal(first.saved, timeout=10000):
        qtbot.mouseClick(first.ui.saveButton, Qt.MouseButton.LeftButton)
    type_into(qtbot, second, "app_id", "222222222222")
    with qtbot.waitSignal(second.failed, timeout=10000):
        qtbot.mouseClick(second.ui.saveButton, Qt.MouseButton.LeftButton)
    kind, text = second.prompts.asked[-1]
    assert kind == "conflict" and "changed elsewhere" in text and "Reload" in text
    assert second.ui.banner.isVisible()
    assert field(second, "app_id").text() == "222222222222"  # the edit is kept to re-apply
    assert second.store.get(second.record.id).values["app_id"] == "111111111111"


def test_no_keyring_offers_session_only_secrets(qtbot, open_window, no_keyring) -> None:
    """Without a keyring the admin is told how to fix it and may keep secrets for this session."""
    window = open_window()
    qtbot.mouseClick(window.ui.addButton, Qt.MouseButton.LeftButton)
    fill_valid(qtbot, window)
    with qtbot.waitSignal(window.saved, timeout=10000):
        press_save(qtbot, window)
    kind, text = window.prompts.asked[0]
    assert kind == "keyring" and "Secret Service" in text and "PYTHON_KEYRING_BACKEND" in text
    assert window.record.refs["access_token"].scheme == "session"
    assert field(window, "access_token").state_text() == "Kept in memory for this session only"


def test_rename_and_delete(qtbot, open_window, memory_keyring) -> None:
    """Rename keeps the settings; delete asks first and removes the keyring entries too."""
    window = open_window()
    qtbot.mouseClick(window.ui.createSandboxButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.record is not None and window._busy is None)
    window.prompts.rename_to = "Demo"
    with qtbot.waitSignal(window.saved, timeout=10000):
        qtbot.mouseClick(window.ui.renameButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.model.rowCount() == 1 and window.model.item(0).text() == "Demo")
    assert field(window, "waba_id").text() == "100000000000001"

    window.prompts.delete_ok = False
    qtbot.mouseClick(window.ui.deleteButton, Qt.MouseButton.LeftButton)
    assert window.store.list_accounts() != []
    window.prompts.delete_ok = True
    with qtbot.waitSignal(window.accounts_loaded, timeout=10000):
        qtbot.mouseClick(window.ui.deleteButton, Qt.MouseButton.LeftButton)
    assert window.store.list_accounts() == [] and memory_keyring.entries == {}
    assert window.ui.pages.currentWidget() is window.ui.welcomePage


def test_export_then_import(qtbot, open_window, tmp_path) -> None:
    """Export writes references only; importing a broken copy lists every problem at once."""
    window = open_window()
    qtbot.mouseClick(window.ui.createSandboxButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.record is not None and window._busy is None)
    window.prompts.path = str(tmp_path / "out.json")
    window.ui.actionExport.trigger()
    qtbot.waitUntil(lambda: (tmp_path / "out.json").exists() and window._busy is None)
    doc = json.loads((tmp_path / "out.json").read_text())
    assert doc["credentials"]["access_token"].startswith("keyring:wa-console/")

    doc["account"].update(waba_id="12", graph_api_version="23")
    (tmp_path / "broken.json").write_text(json.dumps(doc))
    window.prompts.path = str(tmp_path / "broken.json")
    with qtbot.waitSignal(window.failed, timeout=10000) as blocker:
        window.ui.actionImport.trigger()
    assert blocker.args[0].count("•") == 3  # name taken, WABA ID, version: all at once

    doc["account"].update(waba_id="100000000000001", graph_api_version="v23.0",
                          account_name="Imported")
    (tmp_path / "good.json").write_text(json.dumps(doc))
    window.prompts.path = str(tmp_path / "good.json")
    with qtbot.waitSignal(window.record_loaded, timeout=10000):
        window.ui.actionImport.trigger()
    assert window.record.name == "Imported"


def test_every_field_has_exactly_one_widget(qtbot, open_window) -> None:
    """The binder made one widget per schema field, named by its key, in declaration order."""
    window = open_window()
    for spec in CHANNEL_FIELDS:
        found = window.ui.formHost.findChildren(
            SecretField if spec.kind is Kind.SECRET else type(window.binder.widgets[spec.key]),
            spec.key)
        assert len(found) == 1, spec.key
        assert found[0].toolTip().endswith(spec.help)


def test_tab_order_follows_the_form(qtbot, open_window) -> None:
    """Tab from the account name walks the fields in the order of the form."""
    window = open_window()
    qtbot.mouseClick(window.ui.addButton, Qt.MouseButton.LeftButton)
    field(window, "account_name").setFocus()
    order = []
    for _ in range(9):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        order.append(QApplication.focusWidget().objectName())
    assert order == ["waba_id", "phone_number_id", "display_phone_number", "app_id",
                     "app_secret__entry", "app_secret__source", "access_token__entry",
                     "access_token__source", "webhook_callback_url"]


def test_secret_reveal_toggle_and_masking(qtbot, open_window) -> None:
    """Typed secrets are dots until revealed; Clear marks the secret to be forgotten."""
    window = open_window()
    qtbot.mouseClick(window.ui.createSandboxButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.record is not None and window._busy is None)
    secret = field(window, "access_token")
    assert secret.entry.echoMode() == QLineEdit.EchoMode.Password
    secret.reveal.trigger()
    assert secret.entry.echoMode() == QLineEdit.EchoMode.Normal
    secret.reveal.trigger()
    assert secret.entry.echoMode() == QLineEdit.EchoMode.Password
    qtbot.mouseClick(secret.clear_button, Qt.MouseButton.LeftButton)
    assert secret.edit().action == "clear" and window.isWindowModified()
    press_save(qtbot, window)
    assert "Access token is required" in message(window, "access_token").text()


def test_existing_accounts_show_before_the_store_opens(qtbot, sqlite_url, open_db) -> None:
    """On an existing SQLite database the list comes from the snapshot, then the store loads
    the first account; nothing is lost in between."""
    from wa_console.core.credentials import SecretEdit
    from wa_console.gui.app import create_application
    from wa_console.gui.main_window import MainWindow
    from wa_console.store.accounts import AccountStore
    from wa_console.store.secrets import SecretStore

    store = AccountStore(open_db(sqlite_url), SecretStore())
    store.create({**TYPED, "sandbox": False}, {"access_token": SecretEdit("env", "WA_TOKEN")})
    create_application()
    window = MainWindow(sqlite_url)
    qtbot.addWidget(window)
    seen: list[bool] = []
    window.accounts_loaded.connect(lambda _: seen.append(window.store is None))
    with qtbot.waitSignal(window.store_opened, timeout=15000):
        window.show()
    qtbot.waitUntil(lambda: window.record is not None, timeout=10000)
    assert seen == [True, False]  # first from the snapshot, then from the store
    assert field(window, "waba_id").text() == TYPED["waba_id"]
    window.store.engine.dispose()


def test_unusable_database_is_explained_not_crashed(qtbot, tmp_path) -> None:
    """A database URL that cannot be opened gives a readable message and a usable window."""
    from tests.support.gui import ScriptedPrompts
    from wa_console.gui.app import create_application
    from wa_console.gui.main_window import MainWindow

    create_application()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    window = MainWindow(f"sqlite:///{blocker}/db.sqlite")
    window.prompts = ScriptedPrompts(window)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.failed, timeout=15000) as failure:
        window.show()
    assert "a-file could not be created (File exists)" in failure.args[0]
    assert "--db or WA_CONSOLE_DB_URL" in failure.args[0]
    assert "Traceback" not in failure.args[0]
    assert window.ui.banner.isVisible()
    assert not window.ui.addButton.isEnabled()  # nothing to save into


def test_window_geometry_is_remembered(qtbot, open_window) -> None:
    """The size chosen in one session is the size of the next window (QSettings)."""
    window = open_window()
    window.resize(701, 555)  # within the offscreen screen (800x800), which clamps restores
    window.close()
    again = open_window()
    assert (again.width(), again.height()) == (701, 555)
