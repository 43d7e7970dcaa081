"""The WhatsApp-bubble preview model: formatting, escaping, substitution, unmatched markers."""

from __future__ import annotations

import pytest

from wa_console.core.templates.model import (
    Button,
    ButtonType,
    Category,
    HeaderFormat,
    ParameterFormat,
    TemplateDraft,
)
from wa_console.core.templates.payload import url_key
from wa_console.core.templates.preview import PreviewButton, Span, render

V = '<span class="var">{}</span>'


def body_draft(body: str, samples: dict[str, str] | None = None,
               fmt: ParameterFormat = ParameterFormat.POSITIONAL,
               keys: tuple[str, ...] = ()) -> TemplateDraft:
    return TemplateDraft(name="t", language="en_US", category=Category.UTILITY, body=body,
                         parameter_format=fmt, body_keys=keys, samples=samples or {})


RENDER_CASES = {
    "plain": ("Hello there", {}, "Hello there"),
    "bold": ("a *bold* word", {}, "a <b>bold</b> word"),
    "italic": ("an _italic_ word", {}, "an <i>italic</i> word"),
    "strike": ("a ~gone~ word", {}, "a <s>gone</s> word"),
    "mono": ("run ```ls -l``` now", {}, "run <code>ls -l</code> now"),
    "mono keeps markers": ("```*not bold*```", {}, "<code>*not bold*</code>"),
    "mono spans lines": ("```a\nb```", {}, "<code>a<br>b</code>"),
    "nested": ("*_both_*", {}, "<b><i>both</i></b>"),
    "punctuation around": ("(*yes*), ok", {}, "(<b>yes</b>), ok"),
    "several": ("*a* and *b*", {}, "<b>a</b> and <b>b</b>"),
    "escape": ("1 < 2 & 3 > 2", {}, "1 &lt; 2 &amp; 3 &gt; 2"),
    "escape tags": ("<script>x</script>", {}, "&lt;script&gt;x&lt;/script&gt;"),
    "escape inside bold": ("*<b>*", {}, "<b>&lt;b&gt;</b>"),
    "newline": ("line1\nline2", {}, "line1<br>line2"),
    "unmatched open": ("*open only", {}, "*open only"),
    "unmatched close": ("close only_", {}, "close only_"),
    "unmatched mono": ("```code", {}, "```code"),
    "space after marker": ("2 * 3 * 4", {}, "2 * 3 * 4"),
    "not across lines": ("*a\nb*", {}, "*a<br>b*"),
    "snake_case": ("use snake_case_name here", {}, "use snake_case_name here"),
    "inside word": ("a*b*c and x~y~z", {}, "a*b*c and x~y~z"),
    "empty marker pair": ("** __", {}, "** __"),
    "substitute": ("Hi {{1}}, bye", {"1": "Ana"}, f"Hi {V.format('Ana')}, bye"),
    "substitute escaped": ("Hi {{1}}!", {"1": "<Ana & Co>"},
                           f"Hi {V.format('&lt;Ana &amp; Co&gt;')}!"),
    "value markers literal": ("Hi {{1}}!", {"1": "*x*"}, f"Hi {V.format('*x*')}!"),
    "bold around variable": ("Due *{{1}}* now", {"1": "May 5"},
                             f"Due <b>{V.format('May 5')}</b> now"),
    "missing value": ("Hi {{1}} ok", {}, 'Hi <span class="var missing">{{1}}</span> ok'),
    "invalid placeholder kept": ("Hi {{ 1 }} ok", {"1": "Ana"}, "Hi {{ 1 }} ok"),
}


@pytest.mark.parametrize("case", sorted(RENDER_CASES))
def test_body_rendering_table(case) -> None:
    """Each body renders to the expected safe HTML subset."""
    body, samples, html = RENDER_CASES[case]
    assert render(body_draft(body, samples)).body_html == html


def test_positional_keys_and_named_values_substitute() -> None:
    """Positional placeholders look values up by key (then index); named by name."""
    positional = body_draft("Hi {{1}}, on {{2}} ok", {"first_name": "Ana", "2": "Fri"},
                            keys=("first_name", "day"))
    assert render(positional).body_html == f"Hi {V.format('Ana')}, on {V.format('Fri')} ok"
    named = body_draft("Hi {{first_name}} ok", fmt=ParameterFormat.NAMED,
                       keys=("first_name",))
    assert render(named, {"first_name": "Rui"}).body_html == f"Hi {V.format('Rui')} ok"


def test_spans_name_source_positions_keys_and_values() -> None:
    """Substituted spans index the source header/body text, with key and value (None: missing)."""
    draft = TemplateDraft(name="t", language="en_US", category=Category.UTILITY,
                          body="Hi {{1}} and {{2}}.", header_format=HeaderFormat.TEXT,
                          header_text="Order {{1}}", header_keys=("order",),
                          body_keys=("name", "other"), samples={"order": "A-1", "name": "Ana"})
    preview = render(draft)
    assert preview.header_text == "Order A-1"
    assert preview.spans == (Span("header", 6, 11, "order", "A-1"),
                             Span("body", 3, 8, "name", "Ana"),
                             Span("body", 13, 18, "other", None))


def test_header_footer_buttons() -> None:
    """Media header label, footer text, and buttons with label, kind and resolved target."""
    draft = TemplateDraft(
        name="t", language="en_US", category=Category.MARKETING, body="Welcome!",
        header_format=HeaderFormat.IMAGE, footer="Reply STOP to opt out",
        buttons=(Button(ButtonType.QUICK_REPLY, "Yes"),
                 Button(ButtonType.URL, "Shop", url="https://e.com/s?c={{1}}",
                        url_sample="W10"),
                 Button(ButtonType.PHONE_NUMBER, "Call", phone_number="+15551234567")))
    preview = render(draft)
    assert (preview.header_text, preview.header_media) == ("", "[Image]")
    assert preview.footer == "Reply STOP to opt out"
    assert preview.buttons == (PreviewButton("Yes", "quick_reply"),
                               PreviewButton("Shop", "url", "https://e.com/s?c=W10"),
                               PreviewButton("Call", "phone_number", "+15551234567"))
    given = render(draft, {url_key(1): "X"})
    assert given.buttons[1].target == "https://e.com/s?c=X"
    assert render(draft, {}).buttons[1].target == "https://e.com/s?c={{1}}"
