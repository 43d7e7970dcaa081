"""The message-template draft: the platform's template fields plus what Meta's components need.

Platform fields (design.md): name, external template ID, language code, category, event key,
sender account, provider account, header parameter keys, body parameter keys (both ordered),
body template, description. Meta's components add: header (none / text / media format), footer,
buttons, the parameter format (positional `{{1}}` or named `{{first_name}}`) and a sample value
per parameter.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class ParameterFormat(enum.Enum):
    POSITIONAL = "POSITIONAL"  # {{1}}, {{2}}, ...
    NAMED = "NAMED"  # {{first_name}}


class Category(enum.Enum):
    MARKETING = "MARKETING"
    UTILITY = "UTILITY"
    AUTHENTICATION = "AUTHENTICATION"


class HeaderFormat(enum.Enum):
    NONE = "NONE"
    TEXT = "TEXT"
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"
    DOCUMENT = "DOCUMENT"
    LOCATION = "LOCATION"


class ButtonType(enum.Enum):
    QUICK_REPLY = "QUICK_REPLY"
    URL = "URL"  # the URL may end in one variable, e.g. https://example.org/orders/{{1}}
    PHONE_NUMBER = "PHONE_NUMBER"


@dataclass(frozen=True)
class Button:
    type: ButtonType
    text: str
    url: str = ""  # URL buttons
    phone_number: str = ""  # PHONE_NUMBER buttons, E.164
    url_sample: str = ""  # the sample for a URL button's variable


@dataclass(frozen=True)
class TemplateDraft:
    """One template in one language, as the admin drafts it.

    `header_keys` / `body_keys` are the platform's ordered parameter keys: positional drafts list
    one key per placeholder index ({{1}} ↔ keys[0]); named drafts list the placeholder names in
    order of first appearance. `samples` maps a key (or, for positional drafts, also the index
    as text) to its sample value.
    """

    name: str
    language: str
    category: Category
    body: str
    parameter_format: ParameterFormat = ParameterFormat.POSITIONAL
    header_format: HeaderFormat = HeaderFormat.NONE
    header_text: str = ""
    header_handle: str = ""  # media headers: the upload handle used as example
    footer: str = ""
    buttons: tuple[Button, ...] = ()
    header_keys: tuple[str, ...] = ()
    body_keys: tuple[str, ...] = ()
    samples: dict[str, str] = field(default_factory=dict)
    event_key: str = ""  # the platform event that uses it, e.g. attendance.absent
    sender_account: str = ""  # names a sender: its label, display number or phone number ID
    provider_account: str = ""  # the channel account (by name) that submits and sends it
    description: str = ""
    external_id: str = ""  # Meta's template ID once submitted/synced
