"""Table-driven tests of the template lint and the placeholder scanner.

Each lint row starts from one fully valid draft (`BASE`, positional, or `NAMED`), overrides a few
fields and asserts the complete list of findings as (code, severity, field, span): a row that
expects one finding therefore also proves nothing else was flagged.
"""

from __future__ import annotations

import statistics
import timeit
from dataclasses import replace
from typing import Any

import pytest

from wa_console.core.templates.lint import (
    QUICK_FIX_TAKE_KEYS,
    Finding,
    blocks_submit,
    lint,
)
from wa_console.core.templates.model import (
    Button,
    ButtonType,
    Category,
    HeaderFormat,
    ParameterFormat,
    TemplateDraft,
)
from wa_console.core.templates.placeholders import (
    PlaceholderKind,
    ProblemKind,
    placeholder_keys,
    scan,
)
from wa_console.core.validation import Severity

E = Severity.ERROR
W = Severity.WARNING
POS = ParameterFormat.POSITIONAL
NAMED_FMT = ParameterFormat.NAMED

QR = Button(ButtonType.QUICK_REPLY, "Acknowledge")
URL = Button(ButtonType.URL, "View record", url="https://school.example.org/absences/{{1}}",
             url_sample="A-1001")
PHONE = Button(ButtonType.PHONE_NUMBER, "Call office", phone_number="+15550100199")

BODY = ("Hello {{1}}, {{2}} was marked absent today. Please contact the school office if this "
        "is a mistake.")
BASE = TemplateDraft(
    name="attendance_absent",
    language="en_US",
    category=Category.UTILITY,
    body=BODY,
    header_format=HeaderFormat.TEXT,
    header_text="Attendance for {{1}}",
    footer="Reply STOP to opt out",
    buttons=(QR, URL, PHONE),
    header_keys=("student_name",),
    body_keys=("guardian_name", "student_name"),
    samples={"student_name": "Leo", "guardian_name": "Ana"},
)
NAMED = replace(
    BASE,
    parameter_format=NAMED_FMT,
    header_text="Attendance for {{student_name}}",
    body=BODY.replace("{{1}}", "{{guardian_name}}").replace("{{2}}", "{{student_name}}"),
)


def at(text: str, sub: str, nth: int = 0) -> tuple[int, int]:
    """The span of the nth occurrence of `sub` in `text`."""
    i = -1
    for _ in range(nth + 1):
        i = text.index(sub, i + 1)
    return (i, i + len(sub))


def body_row(id: str, body: str, expected: list[tuple[Any, ...]], **overrides: Any) -> Any:
    """A row that replaces the positional body; body_keys follow the text unless overridden."""
    keys = placeholder_keys(body, POS)
    fields = {"body": body, "body_keys": keys,
              "samples": {**BASE.samples, **{k: f"v{k}" for k in keys}}, **overrides}
    return pytest.param(BASE, fields, expected, id=id)


def row(id: str, expected: list[tuple[Any, ...]], base: TemplateDraft = BASE,
        **overrides: Any) -> Any:
    """One row: `overrides` applied to `base` must give exactly `expected`."""
    return pytest.param(base, overrides, expected, id=id)


LONG_NAME = "a" * 513
NAMED_UPPER = NAMED.body.replace("{{guardian_name}}", "{{Guardian}}")
PAY = "Please transfer $50 to account 12345678 by Friday, {{1}}. Thank you {{2}} for your help."

