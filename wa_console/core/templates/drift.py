"""Drift between a local draft and the approved version of the same template (pure).

`drift` lists what the local draft changes against the approved template; `keys_match` tells
whether a draft's header/body parameter keys fit the placeholders of a text (its own, or the
approved template's): a mismatch means sends would fail.
"""

from __future__ import annotations

from dataclasses import dataclass

from wa_console.core.templates.model import ParameterFormat, TemplateDraft
from wa_console.core.templates.placeholders import placeholder_keys, scan


@dataclass(frozen=True)
class Difference:
    """One field that differs: its label, the local and approved values, and a message."""

    field: str
    local: str
    approved: str
    message: str


def _buttons(draft: TemplateDraft) -> str:
    return "; ".join(
        f"{b.type.value}:{b.text}" + (f" {b.url}" if b.url else "")
        + (f" {b.phone_number}" if b.phone_number else "") for b in draft.buttons)


def _placeholders(draft: TemplateDraft) -> str:
    raws = [p.raw for text in (draft.header_text, draft.body)
            for p in scan(text).placeholders]
    return " ".join(raws)


_FIELDS = (
    ("body", "Body text", lambda d: d.body),
    ("header_format", "Header format", lambda d: d.header_format.value),
    ("header_text", "Header text", lambda d: d.header_text),
    ("footer", "Footer", lambda d: d.footer),
    ("buttons", "Buttons", _buttons),
    ("placeholders", "Placeholders", _placeholders),
    ("header_keys", "Header parameter keys", lambda d: ", ".join(d.header_keys)),
    ("body_keys", "Body parameter keys", lambda d: ", ".join(d.body_keys)),
    ("category", "Category", lambda d: d.category.value),
    ("language", "Language", lambda d: d.language),
    ("parameter_format", "Parameter format", lambda d: d.parameter_format.value),
)


def _short(value: str, limit: int = 60) -> str:
    value = value.replace("\n", " ")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def drift(draft: TemplateDraft, approved: TemplateDraft) -> list[Difference]:
    """The fields where `draft` differs from `approved`, in a fixed order (empty: no drift)."""
    out: list[Difference] = []
    for key, label, get in _FIELDS:
        local, theirs = get(draft), get(approved)
        if local != theirs:
            out.append(Difference(
                field=key, local=local, approved=theirs,
                message=f"{label}: {_short(theirs) or '(empty)'} → {_short(local) or '(empty)'}"))
    return out


def _fits(keys: tuple[str, ...], text: str, fmt: ParameterFormat) -> bool:
    expected = placeholder_keys(text, fmt)
    if fmt is ParameterFormat.POSITIONAL:
        # One key per index ({{1}} ↔ keys[0]); the key names themselves are the platform's.
        return len(keys) == len(expected)
    return tuple(keys) == expected


def keys_match(draft: TemplateDraft, approved: TemplateDraft | None = None) -> bool:
    """The draft's header/body keys fit the placeholders of the header/body text.

    The text is the approved template's when given (what Meta will render), else the draft's
    own; the parameter format is the draft's. Positional keys match by count (one per index up
    to the highest), named keys by name and order of first appearance.
    """
    source = approved or draft
    fmt = draft.parameter_format
    return (_fits(draft.header_keys, source.header_text, fmt)
            and _fits(draft.body_keys, source.body, fmt))
