"""Effective webhook callback: every override combination, URL comparison and explanations."""

from __future__ import annotations

import itertools

import pytest

from wa_console.core.webhook_routing import (
    Route,
    effective_callback,
    explain_route,
    explain_template_route,
    normalize_url,
    same_url,
    template_events_route,
)

CONFIGURED = "https://platform.example.org/webhooks/whatsapp"
# The configured URL as an admin might type it elsewhere: host case, default port, slash.
SAME_AS_CONFIGURED = "HTTPS://Platform.Example.org:443/webhooks/whatsapp/"
URLS = {"app": "https://app.example.org/hook", "waba": "https://waba.example.org/hook",
        "phone": "https://phone.example.org/hook"}
COMBINATIONS = list(itertools.product((False, True), repeat=3))


def _inputs(app: bool, waba: bool, phone: bool, winner_matches: bool) -> dict[str, str | None]:
    urls = {"app": URLS["app"] if app else None, "waba": URLS["waba"] if waba else None,
            "phone": URLS["phone"] if phone else None}
    winner = "phone" if phone else "waba" if waba else "app" if app else None
    if winner is not None and winner_matches:
        urls[winner] = SAME_AS_CONFIGURED
    return urls


@pytest.mark.parametrize("winner_matches", [True, False], ids=["match", "mismatch"])
@pytest.mark.parametrize(("app", "waba", "phone"), COMBINATIONS,
                         ids=[f"app{int(a)}-waba{int(w)}-phone{int(p)}"
                              for a, w, p in COMBINATIONS])
def test_every_override_combination(app: bool, waba: bool, phone: bool,
                                    winner_matches: bool) -> None:
    """Phone override > WABA override > app callback, for each presence pattern, and the
    explanation says whether the winner is the configured URL and how to fix it."""
    urls = _inputs(app, waba, phone, winner_matches)
    route = effective_callback(urls["app"], urls["waba"], urls["phone"])
    expected_source = "phone" if phone else "waba" if waba else "app" if app else None
    assert route.source == expected_source
    assert route.url == (urls[expected_source] if expected_source else None)
    text = explain_route(route, CONFIGURED)
    if expected_source is None:
        assert "no webhook is delivered" in text
        return
    assert route.url in text
    if winner_matches:
        assert same_url(route.url, CONFIGURED)
        assert "the configured callback URL" in text and "not to" not in text
    else:
        assert not same_url(route.url, CONFIGURED)
        assert f"not to the configured callback URL {CONFIGURED}" in text
        fix_word = {"phone": "phone number's override", "waba": "without override_callback_uri",
                    "app": "so that they agree"}[expected_source]
        assert fix_word in text
        assert fix_word not in explain_route(route, CONFIGURED, with_fix=False)
    # Template events ignore the overrides: always the app callback (or nowhere).
    assert template_events_route(urls["app"]) == (Route(urls["app"], "app") if app
                                                   else Route(None, None))


def test_empty_overrides_count_as_absent() -> None:
    """Meta removes an override set to ""; so does the computation."""
    assert effective_callback(URLS["app"], "", "  ") == Route(URLS["app"], "app")


@pytest.mark.parametrize(("a", "b", "same"), [
    ("https://Example.ORG/hook", "https://example.org/hook", True),
    ("HTTPS://example.org/hook", "https://example.org/hook", True),
    ("https://example.org:443/hook", "https://example.org/hook", True),
    ("http://example.org:80/hook", "http://example.org/hook", True),
    ("https://example.org/hook/", "https://example.org/hook", True),
    ("https://example.org", "https://example.org/", True),
    ("https://example.org:8443/hook", "https://example.org/hook", False),
    ("http://example.org/hook", "https://example.org/hook", False),
    ("https://example.org/Hook", "https://example.org/hook", False),  # paths are case-sensitive
    ("https://example.org/hook?a=1", "https://example.org/hook", False),
    ("https://[::1]:443/hook", "https://[::1]/hook", True),
])
def test_url_comparison(a: str, b: str, same: bool) -> None:
    """Scheme/host case, default ports and a trailing slash do not make a mismatch."""
    assert same_url(a, b) is same
    assert same_url(None, b) is False and same_url(a, "") is False


def test_normalize_keeps_a_broken_port_as_text() -> None:
    """A non-numeric port is compared as typed, never a crash."""
    assert normalize_url(" https://example.org:notaport/x ") == "https://example.org:notaport/x"


def test_explanations_without_configured_url_and_for_templates() -> None:
    """Without a configured URL the route is still named; template events name the app URL."""
    route = effective_callback(URLS["app"], URLS["waba"], None)
    assert "no webhook callback URL is configured" in explain_route(route, None)
    assert "WABA's webhook override" in explain_route(route, None)
    text = explain_template_route(URLS["app"], CONFIGURED)
    assert "always go to the app's callback URL" in text and "does not receive them" in text
    assert "does not receive" not in explain_template_route(CONFIGURED + "/", CONFIGURED)
    assert "go nowhere" in explain_template_route(None, CONFIGURED)