CASES = [
    # --- name ---
    row("name-empty", [("name.empty", E, "name", None)], name=""),
    row("event-key-spaces", [("event_key.format", W, "event_key", (0, 18))],
        event_key="Attendance absent!"),
    row("event-key-dotted-ok", [], event_key="attendance.absent"),
    row("event-key-trailing-dot", [("event_key.format", W, "event_key", (0, 11))],
        event_key="attendance."),
    row("name-uppercase", [("name.format", E, "name", (0, 1))], name="Attendance_absent"),
    row("name-space", [("name.format", E, "name", (10, 11))], name="attendance absent"),
    row("name-hyphen", [("name.format", E, "name", (10, 11))], name="attendance-absent"),
    row("name-too-long", [("name.too_long", E, "name", (512, 513))], name=LONG_NAME),
    row("name-512-ok", [], name="a" * 512),
    # --- language ---
    row("language-hyphen", [("language.unknown", E, "language", (0, 5))], language="en-US"),
    row("language-case", [("language.unknown", E, "language", (0, 5))], language="EN_us"),
    row("language-word", [("language.unknown", E, "language", (0, 7))], language="english"),
    row("language-empty", [("language.unknown", E, "language", None)], language=""),
    row("language-pt-br", [], language="pt_BR"),
    row("language-bare-en", [], language="en"),
    # --- category ---
    row("category-old-name", [("category.invalid", E, "category", None)],
        category="TRANSACTIONAL"),
    row("category-auth", [("category.authentication_preset", W, "category", None)],
        category=Category.AUTHENTICATION),
    row("category-marketing", [], category=Category.MARKETING),
    # --- placeholder syntax (body) ---
    body_row("syntax-spaces", "Hello {{ 1 }}, see you today at school.",
             [("placeholder.spaces", E, "body", (6, 13))]),
    body_row("syntax-decimal", "Hello {{1.5}}, see you today at school.",
             [("placeholder.not_integer", E, "body", (6, 13))]),
    body_row("syntax-bad-name", "Hello {{First-Name}}, see you today at school.",
             [("placeholder.bad_name", E, "body", (6, 20))]),
    body_row("syntax-single-braces", "Hello {name}, see you today at school.",
             [("placeholder.single_braces", E, "body", (6, 12))]),
    body_row("syntax-unclosed", "Hello {{1}, see you today at school.",
             [("placeholder.unbalanced_open", E, "body", (6, 8))]),
    body_row("syntax-unopened", "Hello 1}}, see you today at school.",
             [("placeholder.unbalanced_close", E, "body", (7, 9))]),
    body_row("syntax-triple", "Hello {{{1}}}, see you today at school.",
             [("placeholder.triple_braces", E, "body", (6, 13))]),
    body_row("syntax-empty", "Hello {{}}, see you today at school.",
             [("placeholder.empty", E, "body", (6, 10))]),
    body_row("syntax-leading-zero", "Hello {{01}}, see you today at school.",
             [("placeholder.leading_zero", E, "body", (6, 12))]),
    # --- positional numbering ---
    body_row("numbering-starts-at-2", "Hello {{2}}, see you today at school.",
             [("placeholder.numbering_gap", E, "body", (6, 11))]),
    body_row("numbering-zero", "Hello {{0}}, see you today at school.",
             [("placeholder.numbering_start", E, "body", (6, 11))], body_keys=(),
             samples={**BASE.samples, "0": "Ana"}),
    body_row("numbering-gap", "Hello {{1}}, your {{3}} is ready at the school office.",
             [("placeholder.numbering_gap", E, "body", (18, 23))]),
    body_row("numbering-out-of-order", "Hello {{2}}, your {{1}} is ready at the school office.",
             [("placeholder.numbering_gap", E, "body", (6, 11)),
              ("placeholder.numbering_order", E, "body", (18, 23))]),
    body_row("numbering-repeat", "Hello {{1}}, your {{2}} is ready, {{1}}, at the school office.",
             [("placeholder.repeated", E, "body", (34, 39))]),
    body_row("numbering-ten-ok",
             " ".join(f"item {{{{{i}}}}} is" for i in range(1, 11)) + " all here.",
             []),
    # --- format: mixed and mismatch ---
    body_row("mixed-formats", "Hello {{1}}, your {{order_id}} is ready at the school office.",
             [("placeholder.mixed", E, "body", (18, 30)),
              ("samples.missing", E, "samples", None)]),
    row("named-text-positional-format",
        [("header", "placeholder.format_mismatch"), ("body", "placeholder.format_mismatch"),
         ("header_keys", "keys.header_mismatch"), ("body_keys", "keys.body_mismatch")],
        base=NAMED, parameter_format=POS),
    row("positional-text-named-format",
        [("header", "placeholder.format_mismatch"), ("body", "placeholder.format_mismatch"),
         ("header_keys", "keys.header_mismatch"), ("body_keys", "keys.body_mismatch")],
        parameter_format=NAMED_FMT),
    row("named-valid", [], base=NAMED),
    row("named-uppercase", [("placeholder.bad_name", E, "body", at(NAMED_UPPER, "{{Guardian}}")),
                            ("keys.body_mismatch", E, "body_keys", None)],
        base=NAMED, body=NAMED_UPPER),
    # --- body length, start/end, adjacency, ratio ---
    row("body-empty", [("body.empty", E, "body", None),
                       ("keys.body_mismatch", E, "body_keys", None)],
        body="   "),
    row("body-too-long", [("body.too_long", E, "body", (1024, 1025))],
        body=BODY + "x" * (1025 - len(BODY))),
    row("body-1024-ok", [], body=BODY + "x" * (1024 - len(BODY))),
    body_row("body-starts-with-variable", "{{1}}, your child was absent from school today.",
             [("body.starts_with_variable", E, "body", (0, 5))]),
    body_row("body-starts-after-space", "  {{1}}, your child was absent from school today.",
             [("body.starts_with_variable", E, "body", (2, 7))]),
    body_row("body-ends-with-variable", "Your child was absent from school today, {{1}}",
             [("body.ends_with_variable", E, "body", (41, 46))]),
    body_row("body-ends-variable-then-newline", "Your child was absent from school today {{1}}\n",
             [("body.ends_with_variable", E, "body", (40, 45))]),
    body_row("body-ends-variable-full-stop-ok", "Your child was absent from school today, {{1}}.",
             []),
    body_row("body-adjacent", "Hello {{1}}{{2}}, your child was absent from school today.",
             [("body.adjacent_variables", E, "body", (6, 16))]),
    body_row("body-adjacent-whitespace", "Hello {{1}} {{2}}, your child was absent from school.",
             [("body.adjacent_variables_whitespace", W, "body", (6, 17))]),
    body_row("body-too-many-variables", "Hi {{1}}, code {{2}} {{3}}, ok {{4}}.",
             [("body.adjacent_variables_whitespace", W, "body", (15, 26)),
              ("body.too_many_variables", W, "body", None)]),
    body_row("body-ratio-ok", "Hello {{1}}, your order {{2}} ships today.", []),
    body_row("body-no-variables", "School is closed tomorrow because of the storm.", []),
    # --- payment instructions ---
    body_row("payment-transfer-amount", PAY,
             [("body.payment_instructions", W, "body", at(PAY, "transfer $50"))]),
    body_row("payment-iban", "Hello {{1}}, fees go to IBAN DE89 3704 0044 0532 0130 00 today.",
             [("body.payment_instructions", W, "body", (24, 28))]),
    body_row("payment-pay-to", "Hello {{1}}, please pay to the school office by Friday.",
             [("body.payment_instructions", W, "body", (20, 26))]),
    body_row("payment-account-number", "Hello {{1}}, use account number: 12345678 for fees.",
             [("body.payment_instructions", W, "body", (17, 41))]),
    body_row("payment-bare-iban", "Hello {{1}}, fees go to GB29 NWBK 6016 1331 9268 19 now.",
             [("body.payment_instructions", W, "body", (24, 51))]),
    body_row("payment-amount-then-bank", "Hello {{1}}, the 120 EUR fee is due by bank transfer.",
             [("body.payment_instructions", W, "body", (17, 43))]),
    body_row("payment-link-ok", "Hello {{1}}, pay the trip fee online with your link, {{2}}.",
             []),
    # --- header ---
    row("header-empty-text", [("header.empty", E, "header", None),
                              ("keys.header_mismatch", E, "header_keys", None)],
        header_text=""),
    row("header-too-long", [("header.too_long", E, "header", (60, 61))],
        header_text="Attendance for {{1}}" + "x" * 41),
    row("header-two-variables", [("header.too_many_variables", E, "header", (20, 25)),
                                 ("keys.header_mismatch", E, "header_keys", None),
                                 ("samples.missing", E, "samples", None)],
        header_text="Attendance {{1}} on {{2}}"),
    row("header-syntax", [("placeholder.spaces", E, "header", (15, 22)),
                          ("keys.header_mismatch", E, "header_keys", None)],
        header_text="Attendance for {{ 1 }}"),
    row("header-none-with-text", [("header.text_unused", W, "header", None),
                                  ("keys.header_mismatch", E, "header_keys", None)],
        header_format=HeaderFormat.NONE),
    row("header-none-ok", [], header_format=HeaderFormat.NONE, header_text="", header_keys=()),
    row("header-image-no-handle", [("header.media_example_missing", E, "header", None)],
        header_format=HeaderFormat.IMAGE, header_text="", header_keys=()),
    row("header-image-ok", [], header_format=HeaderFormat.IMAGE, header_text="",
        header_keys=(), header_handle="4::aW1hZ2U="),
    row("header-location-ok", [], header_format=HeaderFormat.LOCATION, header_text="",
        header_keys=()),
    # --- footer ---
    row("footer-too-long", [("footer.too_long", E, "footer", (60, 61))], footer="x" * 61),
    row("footer-variable", [("footer.variable", E, "footer", (9, 14))], footer="Reply to {{1}}"),
    row("footer-syntax", [("placeholder.single_braces", E, "footer", (9, 15))],
        footer="Reply to {name} now"),
    row("footer-empty-ok", [], footer=""),
    # --- buttons ---
    row("buttons-too-many", [("buttons.too_many", E, "buttons", None)],
        buttons=(QR,) * 9 + (URL, PHONE)),
    row("buttons-ten-ok", [], buttons=(QR,) * 8 + (URL, PHONE)),
    row("buttons-three-url", [("buttons.too_many_url", E, "buttons", None)],
        buttons=(URL, URL, URL)),
    row("buttons-two-phone", [("buttons.too_many_phone", E, "buttons", None)],
        buttons=(PHONE, PHONE)),
    row("button-text-too-long", [("buttons.text_too_long", E, "buttons", (25, 26))],
        buttons=(replace(QR, text="x" * 26),)),
    row("button-text-empty", [("buttons.text_empty", E, "buttons", None)],
        buttons=(replace(QR, text=" "),)),
    row("button-url-variable-middle", [("buttons.url_variable_position", E, "buttons", (27, 32))],
        buttons=(replace(URL, url="https://school.example.org/{{1}}/absences"),)),
    row("button-url-variable-named", [("buttons.url_variable_name", E, "buttons", (36, 44))],
        buttons=(replace(URL, url="https://school.example.org/absences/{{code}}"),)),
    row("button-url-two-variables",
        [("buttons.url_variable_position", E, "buttons", (27, 32)),
         ("buttons.url_too_many_variables", E, "buttons", (33, 38))],
        buttons=(replace(URL, url="https://school.example.org/{{1}}/{{2}}"),)),
    row("button-url-not-absolute", [("buttons.url_invalid", E, "buttons", None)],
        buttons=(replace(URL, url="school.example.org/{{1}}"),)),
    row("button-url-no-variable-ok", [],
        buttons=(replace(URL, url="https://school.example.org/absences", url_sample=""),)),
    row("button-url-sample-missing", [("samples.missing", E, "samples", None)],
        buttons=(replace(URL, url_sample=""),)),
    row("button-phone-not-e164", [("buttons.phone_format", E, "buttons", None)],
        buttons=(replace(PHONE, phone_number="555 010 0199"),)),
    row("button-phone-spaces", [("buttons.phone_format", E, "buttons", None)],
        buttons=(replace(PHONE, phone_number="+1 555 010 0199"),)),
    # --- keys ---
    row("body-keys-too-few", [("keys.body_mismatch", E, "body_keys", None)],
        body_keys=("guardian_name",), samples={**BASE.samples, "2": "Leo"}),
    row("body-keys-too-many", [("keys.body_mismatch", E, "body_keys", None)],
        body_keys=("a", "b", "c"), samples={**BASE.samples, "a": "Ana", "b": "Leo"}),
    row("header-keys-missing", [("keys.header_mismatch", E, "header_keys", None)],
        header_keys=(), samples={**BASE.samples, "1": "Leo"}),
    row("named-keys-wrong-order", [("keys.body_mismatch", E, "body_keys", None)],
        base=NAMED, body_keys=("student_name", "guardian_name")),
    row("named-keys-wrong-name", [("keys.body_mismatch", E, "body_keys", None)],
        base=NAMED, body_keys=("guardian", "student_name"),
        samples={**BASE.samples, "guardian": "Ana"}),
    # --- samples ---
    row("samples-missing-body", [("samples.missing", E, "samples", None)],
        samples={"student_name": "Leo"}),
    row("samples-missing-all", [("samples.missing", E, "samples", None)] * 3, samples={}),
    row("samples-by-index-ok", [], samples={"1": "Leo", "2": "Leo"}),
    row("samples-blank", [("samples.missing", E, "samples", None)],
        samples={**BASE.samples, "guardian_name": "  "}),
    row("samples-newline", [("samples.whitespace", W, "samples", None)],
        samples={**BASE.samples, "guardian_name": "Ana\nMaria"}),
    row("samples-named-missing", [("samples.missing", E, "samples", None)], base=NAMED,
        samples={"student_name": "Leo"}),
]


