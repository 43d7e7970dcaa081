"""The exact Graph payloads of a template draft: the create-template request and the template send.

This is the ONE builder: the studio's payload pane shows what it returns and the test send posts
the same thing through `GraphClient.send_template` (meta-api.md §b, §d). Pure: no I/O, no Qt.

Values for a send are looked up by parameter key (the draft's ordered `header_keys` /
`body_keys`); positional drafts also accept the placeholder index as text (`"1"`), as
`TemplateDraft.samples` does. Two kinds of value have no key of their own in the draft and use
fixed names: a URL button's variable (`url_key(i)`, default sample `Button.url_sample`) and a
media header's link or media ID (`HEADER_MEDIA_KEY`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from wa_console.core.templates.model import (
    ButtonType,
    HeaderFormat,
    ParameterFormat,
    TemplateDraft,
)
from wa_console.core.templates.placeholders import placeholder_keys, scan

__all__ = [
    "HEADER_MEDIA_KEY",
    "PayloadError",
    "create_request",
    "has_variable",
    "send_components",
    "send_request",
    "substitute_url",
    "url_key",
]

HEADER_MEDIA_KEY = "header_media"
MEDIA_TYPES = {HeaderFormat.IMAGE: "image", HeaderFormat.VIDEO: "video",
               HeaderFormat.DOCUMENT: "document"}


class PayloadError(ValueError):
    """A send payload cannot be built (a value is missing, or the header kind is unsupported)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def url_key(index: int) -> str:
    """The value key of the variable of the URL button at `index` (0-based, all buttons)."""
    return f"button_{index}_url"


def has_variable(text: str) -> bool:
    """True when `text` holds a valid placeholder (placeholders.scan decides what counts)."""
    return bool(scan(text).valid())


def substitute_url(url: str, value: str) -> str:
    """`url` with its valid placeholders replaced by `value` (a URL button's example)."""
    out, pos = [], 0
    for p in scan(url).valid():
        out.append(url[pos:p.start])
        out.append(value)
        pos = p.end
    out.append(url[pos:])
    return "".join(out)


def _sample(draft: TemplateDraft, keys: Sequence[str], index: int) -> str:
    """The sample of positional placeholder `index` (1-based): by its key, else by the index."""
    samples = draft.samples
    if index <= len(keys) and keys[index - 1] in samples:
        return samples[keys[index - 1]]
    return samples.get(str(index), "")


# --- POST /{WABA-ID}/message_templates ----------------------------------------------------------

def _text_example(draft: TemplateDraft, text: str, keys: Sequence[str],
                  header: bool) -> dict[str, Any] | None:
    """The `example` block of a HEADER/BODY text (meta-api.md §d), None without variables.
    A missing sample is an empty string here (lint reports it; the pane still shows the shape)."""
    if draft.parameter_format is ParameterFormat.NAMED:
        names = placeholder_keys(text, ParameterFormat.NAMED)
        if not names:
            return None
        named = [{"param_name": n, "example": draft.samples.get(n, "")} for n in names]
        return {("header_text_named_params" if header else "body_text_named_params"): named}
    indexes = placeholder_keys(text, ParameterFormat.POSITIONAL)
    if not indexes:
        return None
    row = [_sample(draft, keys, int(i)) for i in indexes]
    return {"header_text": row} if header else {"body_text": [row]}


