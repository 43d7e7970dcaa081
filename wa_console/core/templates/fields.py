"""The message-template record's fields, declared once with the same `FieldSpec` as the
channel settings (core/schema.py).

The declarations give the template editor its labels (with keyboard mnemonics), tooltips,
placeholders and length limits, and the store its column mapping. The platform's record
fields (`RECORD_FIELDS`: external ID, event key, sender and provider account, description) are
plain text: the editor builds them with the generic `gui.binder.FormBinder`, and
`store.drafts` maps them to columns by key. The content fields need their own widgets (a body
editor with highlighting, a samples table, a buttons table) but still take label, help and
limits from here, so no second list of labels exists.
"""

from __future__ import annotations

from typing import Final

from wa_console.core.schema import FieldSpec, Kind
from wa_console.core.templates.model import Category, HeaderFormat, ParameterFormat

NAME = FieldSpec(
    "name", "&Name", Kind.TEXT, required=True, max_len=512,
    placeholder="e.g. attendance_absent_notice",
    help="Lowercase letters, digits and underscores; unique per language in the WABA.")
LANGUAGE = FieldSpec(
    "language", "&Language", Kind.TEXT, required=True, placeholder="e.g. en_US",
    help="One of Meta's template language codes (en_US, pt_BR, ...).")
CATEGORY = FieldSpec(
    "category", "&Category", Kind.CHOICE, required=True, default=Category.UTILITY.value,
    choices=tuple((c.value, c.value.title()) for c in Category),
    help="Utility: a transaction the customer expects; Marketing: anything promotional; "
    "Authentication: one-time codes. Meta re-categorises templates that do not fit.")
PARAMETER_FORMAT = FieldSpec(
    "parameter_format", "Parameter &format", Kind.CHOICE, required=True,
    default=ParameterFormat.POSITIONAL.value,
    choices=((ParameterFormat.POSITIONAL.value, "Positional {{1}}"),
             (ParameterFormat.NAMED.value, "Named {{first_name}}")),
    help="How placeholders are written; never mix the two in one template.")
HEADER_FORMAT = FieldSpec(
    "header_format", "&Header", Kind.CHOICE, default=HeaderFormat.NONE.value,
    choices=tuple((h.value, h.value.title()) for h in HeaderFormat),
    help="Optional header: text (at most 60 characters, one variable) or a media file.")
HEADER_TEXT = FieldSpec(
    "header_text", "Header te&xt", Kind.TEXT, max_len=60,
    help="At most 60 characters and one variable.")
HEADER_HANDLE = FieldSpec(
    "header_handle", "Header e&xample", Kind.TEXT,
    placeholder="media upload handle or https:// link",
    help="For media headers: the upload handle Meta reviews (create request) or a link used "
    "by the send.")
BODY = FieldSpec(
    "body", "&Body", Kind.TEXT, required=True, max_len=1024,
    help="The message text; placeholders like {{1}} or {{first_name}} are filled per send.")
FOOTER = FieldSpec(
    "footer", "F&ooter", Kind.TEXT, max_len=60,
    help="Optional, at most 60 characters, no variables.")
HEADER_KEYS = FieldSpec(
    "header_keys", "Header &keys", Kind.TEXT, placeholder="comma separated, in order",
    help="The platform's parameter keys for the header placeholders, in placeholder order.")
BODY_KEYS = FieldSpec(
    "body_keys", "Body k&eys", Kind.TEXT, placeholder="comma separated, in order",
    help="The platform's parameter keys for the body placeholders, in placeholder order "
    "(positional: one per index; named: the names in order of first appearance).")

EXTERNAL_ID = FieldSpec(
    "external_id", "External template &ID", Kind.TEXT, read_only=True,
    placeholder="set when submitted or synced",
    help="Meta's ID of this template; assigned when the template is submitted or synced.")
EVENT_KEY = FieldSpec(
    "event_key", "E&vent key", Kind.TEXT, max_len=120, placeholder="e.g. attendance.absent",
    help="The platform event that sends this template (lowercase, dot separated). Readiness "
    "requires an approved template for every event key in use.")
SENDER_ACCOUNT = FieldSpec(
    "sender_account", "Sen&der account", Kind.TEXT, max_len=80,
    placeholder="a sender's label, display number or phone number ID",
    help="The sender (Senders page) this template is sent from; a link to a missing or invalid "
    "sender is flagged.")
PROVIDER_ACCOUNT = FieldSpec(
    "provider_account", "&Provider account", Kind.TEXT, max_len=80,
    placeholder="the channel account's name",
    help="The channel account (provider) that submits and sends this template.")
DESCRIPTION = FieldSpec(
    "description", "Descrip&tion", Kind.TEXT, max_len=500,
    help="What the template is for, for the platform's admins (not sent to Meta).")

# The platform's record fields, in form order; all plain text, stored in columns of the same key
# (external_id is the row's meta_id and is never written from the form).
RECORD_FIELDS: Final[tuple[FieldSpec, ...]] = (
    EXTERNAL_ID, EVENT_KEY, SENDER_ACCOUNT, PROVIDER_ACCOUNT, DESCRIPTION)
STORED_RECORD_FIELDS: Final[tuple[FieldSpec, ...]] = tuple(
    spec for spec in RECORD_FIELDS if not spec.read_only)
TEMPLATE_FIELDS: Final[tuple[FieldSpec, ...]] = (
    NAME, LANGUAGE, CATEGORY, PARAMETER_FORMAT, HEADER_FORMAT, HEADER_TEXT, HEADER_HANDLE, BODY,
    FOOTER, HEADER_KEYS, BODY_KEYS, *RECORD_FIELDS)
TEMPLATE_FIELDS_BY_KEY: Final[dict[str, FieldSpec]] = {s.key: s for s in TEMPLATE_FIELDS}