def _norm(f: Finding, like: tuple[Any, ...]) -> tuple[Any, ...]:
    """A finding in the shape of an expected row: (field, code) or (code, severity, field, span)."""
    if len(like) == 2:
        return (f.field, f.code)
    return (f.code, f.severity, f.field, f.span)


@pytest.mark.parametrize(("base", "overrides", "expected"), CASES)
def test_lint_table(base: TemplateDraft, overrides: dict[str, Any],
                    expected: list[tuple[Any, ...]]) -> None:
    """The valid base draft with these overrides gives exactly these findings."""
    findings = lint(replace(base, **overrides))
    like = expected[0] if expected else ("", "", "", "")
    assert [_norm(f, like) for f in findings] == expected


def test_lint_table_is_large() -> None:
    """The table has at least 60 rows."""
    assert len(CASES) >= 60


@pytest.mark.parametrize("draft", [BASE, NAMED], ids=["positional", "named"])
def test_valid_drafts_have_no_findings(draft: TemplateDraft) -> None:
    """A fully valid draft gives no findings and does not block submit."""
    assert lint(draft) == []
    assert not blocks_submit(lint(draft))


def test_keys_mismatch_offers_take_keys_fix() -> None:
    """A key mismatch offers the one-click fix and names the keys the text implies."""
    draft = replace(BASE, body_keys=("a", "b", "c"), samples={"1": "Leo", "2": "Ana"})
    (finding,) = lint(draft)
    assert finding.quick_fix == QUICK_FIX_TAKE_KEYS
    assert "['1', '2']" in finding.fix
    assert blocks_submit([finding])


