"""Lint of a template draft against Meta's template rules (meta-api.md §d, issue 6 §2).

`lint(draft)` returns every finding at once, sorted by field then position. A finding has a
stable `code` (tests, GUI and docs key on it; never reword a code), a severity (ERROR blocks
submit: Meta would reject the template or a send would fail; WARNING is shown but does not block,
used where Meta's rule is unconfirmed or is a review risk rather than a hard rule), the field and
the span in that field's text (for click-to-jump), a message, a fix, and optionally a
`quick_fix` id the editor can apply in one click.

Pure and fast: one placeholder scan per text field (placeholders.scan) and a handful of
precompiled regexes; it runs on every keystroke.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Final

import phonenumbers

from wa_console.core.templates.languages import is_language_code, suggest_language_code
from wa_console.core.templates.model import (
    ButtonType,
    Category,
    HeaderFormat,
    ParameterFormat,
    TemplateDraft,
)
from wa_console.core.templates.placeholders import (
    Placeholder,
    PlaceholderKind,
    ProblemKind,
    Scan,
    placeholder_keys,
    scan,
)
from wa_console.core.validation import Severity

ERROR = Severity.ERROR
WARNING = Severity.WARNING

# Limits (meta-api.md §d, [docs]).
NAME_MAX: Final = 512
BODY_MAX: Final = 1024
HEADER_TEXT_MAX: Final = 60
HEADER_VARIABLES_MAX: Final = 1
FOOTER_MAX: Final = 60
BUTTONS_MAX: Final = 10
URL_BUTTONS_MAX: Final = 2
PHONE_BUTTONS_MAX: Final = 1
BUTTON_TEXT_MAX: Final = 25
# Meta rejects templates with "too many variables for the text length" but does not publish the
# ratio [unconfirmed]. Our choice: at least 2 words of fixed text per variable (words = runs of
# letters/digits outside the placeholders). "Hi {{1}}, code {{2}}" (2 words, 2 variables) is
# flagged; "Hello {{1}}, your order {{2}} ships today" (5 words, 2 variables) is not. A warning,
# since the real threshold may differ.
MIN_WORDS_PER_VARIABLE: Final = 2
# Send-time rule on parameter *values* [unconfirmed code 100/132018]: no newline/tab, ≤4 spaces.
_BAD_SAMPLE_WHITESPACE: Final = re.compile(r"[\n\t]| {5,}")

QUICK_FIX_TAKE_KEYS: Final = "take_keys_from_text"
QUICK_FIX_REPLACE: Final = "replace_span"  # replace the span with the suggestion named in `fix`
QUICK_FIX_SET_FORMAT: Final = "set_parameter_format"
QUICK_FIX_LANGUAGE: Final = "use_suggested_language"

# Field names, in display order (the sort order of findings).
FIELDS: Final[tuple[str, ...]] = (
    "name", "language", "category", "header", "body", "footer", "buttons",
    "header_keys", "body_keys", "samples", "event_key",
)
_FIELD_ORDER: Final = {f: i for i, f in enumerate(FIELDS)}

_NAME_BAD_CHAR: Final = re.compile(r"[^a-z0-9_]")
# The platform's event keys: lowercase words joined by dots, e.g. attendance.absent.
_EVENT_KEY: Final = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*")
_WORD: Final = re.compile(r"[^\W_]+")
_E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")
_URL_START: Final = re.compile(r"https?://[^\s/{}]+", re.IGNORECASE)

# Payment instructions in the body: bank details, "pay to", or an amount with transfer wording.
# WhatsApp must not carry untracked payment instructions when a payment link exists.
_IBAN: Final = re.compile(r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_PAYMENT: Final = re.compile(
    r"""
      \b(?:iban|swift|bic|sort\ code|routing\ (?:number|no)|bank\ details)\b
    | \b(?:bank\ )?(?:account|acct|a/c)\.?\ *(?:number|no\.?|num|\#)?\ *:?\ *
        [0-9](?:[\ -]?[0-9]){5,}
    | \bpay(?:ment)?s?\ +(?:it\ +)?(?:to|into)\b
    | \b(?:transfer|wire|deposit|send|remit)\w*\b[^.\n]{0,40}?
        (?:[$€£¥₹]\ ?[0-9][0-9.,]*|[0-9][0-9.,]*\ ?(?:usd|eur|gbp|inr|zar|ngn|kes)\b)
    | (?:[$€£¥₹]\ ?[0-9][0-9.,]*|[0-9][0-9.,]*\ ?(?:usd|eur|gbp|inr|zar|ngn|kes)\b)
        [^.\n]{0,40}?\b(?:transfer|wire|deposit|bank)
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Every _PAYMENT alternative contains one of these words: a cheap substring gate that skips the
# regex (the slowest part of the lint) for the usual body that mentions none of them.
_PAYMENT_WORDS: Final = (
    "iban", "swift", "bic", "sort code", "routing", "bank", "account", "acct", "a/c", "pay",
    "transfer", "wire", "deposit", "send", "remit",
)


@dataclass(frozen=True)
class Finding:
    """One problem found in a draft.

    Attributes:
        code: stable identifier, e.g. "body.starts_with_variable".
        severity: ERROR blocks submit; WARNING does not.
        field: one of FIELDS.
        span: (start, end) in that field's text, or None when the finding is not about a place.
        message: what is wrong, for the admin.
        fix: what to do about it.
        quick_fix: id of a one-click fix the editor offers, or None.
        index: for field "buttons", which button (0-based); otherwise None.
    """

    code: str
    severity: Severity
    field: str
    span: tuple[int, int] | None
    message: str
    fix: str
    quick_fix: str | None = None
    index: int | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def blocks_submit(findings: Sequence[Finding]) -> bool:
    """Whether any finding is an error."""
    return any(f.is_error for f in findings)


# --- per-field rules ---------------------------------------------------------------------------

def _name(draft: TemplateDraft, out: list[Finding]) -> None:
    name = draft.name
    if not name:
        out.append(Finding("name.empty", ERROR, "name", None, "The template has no name.",
                           "Enter a name such as attendance_absent_notice."))
        return
    bad = _NAME_BAD_CHAR.search(name)
    if bad:
        suggestion = re.sub(r"_+", "_", _NAME_BAD_CHAR.sub("_", name.lower())).strip("_")
        out.append(Finding(
            "name.format", ERROR, "name", bad.span(),
            f"'{bad.group()}' is not allowed: names use lowercase letters, digits and "
            "underscores only.",
            f"Rename it, e.g. {suggestion or 'attendance_notice'}.", QUICK_FIX_REPLACE,
        ))
    if len(name) > NAME_MAX:
        out.append(Finding("name.too_long", ERROR, "name", (NAME_MAX, len(name)),
                           f"The name is {len(name)} characters; Meta allows {NAME_MAX}.",
                           "Shorten the name."))


def _language(draft: TemplateDraft, out: list[Finding]) -> None:
    code = draft.language
    if is_language_code(code):
        return
    suggestion = suggest_language_code(code)
    if suggestion:
        out.append(Finding(
            "language.unknown", ERROR, "language", (0, len(code)),
            f"'{code}' is not written the way Meta lists it.",
            f"Use {suggestion}; sends must use the exact approved code.", QUICK_FIX_LANGUAGE,
        ))
    else:
        out.append(Finding(
            "language.unknown", ERROR, "language", (0, len(code)) if code else None,
            f"'{code}' is not one of Meta's template language codes." if code
            else "No language is set.",
            "Choose a code from the list, e.g. en_US, en_GB, pt_BR, es_MX.",
        ))


def _category(draft: TemplateDraft, out: list[Finding]) -> None:
    if not isinstance(draft.category, Category):
        out.append(Finding(
            "category.invalid", ERROR, "category", None,
            f"'{draft.category}' is not a template category (old names such as TRANSACTIONAL "
            "and OTP are gone).",
            "Choose MARKETING, UTILITY or AUTHENTICATION.",
        ))
    elif draft.category is Category.AUTHENTICATION:
        # Authentication templates use Meta's preset text plus a copy-code/one-tap button, which
        # this editor does not build; a free-text body is rejected at review [docs].
        out.append(Finding(
            "category.authentication_preset", WARNING, "category", None,
            "Authentication templates use Meta's fixed text and a copy-code button; a custom "
            "body is rejected.",
            "Use UTILITY for notices, or create the authentication template in WhatsApp Manager.",
        ))


_SYNTAX_TEXT: Final[dict[ProblemKind, tuple[str, str]]] = {
    ProblemKind.UNBALANCED_OPEN: ("'{{' is never closed.", "Close it with '}}' or remove it."),
    ProblemKind.UNBALANCED_CLOSE: ("'}}' has no opening '{{'.", "Add '{{' before it or remove it."),
    ProblemKind.SINGLE_BRACES: ("A variable needs double braces.", "Write it as"),
    ProblemKind.TRIPLE_BRACES: ("A variable takes exactly two braces on each side.",
                                "Write it as"),
    ProblemKind.SPACES: ("Spaces are not allowed inside a variable.", "Write it as"),
    ProblemKind.EMPTY: ("An empty variable '{{}}'.",
                        "Put a number or a name inside, or remove it."),
    ProblemKind.NOT_INTEGER: ("Positional variables are whole numbers.",
                              "Use {{1}}, {{2}}, … in order."),
    ProblemKind.LEADING_ZERO: ("Positional variables have no leading zero.", "Write it as"),
    ProblemKind.BAD_NAME: ("Variable names use lowercase letters, digits and underscores only, "
                           "starting with a letter.", "Write it as"),
}


def _syntax(field: str, s: Scan, out: list[Finding]) -> None:
    for p in s.problems:
        message, fix = _SYNTAX_TEXT[p.kind]
        if fix == "Write it as":
            fix = f"Write it as {p.suggestion}." if p.suggestion else "Use {{1}} or {{first_name}}."
        out.append(Finding(
            f"placeholder.{p.kind.value}", ERROR, field, (p.start, p.end),
            f"{message} Found '{p.raw}'.", fix,
            QUICK_FIX_REPLACE if p.suggestion else None,
        ))


def _span(p: Placeholder) -> tuple[int, int]:
    return (p.start, p.end)


_FORMAT_OF: Final = {PlaceholderKind.POSITIONAL: ParameterFormat.POSITIONAL,
                     PlaceholderKind.NAMED: ParameterFormat.NAMED}


def _format(field: str, valid: tuple[Placeholder, ...], fmt: ParameterFormat,
            out: list[Finding]) -> None:
    """Positional and named not mixed, and matching the draft's parameter format."""
    if not valid:
        return
    first = valid[0].kind
    other = next((p for p in valid if p.kind is not first), None)
    if other is not None:
        out.append(Finding(
            "placeholder.mixed", ERROR, field, _span(other),
            f"'{other.raw}' mixes named and positional variables in one template.",
            "Use one style throughout: {{1}}, {{2}}… or {{first_name}}, {{date}}….",
        ))
        return
    wanted = PlaceholderKind.POSITIONAL if fmt is ParameterFormat.POSITIONAL \
        else PlaceholderKind.NAMED
    if first is not wanted:
        out.append(Finding(
            "placeholder.format_mismatch", ERROR, field, _span(valid[0]),
            f"The text uses {first.value} variables but the parameter format is "
            f"{fmt.value}.",
            f"Set the parameter format to {_FORMAT_OF[first].value} or rewrite the variables.",
            QUICK_FIX_SET_FORMAT,
        ))


def _numbering(field: str, valid: tuple[Placeholder, ...], out: list[Finding]) -> None:
    """Positional numbering: starts at 1, each new number is the next one, no repeats."""
    seen: set[int] = set()
    highest = 0
    for p in valid:
        if p.kind is not PlaceholderKind.POSITIONAL:
            continue
        n = int(p.key)
        if n == 0:
            out.append(Finding("placeholder.numbering_start", ERROR, field, _span(p),
                               "Numbering starts at {{1}}, not {{0}}.",
                               "Renumber the variables from {{1}}."))
            continue
        if n in seen:
            out.append(Finding(
                "placeholder.repeated", ERROR, field, _span(p),
                f"{p.raw} is used more than once; Meta wants each number once, in order.",
                f"Use {{{{{highest + 1}}}}} here (and give it the same sample) or reword.",
            ))
            continue
        if n > highest + 1:
            missing = ", ".join(f"{{{{{i}}}}}" for i in range(highest + 1, n) if i not in seen)
            if missing:
                out.append(Finding(
                    "placeholder.numbering_gap", ERROR, field, _span(p),
                    f"{p.raw} comes before {missing}; numbers must be sequential from {{{{1}}}}.",
                    f"Renumber so this is {{{{{highest + 1}}}}}.",
                ))
        elif n < highest:
            out.append(Finding(
                "placeholder.numbering_order", ERROR, field, _span(p),
                f"{p.raw} appears after {{{{{highest}}}}}; numbers must appear in order.",
                "Renumber so the variables read {{1}}, {{2}}, … from the start.",
            ))
        seen.add(n)
        highest = max(highest, n)


def _text_field(field: str, text: str, fmt: ParameterFormat,
                out: list[Finding]) -> tuple[Placeholder, ...]:
    """The placeholder rules shared by header, body and footer; returns the valid ones."""
    s = scan(text)
    _syntax(field, s, out)
    valid = s.valid()
    _format(field, valid, fmt, out)
    _numbering(field, valid, out)
    return valid


def _header(draft: TemplateDraft, out: list[Finding]) -> tuple[Placeholder, ...]:
    fmt = draft.header_format
    text = draft.header_text
    if fmt is HeaderFormat.TEXT:
        if not text.strip():
            out.append(Finding("header.empty", ERROR, "header", None,
                               "The header format is TEXT but the header is empty.",
                               "Write a header or set the header format to NONE."))
            return ()
        if len(text) > HEADER_TEXT_MAX:
            out.append(Finding("header.too_long", ERROR, "header", (HEADER_TEXT_MAX, len(text)),
                               f"The header is {len(text)} characters; Meta allows "
                               f"{HEADER_TEXT_MAX}.", "Shorten the header."))
        valid = _text_field("header", text, draft.parameter_format, out)
        for extra in valid[HEADER_VARIABLES_MAX:]:
            out.append(Finding("header.too_many_variables", ERROR, "header", _span(extra),
                               "A header takes at most one variable.",
                               "Move this variable to the body."))
        return valid
    if text:
        out.append(Finding("header.text_unused", WARNING, "header", None,
                           f"Header text is set but the header format is {fmt.value}; it will "
                           "not be sent.", "Clear the header text or set the format to TEXT."))
    if fmt in (HeaderFormat.IMAGE, HeaderFormat.VIDEO, HeaderFormat.DOCUMENT) \
            and not draft.header_handle:
        out.append(Finding("header.media_example_missing", ERROR, "header", None,
                           f"A {fmt.value} header needs an example upload handle.",
                           "Upload an example file (Resumable Upload API) and paste its handle."))
    return ()


def _body(draft: TemplateDraft, out: list[Finding]) -> tuple[Placeholder, ...]:
    body = draft.body
    if not body.strip():
        out.append(Finding("body.empty", ERROR, "body", None, "The body is empty.",
                           "Write the message text; the body is required."))
        return ()
    if len(body) > BODY_MAX:
        out.append(Finding("body.too_long", ERROR, "body", (BODY_MAX, len(body)),
                           f"The body is {len(body)} characters; Meta allows {BODY_MAX}.",
                           f"Shorten it by {len(body) - BODY_MAX} characters."))
    valid = _text_field("body", body, draft.parameter_format, out)
    if not valid:
        _payment(body, out)
        return valid
    lead = len(body) - len(body.lstrip())
    trail = len(body.rstrip())
    if valid[0].start == lead:
        out.append(Finding("body.starts_with_variable", ERROR, "body", _span(valid[0]),
                           "The body may not start with a variable.",
                           "Start with fixed text, e.g. 'Hello {{1}}' instead of '{{1}}'."))
    if valid[-1].end == trail:
        out.append(Finding("body.ends_with_variable", ERROR, "body", _span(valid[-1]),
                           "The body may not end with a variable.",
                           "End with fixed text, e.g. add a closing sentence or a full stop."))
    for a, b in pairwise(valid):
        if a.end == b.start:
            out.append(Finding("body.adjacent_variables", ERROR, "body", (a.start, b.end),
                               f"{a.raw}{b.raw}: two variables with no text between them.",
                               "Put words between the variables or merge them into one."))
        elif body[a.end:b.start].isspace():
            # Meta documents "no adjacent variables"; whether whitespace counts as text between
            # them is unconfirmed, so this one only warns.
            out.append(Finding("body.adjacent_variables_whitespace", WARNING, "body",
                               (a.start, b.end),
                               f"Only whitespace between {a.raw} and {b.raw}; Meta may treat "
                               "them as adjacent.",
                               "Put words between the variables or merge them into one."))
    words = len(_WORD.findall(body)) - len(valid)  # each valid placeholder is exactly one word
    if words < MIN_WORDS_PER_VARIABLE * len(valid):
        out.append(Finding(
            "body.too_many_variables", WARNING, "body", None,
            f"{len(valid)} variables for {words} words of fixed text; Meta rejects templates "
            "with too many variables for their length (exact ratio unpublished).",
            f"Add text or remove variables (this check wants ≥ {MIN_WORDS_PER_VARIABLE} words "
            "per variable).",
        ))
    _payment(body, out)
    return valid


def _payment(body: str, out: list[Finding]) -> None:
    m = _IBAN.search(body)
    lower = body.lower()
    if any(w in lower for w in _PAYMENT_WORDS):
        other = _PAYMENT.search(body)
        if other and (m is None or other.start() < m.start()):
            m = other
    if m:
        out.append(Finding(
            "body.payment_instructions", WARNING, "body", m.span(),
            f"'{m.group().strip()}' looks like payment instructions; WhatsApp must not carry "
            "untracked payment details when a payment link exists.",
            "Remove bank/account details and send a payment link instead: a variable such as "
            "{{payment_link}} or a URL button https://pay.example.org/{{1}}.",
        ))


def _footer(draft: TemplateDraft, out: list[Finding]) -> None:
    text = draft.footer
    if not text:
        return
    if len(text) > FOOTER_MAX:
        out.append(Finding("footer.too_long", ERROR, "footer", (FOOTER_MAX, len(text)),
                           f"The footer is {len(text)} characters; Meta allows {FOOTER_MAX}.",
                           "Shorten the footer."))
    s = scan(text)
    _syntax("footer", s, out)
    for p in s.valid():
        out.append(Finding("footer.variable", ERROR, "footer", _span(p),
                           "The footer may not contain variables.",
                           "Move the variable to the body or remove it."))


def _buttons(draft: TemplateDraft, out: list[Finding]) -> None:
    buttons = draft.buttons
    if len(buttons) > BUTTONS_MAX:
        out.append(Finding("buttons.too_many", ERROR, "buttons", None,
                           f"{len(buttons)} buttons; Meta allows {BUTTONS_MAX}.",
                           "Remove buttons."))
    urls = sum(b.type is ButtonType.URL for b in buttons)
    if urls > URL_BUTTONS_MAX:
        out.append(Finding("buttons.too_many_url", ERROR, "buttons", None,
                           f"{urls} URL buttons; Meta allows {URL_BUTTONS_MAX}.",
                           "Remove URL buttons."))
    phones = sum(b.type is ButtonType.PHONE_NUMBER for b in buttons)
    if phones > PHONE_BUTTONS_MAX:
        out.append(Finding("buttons.too_many_phone", ERROR, "buttons", None,
                           f"{phones} phone-number buttons; Meta allows {PHONE_BUTTONS_MAX}.",
                           "Keep one phone-number button."))
    for i, b in enumerate(buttons):
        label = f"Button {i + 1}"
        if not b.text.strip():
            out.append(Finding("buttons.text_empty", ERROR, "buttons", None,
                               f"{label} has no text.", "Give the button a label.", index=i))
        elif len(b.text) > BUTTON_TEXT_MAX:
            out.append(Finding("buttons.text_too_long", ERROR, "buttons",
                               (BUTTON_TEXT_MAX, len(b.text)),
                               f"{label}'s text is {len(b.text)} characters; Meta allows "
                               f"{BUTTON_TEXT_MAX}.", "Shorten the label.", index=i))
        if b.type is ButtonType.URL:
            _url_button(i, b.url, b.url_sample, out)
        elif b.type is ButtonType.PHONE_NUMBER:
            _phone_button(i, b.phone_number, out)


def _url_button(i: int, url: str, sample: str, out: list[Finding]) -> None:
    label = f"Button {i + 1}"
    if not _URL_START.match(url):
        out.append(Finding("buttons.url_invalid", ERROR, "buttons", None,
                           f"{label}'s URL must be an absolute https:// URL.",
                           "Enter the full URL, e.g. https://example.org/orders/{{1}}.", index=i))
        return
    s = scan(url)
    _syntax("buttons", s, out)
    valid = s.valid()
    if not valid:
        return
    if len(valid) > 1:
        out.append(Finding("buttons.url_too_many_variables", ERROR, "buttons",
                           _span(valid[1]), f"{label}'s URL has more than one variable.",
                           "Keep one variable, at the end of the URL.", index=i))
    var = valid[0]
    if var.end != len(url):
        out.append(Finding("buttons.url_variable_position", ERROR, "buttons", _span(var),
                           f"{label}'s URL variable must be at the very end of the URL.",
                           "Move the variable to the end, e.g. https://example.org/pay/{{1}}.",
                           index=i))
    if var.raw != "{{1}}":
        out.append(Finding("buttons.url_variable_name", ERROR, "buttons", _span(var),
                           f"{label}'s URL variable must be {{{{1}}}}, not {var.raw}.",
                           "Write the URL variable as {{1}}.", QUICK_FIX_REPLACE, index=i))
    if not sample.strip():
        out.append(Finding("samples.missing", ERROR, "samples", None,
                           f"{label}'s URL variable has no sample value.",
                           "Enter an example for the end of the URL, e.g. A-1001.", index=i))


def _phone_button(i: int, number: str, out: list[Finding]) -> None:
    ok = bool(_E164.fullmatch(number))
    if ok:
        try:
            ok = phonenumbers.is_possible_number(phonenumbers.parse(number, None))
        except phonenumbers.NumberParseException:
            ok = False
    if not ok:
        out.append(Finding("buttons.phone_format", ERROR, "buttons", None,
                           f"Button {i + 1}'s phone number '{number}' is not in E.164 form.",
                           "Write it as + country code and number, no spaces: +15550100199.",
                           index=i))


# --- keys and samples --------------------------------------------------------------------------

def _keys(field: str, where: str, text: str, keys: tuple[str, ...],
          fmt: ParameterFormat, out: list[Finding]) -> None:
    expected = placeholder_keys(text, fmt)
    if fmt is ParameterFormat.POSITIONAL:
        if len(keys) == len(expected):
            return
        message = (f"The {where} has {len(expected)} positional variable(s) but "
                   f"{len(keys)} parameter key(s); sends would fail.")
    else:
        if keys == expected:
            return
        message = (f"The {where} parameter keys {list(keys)} do not match the variables "
                   f"{list(expected)} in order; sends would fail.")
    out.append(Finding(f"keys.{where}_mismatch", ERROR, field, None, message,
                       f"Take the keys from the text: {list(expected)}.", QUICK_FIX_TAKE_KEYS))


def _samples(where: str, valid: tuple[Placeholder, ...], keys: tuple[str, ...],
             draft: TemplateDraft, out: list[Finding]) -> None:
    samples = draft.samples
    done: set[str] = set()
    for p in valid:
        if p.key in done:
            continue
        done.add(p.key)
        value: str | None = None
        if p.kind is PlaceholderKind.POSITIONAL:
            n = int(p.key)
            if 0 < n <= len(keys):
                value = samples.get(keys[n - 1])
            if value is None:
                value = samples.get(p.key)
        else:
            value = samples.get(p.key)
        if not value or not value.strip():
            out.append(Finding("samples.missing", ERROR, "samples", None,
                               f"{p.raw} in the {where} has no sample value.",
                               f"Enter an example value for {p.raw}; Meta requires one per "
                               "variable."))
        elif _BAD_SAMPLE_WHITESPACE.search(value):
            out.append(Finding("samples.whitespace", WARNING, "samples", None,
                               f"The sample for {p.raw} in the {where} has a newline, tab or "
                               "more than 4 spaces in a row; Meta refuses such values at send.",
                               "Use a single-line value."))


def _event_key(draft: TemplateDraft, out: list[Finding]) -> None:
    """The platform looks templates up by event key; a malformed one never matches an event."""
    key = draft.event_key
    if key and not _EVENT_KEY.fullmatch(key):
        suggestion = re.sub(r"[^a-z0-9_.]+", "_", key.strip().lower()).strip("._")
        out.append(Finding(
            "event_key.format", WARNING, "event_key", (0, len(key)),
            f"'{key}' is not an event key: keys are lowercase words joined by dots.",
            f"Use the platform's key, e.g. {suggestion or 'attendance.absent'}."))


def lint(draft: TemplateDraft) -> list[Finding]:
    """Every finding for `draft`, sorted by field (FIELDS order) then position.

    Args:
        draft: the template as drafted.

    Returns:
        All findings; an empty list means Meta's documented rules are met.
    """
    out: list[Finding] = []
    _name(draft, out)
    _language(draft, out)
    _category(draft, out)
    header_vars = _header(draft, out)
    body_vars = _body(draft, out)
    _footer(draft, out)
    _buttons(draft, out)
    fmt = draft.parameter_format
    header_text = draft.header_text if draft.header_format is HeaderFormat.TEXT else ""
    _keys("header_keys", "header", header_text, draft.header_keys, fmt, out)
    _keys("body_keys", "body", draft.body, draft.body_keys, fmt, out)
    _samples("header", header_vars, draft.header_keys, draft, out)
    _samples("body", body_vars, draft.body_keys, draft, out)
    _event_key(draft, out)
    # Placed findings in text order, then the ones about the field as a whole.
    out.sort(key=lambda f: (_FIELD_ORDER[f.field], f.span[0] if f.span else sys.maxsize))
    return out
