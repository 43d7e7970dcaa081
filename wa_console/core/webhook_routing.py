"""Where Meta sends webhooks: the effective callback URL and why it may not be the configured one.

Meta's routing (meta-api.md §b "Webhook routing precedence"): message events (`messages`
inbound messages and statuses, and the other overridable fields) go to the phone number's
override if it has one, else to the WABA's override, else to the app's callback URL. Template
and account events are never overridden: they always go to the app's callback URL. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import urlsplit, urlunsplit

RouteSource = Literal["phone", "waba", "app"]

SOURCE_LABELS: Final[dict[str, str]] = {
    "phone": "the phone number's webhook override",
    "waba": "the WABA's webhook override",
    "app": "the app's callback URL (App Dashboard → WhatsApp → Configuration)",
}
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Route:
    """Where one kind of event goes. `url` None (with `source` None): nowhere configured."""

    url: str | None
    source: RouteSource | None


def effective_callback(app_callback: str | None, waba_override: str | None,
                       phone_override: str | None) -> Route:
    """The callback for message events: phone override > WABA override > app callback.
    Empty strings count as absent (Meta removes an override set to "")."""
    for url, source in ((phone_override, "phone"), (waba_override, "waba"),
                        (app_callback, "app")):
        if url and url.strip():
            return Route(url.strip(), source)  # type: ignore[arg-type]
    return Route(None, None)


def template_events_route(app_callback: str | None) -> Route:
    """Template status/quality/category and account events: always the app callback."""
    return effective_callback(app_callback, None, None)


def normalize_url(url: str) -> str:
    """A comparable form: scheme and host lower case, default port dropped, trailing slash of
    the path dropped (Meta calls exactly the URL given; these differences reach the same
    receiver). Query and path case are kept: a receiver may depend on them."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: keep the text as it was
        return url.strip()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    if parts.username or parts.password:
        netloc = f"{parts.netloc.rsplit('@', 1)[0]}@{netloc}"
    path = parts.path.rstrip("/")
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def same_url(a: str | None, b: str | None) -> bool:
    """True when both are set and reach the same receiver (see `normalize_url`)."""
    if not a or not b:
        return False
    return normalize_url(a) == normalize_url(b)


def explain_route(route: Route, configured_url: str | None, with_fix: bool = True) -> str:
    """Admin-facing sentence on whether message events reach the configured callback URL;
    a mismatch ends with what to do (`route_fix`) unless `with_fix` is False (the caller
    shows the fix on its own)."""
    if route.url is None or route.source is None:
        return ("Meta has no callback URL for this app, so no webhook is delivered anywhere. "
                "Set the callback URL in the App Dashboard (WhatsApp → Configuration).")
    where = SOURCE_LABELS[route.source]
    if not configured_url:
        return (f"Message events go to {route.url} ({where}); no webhook callback URL is "
                "configured in the settings to compare it with.")
    if same_url(route.url, configured_url):
        return f"Message events go to {route.url} ({where}), the configured callback URL."
    return (f"Message events go to {route.url} ({where}), not to the configured callback URL "
            f"{configured_url}." + (f" {route_fix(route)}" if with_fix else ""))


def route_fix(route: Route) -> str:
    """What makes message events go to the configured URL instead of `route.url`."""
    if route.source == "phone":
        return ("Remove the phone number's override (POST /{phone-number-id} with "
                "webhook_configuration.override_callback_uri = \"\") or change the configured "
                "URL to it.")
    if route.source == "waba":
        return ("Re-subscribe the app to the WABA without override_callback_uri (POST "
                "/{waba-id}/subscribed_apps) or change the configured URL to it.")
    return ("Change the callback URL in the App Dashboard (WhatsApp → Configuration) or the "
            "configured URL in the settings so that they agree.")


def explain_template_route(app_callback: str | None, configured_url: str | None) -> str:
    """Template events always use the app callback, whatever the overrides say."""
    if not app_callback:
        return ("Template events (status, quality, category) go nowhere: the app has no "
                "callback URL.")
    if configured_url and not same_url(app_callback, configured_url):
        return (f"Template events (status, quality, category) always go to the app's callback "
                f"URL {app_callback}, never to an override; the configured URL "
                f"{configured_url} does not receive them.")
    return (f"Template events (status, quality, category) always go to the app's callback URL "
            f"{app_callback}, never to an override.")