def test_take_keys_fix_clears_named_mismatch() -> None:
    """Applying placeholder_keys to a mismatched named draft clears the finding."""
    draft = replace(NAMED, body_keys=("student_name",))
    fixed = replace(draft, body_keys=placeholder_keys(draft.body, NAMED_FMT))
    assert [f.code for f in lint(draft)] == ["keys.body_mismatch"]
    assert lint(fixed) == []


def test_button_findings_name_the_button() -> None:
    """Button findings carry the 0-based index of the button."""
    (finding,) = lint(replace(BASE, buttons=(QR, replace(PHONE, phone_number="12"))))
    assert finding.index == 1


def test_syntax_finding_suggests_replacement() -> None:
    """A fixable placeholder typo names its replacement in the fix."""
    draft = replace(BASE, body=BODY.replace("{{2}}", "{{ 2 }}"))
    codes = [(f.code, f.fix) for f in lint(draft) if f.field == "body"]
    assert codes == [("placeholder.spaces", "Write it as {{2}}.")]


# --- the placeholder scanner -------------------------------------------------------------------

SCAN_CASES = [
    ("positional", "Hi {{1}} and {{2}}",
     [("1", PlaceholderKind.POSITIONAL, 3, 8), ("2", PlaceholderKind.POSITIONAL, 13, 18)], []),
    ("named", "Hi {{first_name}}", [("first_name", PlaceholderKind.NAMED, 3, 17)], []),
    ("named-with-digits", "Hi {{line_2}}", [("line_2", PlaceholderKind.NAMED, 3, 13)], []),
    ("spaces", "{{ 1 }}", [(" 1 ", PlaceholderKind.INVALID, 0, 7)],
     [(ProblemKind.SPACES, "{{1}}")]),
    ("decimal", "{{1.5}}", [("1.5", PlaceholderKind.INVALID, 0, 7)],
     [(ProblemKind.NOT_INTEGER, None)]),
    ("bad-name", "{{First-Name}}", [("First-Name", PlaceholderKind.INVALID, 0, 14)],
     [(ProblemKind.BAD_NAME, "{{first_name}}")]),
    ("digit-start-name", "{{1st}}", [("1st", PlaceholderKind.INVALID, 0, 7)],
     [(ProblemKind.BAD_NAME, None)]),
    ("single", "Hi {name}!", [], [(ProblemKind.SINGLE_BRACES, "{{name}}")]),
    ("single-number", "Hi {1}!", [], [(ProblemKind.SINGLE_BRACES, "{{1}}")]),
    ("unclosed", "Hi {{1} there", [], [(ProblemKind.UNBALANCED_OPEN, None)]),
    ("unopened", "Hi 1}} there", [], [(ProblemKind.UNBALANCED_CLOSE, None)]),
    ("triple", "{{{1}}}", [], [(ProblemKind.TRIPLE_BRACES, "{{1}}")]),
    ("empty", "{{}}", [("", PlaceholderKind.INVALID, 0, 4)], [(ProblemKind.EMPTY, None)]),
    ("leading-zero", "{{01}}", [("01", PlaceholderKind.INVALID, 0, 6)],
     [(ProblemKind.LEADING_ZERO, "{{1}}")]),
    ("plain-text", "No braces at all, a lone { and } are text.", [], []),
    ("json-like", 'Value {"a": 1}', [], []),
]


