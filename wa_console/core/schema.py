"""The channel-account settings, each field declared once.

The same declarations drive validation (`core.validation`), storage (`store.models` columns are
named after the keys; secret fields are stored as credential references), the settings widgets
(`gui.binder`) and export/import (`core.transfer`). Nothing else lists the fields.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from wa_console.core.credentials import CredentialRef

# A field's value: text, a flag, a credential reference (secrets, as stored), or unset.
Value = str | bool | CredentialRef | None


class Kind(enum.Enum):
    """What kind of value a field holds; picks the base validator and the widget."""

    TEXT = "text"
    NUMERIC_ID = "numeric_id"  # Meta object IDs: digit strings, kept as strings (may exceed 2**53)
    PHONE = "phone"
    URL = "url"
    SECRET = "secret"
    CHOICE = "choice"
    BOOL = "bool"
    VERSION = "version"


@dataclass(frozen=True)
class FieldSpec:
    """One settings field.

    Attributes:
        key: Stable identifier: the storage column, the widget objectName and the export key.
        label: What the admin sees.
        kind: Value kind.
        required: An empty value blocks saving.
        help: Where to find the value in Meta's UI; shown as tooltip and help text.
        placeholder: Example shown in an empty input.
        default: Value for a new account.
        choices: (value, label) pairs for CHOICE fields.
        max_len: Longest accepted text.
        read_only: Shown, never edited by the admin (e.g. an ID Meta assigns).
    """

    key: str
    label: str
    kind: Kind
    required: bool = False
    help: str = ""
    placeholder: str = ""
    default: str | bool | None = None
    choices: tuple[tuple[str, str], ...] = ()
    max_len: int | None = None
    read_only: bool = False

    @property
    def secret(self) -> bool:
        return self.kind is Kind.SECRET

    @property
    def title(self) -> str:
        """The label without its keyboard mnemonic ("&Name" -> "Name"), for messages."""
        return self.label.replace("&&", "\0").replace("&", "").replace("\0", "&")


PROVIDER_META: Final = "meta_whatsapp"
DEFAULT_GRAPH_VERSION: Final = "v23.0"

CHANNEL_FIELDS: Final[tuple[FieldSpec, ...]] = (
    FieldSpec(
        "provider", "Provider", Kind.CHOICE, required=True, default=PROVIDER_META,
        choices=((PROVIDER_META, "Meta WhatsApp (Cloud API)"),),
        help="The messaging provider this channel account talks to.",
    ),
    FieldSpec(
        "account_name", "Account name", Kind.TEXT, required=True, max_len=80,
        placeholder="e.g. Main campus WhatsApp",
        help="Your own name for this channel account; shown in lists and reports.",
    ),
    FieldSpec(
        "waba_id", "WhatsApp Business Account ID", Kind.NUMERIC_ID, required=True,
        placeholder="e.g. 102290129340398",
        help="Meta Business Suite → Settings → Accounts → WhatsApp accounts, or App Dashboard → "
        "WhatsApp → API Setup (\"WhatsApp Business Account ID\").",
    ),
    FieldSpec(
        "phone_number_id", "Phone number ID", Kind.NUMERIC_ID, required=True,
        placeholder="e.g. 106540352242922",
        help="App Dashboard → WhatsApp → API Setup: the long numeric \"Phone number ID\" under the "
        "sender number (not the phone number itself).",
    ),
    FieldSpec(
        "display_phone_number", "Display phone number", Kind.PHONE, required=True,
        placeholder="e.g. +1 555 010 0199",
        help="The business phone number as customers see it, with the country code.",
    ),
    FieldSpec(
        "app_id", "App ID", Kind.NUMERIC_ID, required=True,
        placeholder="e.g. 1234567890123456",
        help="App Dashboard → top bar or App settings → Basic → App ID.",
    ),
    FieldSpec(
        "app_secret", "App secret", Kind.SECRET,
        help="App Dashboard → App settings → Basic → App secret (Show). 32 hexadecimal characters; "
        "signs webhooks and builds the app token used to check the access token.",
    ),
    FieldSpec(
        "access_token", "Access token", Kind.SECRET, required=True,
        help="A system-user token (Business settings → Users → System users → Generate token) with "
        "whatsapp_business_management and whatsapp_business_messaging. Temporary 24-hour tokens "
        "from API Setup expire.",
    ),
    FieldSpec(
        "webhook_callback_url", "Webhook callback URL", Kind.URL, max_len=2048,
        placeholder="https://platform.example.org/webhooks/whatsapp",
        help="Public HTTPS address of your platform's webhook receiver, as entered in App "
        "Dashboard → WhatsApp → Configuration → Callback URL.",
    ),
    FieldSpec(
        "webhook_verify_token", "Webhook verify token", Kind.SECRET,
        help="A string you choose and enter both here and in App Dashboard → WhatsApp → "
        "Configuration → Verify token. Not the access token and not the app secret.",
    ),
    FieldSpec(
        "graph_api_version", "Graph API version", Kind.VERSION, required=True,
        default=DEFAULT_GRAPH_VERSION, placeholder=DEFAULT_GRAPH_VERSION,
        help="The Graph API version used for every call, like v23.0.",
    ),
    FieldSpec(
        "sandbox", "Safe/fake provider mode (sandbox)", Kind.BOOL, default=False,
        help="Talk to the built-in Graph API emulator instead of Meta. Everything works, nothing "
        "counts as production readiness or proof.",
    ),
)

FIELDS_BY_KEY: Final[dict[str, FieldSpec]] = {spec.key: spec for spec in CHANNEL_FIELDS}
SECRET_FIELDS: Final[tuple[FieldSpec, ...]] = tuple(s for s in CHANNEL_FIELDS if s.secret)
PLAIN_FIELDS: Final[tuple[FieldSpec, ...]] = tuple(s for s in CHANNEL_FIELDS if not s.secret)


def default_values() -> dict[str, str | bool | None]:
    """Values of a new, empty channel account (secrets are unset)."""
    return {spec.key: spec.default for spec in PLAIN_FIELDS}