def _create_button(button: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": button.type.value, "text": button.text}
    if button.type is ButtonType.URL:
        out["url"] = button.url
        if has_variable(button.url):
            out["example"] = [substitute_url(button.url, button.url_sample)]
    elif button.type is ButtonType.PHONE_NUMBER:
        out["phone_number"] = button.phone_number
    return out


def create_request(draft: TemplateDraft) -> dict[str, Any]:
    """The body of `POST /{WABA-ID}/message_templates` for this draft, `example` blocks included."""
    components: list[dict[str, Any]] = []
    fmt = draft.header_format
    if fmt is HeaderFormat.TEXT:
        header: dict[str, Any] = {"type": "HEADER", "format": "TEXT", "text": draft.header_text}
        example = _text_example(draft, draft.header_text, draft.header_keys, header=True)
        if example:
            header["example"] = example
        components.append(header)
    elif fmt is not HeaderFormat.NONE:
        header = {"type": "HEADER", "format": fmt.value}
        if draft.header_handle:
            header["example"] = {"header_handle": [draft.header_handle]}
        components.append(header)
    body: dict[str, Any] = {"type": "BODY", "text": draft.body}
    example = _text_example(draft, draft.body, draft.body_keys, header=False)
    if example:
        body["example"] = example
    components.append(body)
    if draft.footer:
        components.append({"type": "FOOTER", "text": draft.footer})
    if draft.buttons:
        components.append({"type": "BUTTONS",
                           "buttons": [_create_button(b) for b in draft.buttons]})
    return {"name": draft.name, "language": draft.language, "category": draft.category.value,
            "parameter_format": draft.parameter_format.value, "components": components}


# --- POST /{Phone-Number-ID}/messages (template send) ------------------------------------------

def _value(source: Mapping[str, str], key: str, index: int | None, where: str) -> str:
    value = source.get(key)
    if not value and index is not None:
        value = source.get(str(index))
    if not value:
        raise PayloadError(f"No value for the {where} parameter {key!r}: fill its sample (or "
                           "pass a value) before sending.", key)
    return value


def _text_parameters(source: Mapping[str, str], keys: Sequence[str], named: bool,
                     where: str) -> list[dict[str, str]]:
    params = []
    for i, key in enumerate(keys, start=1):
        param = {"type": "text", "text": _value(source, key, None if named else i, where)}
        if named:
            param["parameter_name"] = key
        params.append(param)
    return params


def _media_parameter(draft: TemplateDraft, source: Mapping[str, str]) -> dict[str, Any]:
    kind = MEDIA_TYPES.get(draft.header_format)
    if kind is None:
        raise PayloadError(f"A {draft.header_format.value} header cannot be sent from the "
                           "studio yet; use a TEXT, IMAGE, VIDEO or DOCUMENT header.")
    ref = _value(source, HEADER_MEDIA_KEY, None, "header media")
    media = {"link": ref} if ref.startswith(("https://", "http://")) else {"id": ref}
    return {"type": kind, kind: media}


def send_components(draft: TemplateDraft,
                    values: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """`template.components` of a send: header, body (in key order) and URL-button parameters.

    `values` default to the draft's samples (URL variables then default to `url_sample`).
    Components without parameters are left out. Raises PayloadError naming a missing key.
    """
    source: Mapping[str, str] = draft.samples if values is None else values
    named = draft.parameter_format is ParameterFormat.NAMED
    components: list[dict[str, Any]] = []
    if draft.header_format is HeaderFormat.TEXT:
        if draft.header_keys:
            components.append({"type": "header", "parameters": _text_parameters(
                source, draft.header_keys, named, "header")})
    elif draft.header_format is not HeaderFormat.NONE:
        components.append({"type": "header",
                           "parameters": [_media_parameter(draft, source)]})
    if draft.body_keys:
        components.append({"type": "body", "parameters": _text_parameters(
            source, draft.body_keys, named, "body")})
    for index, button in enumerate(draft.buttons):
        if button.type is not ButtonType.URL or not has_variable(button.url):
            continue
        key = url_key(index)
        text = source.get(key) or (button.url_sample if values is None else "")
        if not text:
            raise PayloadError(f"No value for the variable of URL button {index} "
                               f"({button.text!r}, key {key!r}).", key)
        components.append({"type": "button", "sub_type": "url", "index": str(index),
                           "parameters": [{"type": "text", "text": text}]})
    return components


def send_request(draft: TemplateDraft, to: str,
                 values: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The whole `POST /messages` body, exactly as `GraphClient.send_template` sends it."""
    template: dict[str, Any] = {"name": draft.name,
                                "language": {"code": draft.language, "policy": "deterministic"}}
    components = send_components(draft, values)
    if components:
        template["components"] = components
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "template", "template": template}
