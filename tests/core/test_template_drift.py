"""Drift between a local draft and its approved version, and the keys/placeholders check."""

from __future__ import annotations

from dataclasses import replace

import pytest

from wa_console.core.templates.drift import drift, keys_match
from wa_console.core.templates.model import (
    Button,
    ButtonType,
    Category,
    HeaderFormat,
    ParameterFormat,
    TemplateDraft,
)

APPROVED = TemplateDraft(
    name="order_update", language="en_US", category=Category.UTILITY,
    body="Hi {{1}}, your order {{2}} shipped.", header_format=HeaderFormat.TEXT,
    header_text="Order {{1}}", footer="Thanks", header_keys=("order_id",),
    body_keys=("first_name", "order_id"),
    buttons=(Button(ButtonType.QUICK_REPLY, "Stop"),))


def test_identical_drafts_have_no_drift() -> None:
    assert drift(APPROVED, replace(APPROVED)) == []
    assert keys_match(APPROVED)


@pytest.mark.parametrize(("change", "fields"), [
    ({"body": "Hi {{1}}, your order {{2}} is late."}, {"body"}),
    ({"body": "Hi {{1}}, order {{2}} {{3}}."}, {"body", "placeholders"}),
    ({"header_text": "Parcel {{1}}"}, {"header_text"}),
    ({"header_format": HeaderFormat.IMAGE, "header_text": ""},
     {"header_format", "header_text", "placeholders"}),
    ({"footer": ""}, {"footer"}),
    ({"buttons": (Button(ButtonType.QUICK_REPLY, "Unsubscribe"),)}, {"buttons"}),
    ({"header_keys": ("ref",)}, {"header_keys"}),
    ({"body_keys": ("name", "order_id")}, {"body_keys"}),
    ({"category": Category.MARKETING}, {"category"}),
    ({"language": "de"}, {"language"}),
    ({"parameter_format": ParameterFormat.NAMED}, {"parameter_format"}),
])
def test_each_field_difference_is_reported(change, fields) -> None:
    diffs = drift(replace(APPROVED, **change), APPROVED)
    assert {d.field for d in diffs} == fields
    for d in diffs:
        assert d.local != d.approved and d.message


def test_body_difference_values_and_message() -> None:
    (diff,) = drift(replace(APPROVED, body="Hello {{1}}, order {{2}} shipped."), APPROVED)
    assert diff.approved == APPROVED.body and diff.local.startswith("Hello")
    assert diff.message.startswith("Body text:")


def test_positional_keys_must_cover_every_index() -> None:
    assert not keys_match(replace(APPROVED, body_keys=("first_name",)))
    assert not keys_match(replace(APPROVED, header_keys=()))
    # The approved text decides: a draft whose own body has 3 placeholders but 2 keys still
    # fits the approved 2-placeholder body.
    local = replace(APPROVED, body="{{1}} {{2}} {{3}}")
    assert not keys_match(local) and keys_match(local, APPROVED)


def test_named_keys_must_equal_the_names_in_order() -> None:
    named = TemplateDraft(name="n", language="en", category=Category.UTILITY,
                          parameter_format=ParameterFormat.NAMED,
                          body="Hi {{first_name}}, {{order_id}} and {{first_name}}",
                          body_keys=("first_name", "order_id"))
    assert keys_match(named)
    assert not keys_match(replace(named, body_keys=("order_id", "first_name")))
    assert not keys_match(replace(named, body_keys=("first_name",)))
    assert not keys_match(replace(named, header_keys=("x",)))