@pytest.mark.parametrize(("text", "placeholders", "problems"),
                         [pytest.param(*c[1:], id=c[0]) for c in SCAN_CASES])
def test_scan(text: str, placeholders: list[tuple[Any, ...]],
              problems: list[tuple[Any, ...]]) -> None:
    """The scanner finds exactly these placeholders and brace problems."""
    s = scan(text)
    assert [(p.key, p.kind, p.start, p.end) for p in s.placeholders] == placeholders
    assert [(p.kind, p.suggestion) for p in s.problems] == problems
    for p in s.placeholders:
        assert text[p.start:p.end] == p.raw


@pytest.mark.parametrize(
    ("text", "fmt", "keys"),
    [
        pytest.param("Hi {{1}}, {{2}}.", POS, ("1", "2"), id="positional"),
        pytest.param("Hi {{2}}, {{1}}, {{2}}.", POS, ("1", "2"), id="positional-unordered"),
        pytest.param("Hi {{3}}.", POS, ("1", "2", "3"), id="positional-gap-counts-to-highest"),
        pytest.param("No variables.", POS, (), id="positional-none"),
        pytest.param("Hi {{b}}, {{a}}, {{b}}.", NAMED_FMT, ("b", "a"), id="named-first-appearance"),
        pytest.param("Hi {{a}} {{1}} {{ c }}.", NAMED_FMT, ("a",), id="named-ignores-others"),
        pytest.param("Hi {{a}} {{1}}.", POS, ("1",), id="positional-ignores-named"),
    ],
)
def test_placeholder_keys(text: str, fmt: ParameterFormat, keys: tuple[str, ...]) -> None:
    """placeholder_keys gives the keys "take keys from the text" writes."""
    assert placeholder_keys(text, fmt) == keys


def _bench_draft() -> TemplateDraft:
    """A 1,024-character body with 10 positional variables, all keys and samples set."""
    parts = [f"Line {i} of the notice reads {{{{{i}}}}} for you." for i in range(1, 11)]
    body = " ".join(parts)
    body = body + " " + "Thank you" * 200
    body = body[:1023] + "."
    keys = tuple(f"k{i}" for i in range(1, 11))
    return replace(BASE, body=body, body_keys=keys, samples={**BASE.samples,
                                                              **{k: "value" for k in keys}})


def test_lint_is_fast() -> None:
    """Lint of a 1,024-char body with 10 variables takes well under 1 ms (median)."""
    draft = _bench_draft()
    assert len(draft.body) == 1024
    assert lint(draft) == []
    runs = timeit.repeat(lambda: lint(draft), number=50, repeat=20)
    assert statistics.median(runs) / 50 < 0.001
