"""The template editor with real widgets: typing, live lint, keys fix, samples, preview,
payloads, click-to-jump, submit, undo/redo and insert-variable."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication, QTextCursor
from PySide6.QtWidgets import QLineEdit, QTreeWidgetItem

from wa_console.core.templates.model import (
    ButtonType,
    Category,
    HeaderFormat,
    ParameterFormat,
    TemplateDraft,
)
from wa_console.gui.studio import TemplateEditor

CLEAN = TemplateDraft(
    name="order_update", language="en_US", category=Category.UTILITY,
    body="Hello {{1}}, your order {{2}} ships today.",
    body_keys=("first_name", "order"), samples={"first_name": "Ana", "order": "A-1001"},
)
EMPTY = TemplateDraft(name="order_update", language="en_US", category=Category.UTILITY, body="")


@pytest.fixture
def editor(qtbot) -> TemplateEditor:
    widget = TemplateEditor()
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def codes(editor: TemplateEditor) -> set[str]:
    return {f.code for f in editor.findings()}


def type_body(qtbot, editor: TemplateEditor, text: str) -> None:
    """Put the cursor at the end of the body and type `text` like an admin."""
    editor.body_edit.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(editor.body_edit, text)


def finding_item(editor: TemplateEditor, code: str) -> QTreeWidgetItem:
    tree = editor.lint_tree
    for i in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(i)
        if item.data(0, Qt.ItemDataRole.UserRole).code == code:
            return item
    raise AssertionError(f"no finding {code}")


def fill_sample(qtbot, editor: TemplateEditor, key: str, value: str) -> None:
    """Edit the sample cell of `key` through its item editor and commit with Enter."""
    table = editor.samples_table
    row = editor.sample_row(key)
    assert row >= 0, key
    table.setCurrentCell(row, 1)
    table.editItem(table.item(row, 1))
    line = table.viewport().findChild(QLineEdit)
    assert line is not None
    line.selectAll()
    qtbot.keyClicks(line, value)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def payloads(editor: TemplateEditor) -> tuple[dict[str, Any], str]:
    return json.loads(editor.create_json.toPlainText()), editor.send_json.toPlainText()


def test_typed_body_lint_appears_and_disappears(qtbot, editor: TemplateEditor) -> None:
    """Typing a body that starts with {{1}} shows the finding; typing text before it clears it."""
    editor.set_draft(EMPTY)
    assert "body.empty" in codes(editor)
    type_body(qtbot, editor, "{{1}} was absent today, please call the school.")
    qtbot.waitUntil(lambda: "body.starts_with_variable" in codes(editor))
    item = finding_item(editor, "body.starts_with_variable")
    assert item.text(0) == "✖ Error"  # the severity is written out, not only coloured
    assert "may not start with a variable" in item.text(2)
    assert "\nFix: Start with fixed text" in item.text(2)
    assert "body.empty" not in codes(editor)
    editor.body_edit.moveCursor(QTextCursor.MoveOperation.Start)
    qtbot.keyClicks(editor.body_edit, "Dear parent, ")
    qtbot.waitUntil(lambda: "body.starts_with_variable" not in codes(editor))
    assert editor.body_edit.toPlainText().startswith("Dear parent, {{1}} was absent")


def test_take_keys_from_text_fixes_keys_mismatch(qtbot, editor: TemplateEditor) -> None:
    """A keys mismatch enables "Take keys from the text", which writes the keys and clears it."""
    editor.set_draft(EMPTY)
    assert not editor.take_keys_button.isEnabled()
    type_body(qtbot, editor, "Hello {{1}}, your order {{2}} ships today.")
    qtbot.waitUntil(lambda: "keys.body_mismatch" in codes(editor))
    assert editor.take_keys_button.isEnabled()
    qtbot.mouseClick(editor.take_keys_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "keys.body_mismatch" not in codes(editor))
    assert editor.body_keys_edit.text() == "1, 2"
    assert editor.draft().body_keys == ("1", "2")
    assert not editor.take_keys_button.isEnabled()
    assert [editor.samples_table.item(r, 0).text() for r in range(2)] == ["1", "2"]


def test_take_keys_covers_the_header_too(qtbot, editor: TemplateEditor) -> None:
    """With a TEXT header, the keys fix writes the header keys as well as the body keys."""
    editor.set_draft(dataclasses.replace(
        CLEAN, parameter_format=ParameterFormat.NAMED, header_format=HeaderFormat.TEXT,
        header_text="Order {{order}}", body="Hello {{first_name}}, your order ships today.",
        body_keys=("order",), samples={}))
    assert {"keys.header_mismatch", "keys.body_mismatch"} <= codes(editor)
    qtbot.mouseClick(editor.take_keys_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not codes(editor) & {"keys.header_mismatch", "keys.body_mismatch"})
    assert (editor.draft().header_keys, editor.draft().body_keys) == (("order",),
                                                                      ("first_name",))
    assert [editor.samples_table.item(r, 0).text() for r in range(2)] == ["order", "first_name"]
    fill_sample(qtbot, editor, "order", "A-1001")
    qtbot.waitUntil(lambda: editor.current_preview().header_text == "Order A-1001")
    header = payloads(editor)[0]["components"][0]
    assert header["example"] == {"header_text_named_params": [
        {"param_name": "order", "example": "A-1001"}]}


def test_samples_change_preview_and_both_payloads(qtbot, editor: TemplateEditor) -> None:
    """Filling samples substitutes them in the bubble and both JSON documents."""
    editor.set_draft(dataclasses.replace(CLEAN, samples={}))
    create, send = payloads(editor)
    assert create["components"][0]["example"] == {"body_text": [["", ""]]}
    assert "No value for the body parameter 'first_name'" in send
    assert "samples.missing" in codes(editor)
    assert editor.samples_table.rowCount() == 2

    fill_sample(qtbot, editor, "first_name", "Ana")
    qtbot.waitUntil(lambda: "Ana" in editor.preview.toHtml())
    fill_sample(qtbot, editor, "order", "A-1001")
    qtbot.waitUntil(lambda: "samples.missing" not in codes(editor))

    html = editor.current_preview().body_html
    assert '<span class="var">Ana</span>' in html and "A-1001" in editor.preview.toPlainText()
    create, send = payloads(editor)
    assert create["name"] == "order_update" and create["category"] == "UTILITY"
    assert create["components"] == [{
        "type": "BODY", "text": "Hello {{1}}, your order {{2}} ships today.",
        "example": {"body_text": [["Ana", "A-1001"]]},
    }]
    sent = json.loads(send)
    assert sent["to"] == "<recipient>"
    assert sent["template"]["components"] == [{"type": "body", "parameters": [
        {"type": "text", "text": "Ana"}, {"type": "text", "text": "A-1001"}]}]
    assert editor.draft().samples == {"first_name": "Ana", "order": "A-1001"}


def test_url_button_reaches_preview_and_payloads(qtbot, editor: TemplateEditor) -> None:
    """An added URL button with a variable shows in the bubble and in both payloads."""
    editor.set_draft(CLEAN)
    qtbot.mouseClick(editor.add_buttons[ButtonType.URL], Qt.MouseButton.LeftButton)
    table = editor.buttons_table
    table.item(0, 1).setText("Track order")
    table.item(0, 2).setText("https://example.org/o/{{1}}")
    table.item(0, 3).setText("A-1001")
    qtbot.waitUntil(lambda: "Track order" in editor.preview.toPlainText())
    create, send = payloads(editor)
    assert create["components"][-1] == {"type": "BUTTONS", "buttons": [{
        "type": "URL", "text": "Track order", "url": "https://example.org/o/{{1}}",
        "example": ["https://example.org/o/A-1001"]}]}
    assert json.loads(send)["template"]["components"][-1] == {
        "type": "button", "sub_type": "url", "index": "0",
        "parameters": [{"type": "text", "text": "A-1001"}]}


def test_clicking_a_body_finding_selects_its_span(qtbot, editor: TemplateEditor) -> None:
    """Clicking a body finding moves the body cursor to its span and selects it."""
    editor.set_draft(dataclasses.replace(
        CLEAN, body="Hello {{1}}, your order {{ 2 }} ships today."))
    item = finding_item(editor, "placeholder.spaces")
    tree = editor.lint_tree
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton,
                     pos=tree.visualItemRect(item).center())
    cursor = editor.body_edit.textCursor()
    assert cursor.selectedText() == "{{ 2 }}"
    assert (cursor.selectionStart(), cursor.selectionEnd()) == (24, 31)


def test_submit_enabled_only_without_errors(qtbot, editor: TemplateEditor) -> None:
    """Submit is disabled while errors exist and emits the clean draft once they are fixed."""
    editor.set_draft(dataclasses.replace(CLEAN, body="Hello {{1}}, your order {{2}}"))
    assert "body.ends_with_variable" in codes(editor)
    assert not editor.submit_button.isEnabled()
    type_body(qtbot, editor, " ships today.")
    qtbot.waitUntil(editor.submit_button.isEnabled)
    assert editor.findings() == []
    with qtbot.waitSignal(editor.submit_requested) as blocker:
        qtbot.mouseClick(editor.submit_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [CLEAN]


def test_undo_and_redo_in_the_body(qtbot, editor: TemplateEditor) -> None:
    """Ctrl+Z undoes typing in the body and Ctrl+Y redoes it."""
    editor.set_draft(dataclasses.replace(CLEAN, body="Hello"))
    type_body(qtbot, editor, " world")
    assert editor.body_edit.toPlainText() == "Hello world"
    qtbot.keyClick(editor.body_edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert editor.body_edit.toPlainText() == "Hello"
    qtbot.keyClick(editor.body_edit, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert editor.body_edit.toPlainText() == "Hello world"
    qtbot.waitUntil(lambda: editor.draft().body == "Hello world"
                    and editor.preview.toPlainText().strip().startswith("Hello world"))


def test_insert_variable_inserts_the_next_index(qtbot, editor: TemplateEditor) -> None:
    """"Insert variable" puts the next positional {{n}} at the cursor as one undo step."""
    editor.set_draft(dataclasses.replace(CLEAN, body="Hello {{1}}, your order "))
    editor.body_edit.moveCursor(QTextCursor.MoveOperation.End)
    button = editor.insert_button  # click its main part, left of the menu arrow
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton,
                     pos=QPoint(button.width() // 3, button.height() // 2))
    assert editor.body_edit.toPlainText() == "Hello {{1}}, your order {{2}}"
    assert editor.body_edit.textCursor().position() == len("Hello {{1}}, your order {{2}}")
    editor.body_edit.undo()
    assert editor.body_edit.toPlainText() == "Hello {{1}}, your order "


def test_insert_named_variable_selects_the_name(qtbot, editor: TemplateEditor) -> None:
    """For named drafts the inserted {{variable_name}} has its name selected to type over."""
    editor.set_draft(dataclasses.replace(
        CLEAN, parameter_format=ParameterFormat.NAMED, body="Hello ", body_keys=()))
    editor.body_edit.moveCursor(QTextCursor.MoveOperation.End)
    editor.insert_variable()
    qtbot.keyClicks(editor.body_edit, "first_name")
    assert editor.body_edit.toPlainText() == "Hello {{first_name}}"


def test_highlighter_marks_valid_and_invalid_placeholders(editor: TemplateEditor) -> None:
    """Valid placeholders get the variable colour, broken ones a red wavy underline."""
    editor.set_draft(dataclasses.replace(CLEAN, body="Hi {{1}} and {{ 2 }} ok"))
    formats = editor.body_edit.document().firstBlock().layout().formats()
    by_start = {r.start: r for r in formats}
    assert by_start[3].length == 5
    assert by_start[3].format.foreground().color() == editor.highlighter.valid_format \
        .foreground().color()
    assert by_start[13].length == 7
    assert by_start[13].format.underlineStyle() == \
        editor.highlighter.invalid_format.underlineStyle()
    assert by_start[13].format.underlineColor().name() == "#c62828"


def test_draft_changed_is_debounced(qtbot, editor: TemplateEditor) -> None:
    """A burst of typing recomputes once and emits draft_changed once, after the pause."""
    editor.set_draft(CLEAN)
    seen: list[TemplateDraft] = []
    recomputed: list[bool] = []
    editor.draft_changed.connect(seen.append)
    editor.updated.connect(lambda: recomputed.append(True))
    type_body(qtbot, editor, " Thanks")
    assert seen == [] and recomputed == []  # typing itself never waits on lint/preview
    with qtbot.waitSignal(editor.draft_changed, timeout=2000):
        pass
    assert len(seen) == 1 and len(recomputed) == 1
    assert seen[0].body == CLEAN.body + " Thanks"


def test_copy_buttons_copy_the_payloads(qtbot, editor: TemplateEditor) -> None:
    """Each Copy button puts its pane's JSON on the clipboard."""
    editor.set_draft(CLEAN)
    qtbot.mouseClick(editor.copy_create_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == editor.create_json.toPlainText()
    qtbot.mouseClick(editor.copy_send_button, Qt.MouseButton.LeftButton)
    assert json.loads(QGuiApplication.clipboard().text())["type"] == "template"
