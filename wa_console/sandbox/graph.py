"""The Graph API surface of the sandbox: routing, auth, field selection, cursor paging and
the endpoint handlers. HTTP-agnostic: `GraphApp.handle(Request) -> Response`.

Endpoints (`/{vNN.N}/...`; the version prefix may be left out):
    GET    debug_token?input_token=&access_token=APP_ID|APP_SECRET
    GET    {waba}                      fields: id,name,timezone_id,... + nested edges
    POST   {waba}                      name, timezone_id
    GET    {waba}/phone_numbers        fields, limit (1..100, 25), after/before, filtering, sort
    GET    {phone}  POST {phone}       webhook_configuration {override_callback_uri, verify_token}
    POST   {phone}/messages            text / template / other session types
    POST   {phone}/register            messaging_product, pin
    GET    {waba}/subscribed_apps  POST (override_callback_uri + verify_token)  DELETE
    GET    {waba}/message_templates    fields, limit (25, max 1000), after/before, name, status,
                                       category, language, parameter_format, quality_score,
                                       content, name_or_content, summary=total_count
    POST   {waba}/message_templates    create;  DELETE ?name=[&hsm_id=]
    GET    {template}  POST {template} edit components / category
    GET    {app}  GET/POST/DELETE {app}/subscriptions (app access token only)
    GET    {business}
Admin (not Graph, no token): POST /_sandbox/reply {wamid, text}, POST /_sandbox/inbound
{from, text, phone_number_id?}, GET /_sandbox/state.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from wa_console.sandbox.errors import GraphError, fbtrace_id
from wa_console.sandbox.world import (
    SCOPE_MANAGEMENT,
    SCOPE_MESSAGING,
    App,
    PhoneNumber,
    Template,
    Token,
    Waba,
    World,
    graph_time,
)

log = logging.getLogger(__name__)

__all__ = ["GraphApp", "Request", "Response", "page_index", "parse_fields"]

VERSION_RE = re.compile(r"^v\d+\.\d+$")
LIST_EDGES = frozenset({"phone_numbers", "message_templates", "subscribed_apps",
                        "subscriptions"})
SPEC_PHONE_FIELDS = ("id", "display_phone_number", "verified_name", "status", "quality_rating",
                     "country_code", "country_dial_code", "code_verification_status",
                     "unified_cert_status", "account_mode", "host_platform",
                     "messaging_limit_tier", "is_official_business_account", "username")
PHONE_FIELD_NAMES = frozenset(SPEC_PHONE_FIELDS + (
    "name_status", "throughput", "platform_type", "webhook_configuration", "last_onboarded_time",
    "is_pin_enabled", "health_status"))
DEFAULT_PHONE_FIELDS = ("id", "display_phone_number", "verified_name", "quality_rating")
DEFAULT_TEMPLATE_FIELDS = ("name", "components", "language", "status", "category",
                           "previous_category", "id")
DEFAULT_TEMPLATE_NODE_FIELDS = ("id", "name", "language", "status", "category", "components")
ANY_WHATSAPP = (SCOPE_MANAGEMENT, SCOPE_MESSAGING)
TEMPLATE_LIMIT_MAX = 1000
LIST_LIMIT_MAX = 100


@dataclass
class Request:
    method: str
    path: str  # without the query string
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    base_url: str


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class AppPrincipal:
    """The caller used an app access token `APP_ID|APP_SECRET`."""

    app: App


# --- fields ---------------------------------------------------------------------------------

type Fields = list[tuple[str, "Fields | None"]]


def parse_fields(text: str) -> Fields:
    """`id,name,phone_numbers{id,throughput{level}}` -> nested (name, subfields) pairs.
    Modifiers like `.limit(5)` are accepted and ignored."""
    pos = 0

    def parse_list(closing: str | None) -> Fields:
        nonlocal pos
        items: Fields = []
        while True:
            match = re.compile(r"\s*([A-Za-z0-9_]+)\s*").match(text, pos)
            if match is None:
                if (pos < len(text) and text[pos] == ",") or (pos >= len(text) and not items):
                    raise GraphError.invalid_param(f"Syntax error \"Expected field name\" at "
                                                   f"character {pos}: {text}")
                raise GraphError.invalid_param(f"Syntax error \"Unexpected character\" at "
                                               f"character {pos}: {text}")
            name = match.group(1)
            pos = match.end()
            while pos < len(text) and text[pos] == ".":  # modifiers: .limit(10).as(x)
                mod = re.compile(r"\.[A-Za-z_]+\([^()]*\)\s*").match(text, pos)
                if mod is None:
                    raise GraphError.invalid_param(f"Syntax error at character {pos}: {text}")
                pos = mod.end()
            sub: Fields | None = None
            if pos < len(text) and text[pos] == "{":
                pos += 1
                sub = parse_list("}")
            items.append((name, sub))
            while pos < len(text) and text[pos] == " ":
                pos += 1
            if pos >= len(text):
                if closing is not None:
                    raise GraphError.invalid_param(f"Syntax error \"Expected {closing}\" at "
                                                   f"character {pos}: {text}")
                return items
            if text[pos] == ",":
                pos += 1
                continue
            if closing is not None and text[pos] == closing:
                pos += 1
                return items
            raise GraphError.invalid_param(f"Syntax error \"Unexpected character\" at "
                                           f"character {pos}: {text}")

    return parse_list(None)


def _requested(query: dict[str, str], default: tuple[str, ...]) -> Fields:
    raw = query.get("fields")
    if raw is None or not raw.strip():
        return [(name, None) for name in default]
    return parse_fields(raw)


def _subselect(value: Any, sub: Fields) -> Any:
    names = [n for n, _ in sub]
    if isinstance(value, dict):
        return {n: value[n] for n in names if n in value}
    if isinstance(value, list):
        return [_subselect(v, sub) for v in value]
    return value


def select(full: dict[str, Any], fields: Fields, node_type: str,
           edges: dict[str, Any] | None = None, refused: frozenset[str] = frozenset()
           ) -> dict[str, Any]:
    """Keep the requested fields (null ones are left out, like Graph); `id` always comes
    along. Unknown or refused fields -> code 100."""
    out: dict[str, Any] = {}
    for name, sub in fields:
        if edges and name in edges:
            out[name] = edges[name](sub)
            continue
        if name not in full or name in refused:
            raise GraphError.nonexisting_field(name, node_type)
        value = full[name]
        if value is None:
            continue
        out[name] = _subselect(value, sub) if sub else value
    if "id" not in out and "id" in full:
        out["id"] = full["id"]
    return out


# --- paging ---------------------------------------------------------------------------------

def encode_cursor(item_id: str, page: int) -> str:
    return base64.urlsafe_b64encode(f"{item_id}:{page}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        item_id, page = raw.split(":")
        if not item_id.isdigit():
            raise ValueError(item_id)
        return item_id, int(page)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise GraphError.invalid_param(f"The cursor {cursor!r} is not valid") from None


def page_index(query: dict[str, str]) -> int | None:
    """Which page (0-based) a list request asks for, from its cursor; None if unreadable."""
    cursor = query.get("after") or query.get("before")
    if not cursor:
        return 0
    try:
        return decode_cursor(cursor)[1]
    except GraphError:
        return None


def _limit(query: dict[str, str], default: int, maximum: int) -> int:
    raw = query.get("limit")
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise GraphError.invalid_param(f"Param limit must be a number - got \"{raw}\".") from None
    if value < 1:
        raise GraphError.invalid_param("Param limit must be a positive number")
    return min(value, maximum)


def paginate(req: Request, version: str, path: str, ids: list[str], render: Any,
             default_limit: int, max_limit: int,
             numeric: list[int] | None = None) -> dict[str, Any]:
    """One page of the items with these `ids` (in listing order) as Graph returns it: data +
    paging with cursors, and `next`/`previous` absolute URLs only when there is more that way.
    `render(slice_of_ids)` renders a page; `numeric` = the ids as ints when ascending (fast
    cursor lookup)."""
    query = req.query
    limit = _limit(query, default_limit, max_limit)
    after, before = query.get("after"), query.get("before")
    if numeric is None:
        as_ints = [int(i) for i in ids]
        if all(a < b for a, b in zip(as_ints, as_ints[1:], strict=False)):
            numeric = as_ints

    def position(item_id: str) -> tuple[int, bool]:
        if numeric is not None:
            i = bisect.bisect_left(numeric, int(item_id))
            return i, i < len(numeric) and numeric[i] == int(item_id)
        try:
            return ids.index(item_id), True
        except ValueError:
            return len(ids), False

    if after:
        item_id, page = decode_cursor(after)
        pos, found = position(item_id)
        start = pos + 1 if found else pos
        end = start + limit
    elif before:
        item_id, page = decode_cursor(before)
        end, _ = position(item_id)
        start = max(0, end - limit)
    else:
        start, end, page = 0, limit, 0
    chunk = ids[start:end]
    body: dict[str, Any] = {"data": render(chunk)}
    if "summary" in query and "total_count" in query["summary"]:
        body["summary"] = {"total_count": len(ids)}
    if not chunk:
        return body
    paging: dict[str, Any] = {"cursors": {"before": encode_cursor(chunk[0], max(page - 1, 0)),
                                          "after": encode_cursor(chunk[-1], page + 1)}}
    base = {k: v for k, v in query.items() if k not in ("after", "before")}
    base["limit"] = str(limit)
    url = f"{req.base_url}/{version}/{path}?"
    if start + len(chunk) < len(ids):
        paging["next"] = url + urlencode({**base, "after": paging["cursors"]["after"]})
    if start > 0:
        paging["previous"] = url + urlencode({**base, "before": paging["cursors"]["before"]})
    body["paging"] = paging
    return body


# --- node renderings ------------------------------------------------------------------------

def waba_full(waba: Waba, world: World) -> dict[str, Any]:
    return {
        "id": waba.id, "name": waba.name, "timezone_id": waba.timezone_id,
        "message_template_namespace": waba.message_template_namespace,
        "account_review_status": waba.account_review_status,
        "business_verification_status": waba.business_verification_status,
        "country": waba.country, "ownership_type": waba.ownership_type,
        "currency": waba.currency, "primary_business_location": waba.primary_business_location,
        "is_enabled_for_insights": waba.is_enabled_for_insights,
        "on_behalf_of_business_info": {"name": world.business.name, "id": world.business.id,
                                       "status": "APPROVED", "type": "SELF"},
        "purchase_order_number": None, "audiences": None,
    }


def phone_full(phone: PhoneNumber, world: World) -> dict[str, Any]:
    waba = world.wabas.get(phone.waba_id)
    hook: dict[str, Any] = {}
    if world.callback_url:
        hook["application"] = world.callback_url
    if waba is not None and waba.override_callback_uri:
        hook["whatsapp_business_account"] = waba.override_callback_uri
    if phone.override_callback_uri:
        hook["phone_number"] = phone.override_callback_uri
    can_send = {"CONNECTED": "AVAILABLE", "FLAGGED": "LIMITED"}.get(phone.status, "BLOCKED")
    return {
        "id": phone.id, "display_phone_number": phone.display_phone_number,
        "verified_name": phone.verified_name, "status": phone.status,
        "quality_rating": phone.quality_rating, "country_code": phone.country_code,
        "country_dial_code": phone.country_dial_code,
        "code_verification_status": phone.code_verification_status,
        "unified_cert_status": phone.unified_cert_status, "account_mode": phone.account_mode,
        "host_platform": phone.host_platform, "messaging_limit_tier": phone.messaging_limit_tier,
        "is_official_business_account": phone.is_official_business_account,
        "username": phone.username, "name_status": phone.name_status,
        "throughput": {"level": phone.throughput_level}, "platform_type": phone.platform_type,
        "webhook_configuration": hook,
        "last_onboarded_time": graph_time(phone.last_onboarded_time),
        "is_pin_enabled": phone.is_pin_enabled,
        "health_status": {"can_send_message": can_send, "entities": [
            {"entity_type": "PHONE_NUMBER", "id": phone.id, "can_send_message": can_send}]},
    }


def template_full(t: Template) -> dict[str, Any]:
    return {
        "id": t.id, "name": t.name, "language": t.language, "status": t.status,
        "category": t.category, "components": t.components,
        "parameter_format": t.parameter_format, "rejected_reason": t.rejected_reason,
        "quality_score": t.quality_score, "previous_category": t.previous_category,
        "sub_category": t.sub_category, "correct_category": None,
        "library_template_name": None, "message_send_ttl_seconds": None,
        "cta_url_link_tracking_opted_out": None,
    }


def app_full(app: App) -> dict[str, Any]:
    return {"id": app.id, "name": app.name, "link": app.link, "category": "Business"}


# --- the app --------------------------------------------------------------------------------

class GraphApp:
    """Turns a Request into a Response against one World."""

    def __init__(self, world: World) -> None:
        self.world = world

    # --- entry point ------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        version = self.world.graph_version
        segments = [s for s in req.path.split("/") if s]
        if segments and VERSION_RE.match(segments[0]):
            version, segments = segments[0], segments[1:]
        extra: dict[str, str] = {}
        try:
            if segments[:1] == ["_sandbox"]:
                status, body = 200, self._admin(req, segments[1:])
            else:
                status, body = 200, self._route(req, version, segments, extra)
        except GraphError as exc:
            status, body = exc.status, exc.body()
            extra.update(exc.headers)
            if exc.status == 401:
                extra["WWW-Authenticate"] = (f'OAuth "Facebook Platform" "invalid_token" '
                                             f'"{exc.message[:200]}"')
        except Exception:
            log.exception("sandbox handler failed for %s %s", req.method, req.path)
            exc = GraphError(1, "An unknown error occurred", status=500, is_transient=True)
            status, body = 500, exc.body()
        return json_response(status, body, version, extra)

    def _route(self, req: Request, version: str, segs: list[str],
               extra: dict[str, str]) -> dict[str, Any]:
        method = req.method.upper()
        params = self._params(req)
        if not segs:
            raise GraphError.unsupported(method, "")
        if segs == ["debug_token"]:
            if method != "GET":
                raise GraphError.unsupported(method, "debug_token")
            return self._debug_token(req, params)
        object_id = segs[0]
        if not object_id.isdigit():
            raise GraphError.alias(object_id)
        if len(segs) > 2:
            raise GraphError(2500, f"Unknown path components: /{'/'.join(segs[2:])}")
        edge = segs[1] if len(segs) == 2 else None
        principal = self._principal(req, params)
        found = self.world.node(object_id)
        if found is None:
            raise GraphError.unsupported(method, object_id)
        kind, record = found
        handler = None
        if edge is None or edge in _EDGES.get(kind, ()):
            handler = getattr(self, f"_{kind}_{edge or 'node'}_{method.lower()}", None)
        if handler is None:
            if edge is not None and method == "GET":
                raise GraphError.nonexisting_field(edge, _NODE_TYPES[kind])
            raise GraphError.unsupported(method, object_id if edge is None
                                         else f"{object_id}/{edge}")
        waba_id = getattr(record, "waba_id", None) or (record.id if kind == "waba" else None)
        if waba_id:
            extra["X-Business-Use-Case-Usage"] = json.dumps({waba_id: [
                {"type": "whatsapp_business_management", "call_count": 1, "total_cputime": 1,
                 "total_time": 1, "estimated_time_to_regain_access": 0}]})
        return handler(req, version, principal, record, params)

    # --- request parsing --------------------------------------------------------------------
    @staticmethod
    def _params(req: Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(req.query)
        if not req.body:
            return params
        ctype = _header(req.headers, "content-type").split(";")[0].strip().lower()
        if ctype == "application/json" or (not ctype and req.body.lstrip()[:1] in (b"{", b"[")):
            try:
                data = json.loads(req.body)
            except ValueError:
                raise GraphError.invalid_param("Invalid parameter", details="The request "
                                               "body is not valid JSON") from None
            if not isinstance(data, dict):
                raise GraphError.invalid_param("Invalid parameter", details="The JSON body "
                                               "must be an object")
            params.update(data)
        else:
            for key, value in parse_qsl(req.body.decode("utf-8", "replace"),
                                        keep_blank_values=True):
                params[key] = _maybe_json(value)
        return params

    def _principal(self, req: Request, params: dict[str, Any]) -> Token | AppPrincipal:
        raw = _bearer(req) or params.get("access_token")
        if not raw or not isinstance(raw, str):
            raise GraphError.missing_token()
        return self._resolve_token(raw)

    def _resolve_token(self, raw: str) -> Token | AppPrincipal:
        if "|" in raw:
            app_id, _, secret = raw.partition("|")
            app = self.world.apps.get(app_id)
            if app is None or secret != app.secret:
                raise GraphError.bad_app_token()
            return AppPrincipal(app)
        token = self.world.token_by_value(raw)
        if token is None:
            raise GraphError.invalid_token()
        self._check_token(token)
        return token

    def _check_token(self, token: Token) -> None:
        if token.error is not None:
            subcode, message = token.error
            raise GraphError(190, message, status=401, subcode=subcode)
        now = self.world.clock()
        if token.expired(now):
            raise GraphError(190, _expired_message(token.expires_at, now), status=401,
                             subcode=463)

    def _require(self, principal: Token | AppPrincipal, waba_id: str,
                 scopes: tuple[str, ...], what: str = "WhatsApp Business Account") -> Token:
        if isinstance(principal, AppPrincipal):
            raise GraphError.permissions(what)
        held = [s for s in scopes if s in principal.scopes]
        if not held:
            raise GraphError.missing_scope(scopes[-1] if scopes == (SCOPE_MESSAGING,)
                                           else scopes[0])
        if not any(principal.granted(s, waba_id) for s in held):
            raise GraphError.permissions(what)
        return principal

    # --- debug_token ------------------------------------------------------------------------
    def _debug_token(self, req: Request, params: dict[str, Any]) -> dict[str, Any]:
        raw = params.get("access_token") or _bearer(req)
        if not raw:
            raise GraphError.missing_token()
        caller = self._resolve_token(str(raw))
        if isinstance(caller, Token) and caller.app_id not in self.world.apps:
            raise GraphError.bad_app_token()
        input_token = params.get("input_token")
        if not input_token:
            raise GraphError.required("input_token")
        input_token = str(input_token)
        if "|" in input_token:
            app_id, _, secret = input_token.partition("|")
            app = self.world.apps.get(app_id)
            if app is not None and secret == app.secret:
                return {"data": {"app_id": app.id, "type": "APP", "application": app.name,
                                 "is_valid": True, "scopes": []}}
        token = self.world.token_by_value(input_token)
        if token is None:
            return {"data": {"error": {"code": 190, "message": "Invalid OAuth access token - "
                                                               "Cannot parse access token"},
                             "is_valid": False, "scopes": []}}
        app = self.world.apps.get(token.app_id)
        data: dict[str, Any] = {
            "app_id": token.app_id, "type": token.type,
            "application": app.name if app else "",
            "data_access_expires_at": token.data_access_expires_at,
            "expires_at": token.expires_at, "is_valid": True, "issued_at": token.issued_at,
            "scopes": list(token.scopes),
            "granular_scopes": [
                {"scope": s, **({"target_ids": list(t)} if (t := token.granular_scopes.get(s))
                                is not None else {})} for s in token.scopes],
            "user_id": token.user_id,
        }
        now = self.world.clock()
        if token.error is not None:
            data["is_valid"] = False
            data["error"] = {"code": 190, "message": token.error[1], "subcode": token.error[0]}
        elif token.expired(now):
            data["is_valid"] = False
            data["error"] = {"code": 190, "message": _expired_message(token.expires_at, now),
                             "subcode": 463}
        return {"data": data}

    # --- WABA -------------------------------------------------------------------------------
    def _waba_node_get(self, req: Request, version: str, principal: Any, waba: Waba,
                       params: dict[str, Any]) -> dict[str, Any]:
        self._require(principal, waba.id, ANY_WHATSAPP)
        fields = _requested(req.query, ("id", "name"))
        with self.world.lock:
            full = waba_full(waba, self.world)
        edges = {
            "phone_numbers": lambda sub: self._phone_page(
                _sub_request(req), version, waba, sub or [(f, None) for f in
                                                          DEFAULT_PHONE_FIELDS]),
            "message_templates": lambda sub: self._template_page(
                _sub_request(req), version, waba, sub or [(f, None) for f in
                                                          DEFAULT_TEMPLATE_FIELDS]),
            "subscribed_apps": lambda sub: self._subscribed_apps(waba),
        }
        return select(full, fields, "WhatsAppBusinessAccount", edges)

    def _waba_node_post(self, req: Request, version: str, principal: Any, waba: Waba,
                        params: dict[str, Any]) -> dict[str, Any]:
        self._require(principal, waba.id, (SCOPE_MANAGEMENT,))
        with self.world.lock:
            if "name" in params:
                name = params["name"]
                if not isinstance(name, str) or not 1 <= len(name) <= 100:
                    raise GraphError.invalid_param("Invalid parameter: name must be a "
                                                   "non-empty string")
                waba.name = name
            if "timezone_id" in params:
                waba.timezone_id = str(params["timezone_id"])
        return {"success": True}

    def _waba_phone_numbers_get(self, req: Request, version: str, principal: Any, waba: Waba,
                                params: dict[str, Any]) -> dict[str, Any]:
        self._require(principal, waba.id, ANY_WHATSAPP)
        fields = _requested(req.query, DEFAULT_PHONE_FIELDS)
        return self._phone_page(req, version, waba, fields)

    def _phone_page(self, req: Request, version: str, waba: Waba,
                    fields: Fields) -> dict[str, Any]:
        world = self.world
        refused = (frozenset(f for f, _ in fields if f not in SPEC_PHONE_FIELDS)
                   if world.refuse_extra_phone_fields else frozenset())
        with world.lock:
            phones = world.phones_of(waba.id)
            rendered = {p.id: phone_full(p, world) for p in phones}
        filtering = req.query.get("filtering")
        if filtering:
            phones = [p for p in phones if _matches(rendered[p.id], _parse_filtering(filtering))]
        sort = req.query.get("sort")
        if sort:
            key, _, direction = sort.partition(".")
            if key not in ("creation_time", "last_onboarded_time") or direction not in (
                    "asc", "desc"):
                raise GraphError.invalid_param(
                    "Param sort must be one of {creation_time.asc, creation_time.desc, "
                    f"last_onboarded_time.asc, last_onboarded_time.desc}} - got \"{sort}\".")
            phones.sort(key=(lambda p: int(p.id)) if key == "creation_time"
                        else (lambda p: p.last_onboarded_time), reverse=direction == "desc")
        for name, _ in fields:  # refuse unknown fields even on an empty page
            if name not in PHONE_FIELD_NAMES or name in refused:
                raise GraphError.nonexisting_field(name, "WhatsAppBusinessPhoneNumber")
        return paginate(req, version, f"{waba.id}/phone_numbers", [p.id for p in phones],
                        lambda ids: [select(rendered[i], fields, "WhatsAppBusinessPhoneNumber",
                                            refused=refused) for i in ids],
                        25, LIST_LIMIT_MAX)

    def _subscribed_apps(self, waba: Waba) -> dict[str, Any]:
        data = []
        with self.world.lock:
            for app_id in waba.subscribed_app_ids:
                app = self.world.apps.get(app_id)
                if app is None:
                    continue
                item: dict[str, Any] = {"whatsapp_business_api_data": {
                    "id": app.id, "link": app.link, "name": app.name}}
                if waba.override_callback_uri:
                    item["override_callback_uri"] = waba.override_callback_uri
                data.append(item)
        return {"data": data}

    def _waba_subscribed_apps_get(self, req: Request, version: str, principal: Any,
                                  waba: Waba, params: dict[str, Any]) -> dict[str, Any]:
        self._require(principal, waba.id, (SCOPE_MANAGEMENT,))
        return self._subscribed_apps(waba)

    def _waba_subscribed_apps_post(self, req: Request, version: str, principal: Any,
                                   waba: Waba, params: dict[str, Any]) -> dict[str, Any]:
        token = self._require(principal, waba.id, (SCOPE_MANAGEMENT,))
        override = params.get("override_callback_uri")
        if override:
            verify_token = params.get("verify_token")
            if not verify_token:
                raise GraphError.required("verify_token")
            self._handshake(str(override), str(verify_token))
        with self.world.lock:
            if token.app_id not in waba.subscribed_app_ids:
                waba.subscribed_app_ids.append(token.app_id)
            waba.override_callback_uri = str(override) if override else None
            waba.override_verify_token = str(params.get("verify_token")) if override else None
        result: dict[str, Any] = {"success": True}
        if override:
            result["data"] = self._subscribed_apps(waba)["data"]
        return result

    def _waba_subscribed_apps_delete(self, req: Request, version: str, principal: Any,
                                     waba: Waba, params: dict[str, Any]) -> dict[str, Any]:
        token = self._require(principal, waba.id, (SCOPE_MANAGEMENT,))
        with self.world.lock:
            if token.app_id in waba.subscribed_app_ids:
                waba.subscribed_app_ids.remove(token.app_id)
                waba.override_callback_uri = waba.override_verify_token = None
        return {"success": True}

    def _handshake(self, url: str, verify_token: str) -> None:
        if not re.match(r"^https?://[^\s/]+", url):
            raise GraphError.invalid_param("Invalid callback URI format")
        problem = self.world.verify_callback(url, verify_token)
        if problem is not None:
            raise GraphError(100, "Webhook callback URL is not reachable or invalid",
                             status=422, type="GraphMethodException",
                             user_title="Callback verification failed",
                             user_msg=f"The URL couldn't be validated: {problem}. It must "
                                      "answer the GET with hub.challenge.")

    # --- templates --------------------------------------------------------------------------
    def _waba_message_templates_get(self, req: Request, version: str, principal: Any,
                                    waba: Waba, params: dict[str, Any]) -> dict[str, Any]:
        self._require(principal, waba.id, (SCOPE_MANAGEMENT,))
        fields = _requested(req.query, DEFAULT_TEMPLATE_FIELDS)
        return self._template_page(req, version, waba, fields)

    def _template_page(self, req: Request, version: str, waba: Waba,
                       fields: Fields) -> dict[str, Any]:
        query = req.query
        for name, _ in fields:
            if name not in _TEMPLATE_FIELD_NAMES:
                raise GraphError.nonexisting_field(name, "WhatsAppMessageTemplate")
        world = self.world
        filters = {k: {v.strip().upper() for v in query[k].split(",") if v.strip()}
                   for k in ("status", "category", "parameter_format") if query.get(k)}
        languages = ({v.strip() for v in query["language"].split(",")}
                     if query.get("language") else None)
        name = query.get("name")
        name_or_content = (query.get("name_or_content") or "").lower()
        content = (query.get("content") or "").lower()
        quality = query.get("quality_score", "").upper()
        if filters or languages or name or name_or_content or content or quality:
            def text_of(t: Template) -> str:
                return " ".join(str(c.get("text", "")) for c in t.components).lower()

            def keep(t: Template) -> bool:
                if name and t.name != name:
                    return False
                if languages and t.language not in languages:
                    return False
                if "status" in filters and t.status not in filters["status"]:
                    return False
                if "category" in filters and t.category not in filters["category"]:
                    return False
                if ("parameter_format" in filters
                        and t.parameter_format not in filters["parameter_format"]):
                    return False
                if quality and (t.quality_score or {}).get("score") != quality:
                    return False
                if content and content not in text_of(t):
                    return False
                return not (name_or_content and name_or_content not in t.name
                            and name_or_content not in text_of(t))
            with world.lock:
                numeric = [int(t.id) for t in world.templates_of(waba.id) if keep(t)]
        else:
            with world.lock:
                numeric = world.template_keys(waba.id)

        def render(ids: list[str]) -> list[dict[str, Any]]:
            with world.lock:
                found = [world.templates.get(i) for i in ids]
                full = [template_full(t) for t in found if t is not None]
            return [select(f, fields, "WhatsAppMessageTemplate") for f in full]

        return paginate(req, version, f"{waba.id}/message_templates",
                        [str(k) for k in numeric], render, 25, TEMPLATE_LIMIT_MAX,
                        numeric=numeric)

    def _waba_message_templates_post(self, req: Request, version: str, principal: Any,
                                     waba: Waba, params: dict[str, Any]) -> dict[str, Any]:
        self._require(principal, waba.id, (SCOPE_MANAGEMENT,))
        template = self.world.create_template(waba.id, params)
        return {"id": template.id, "status": "PENDING", "category": template.category}

    def _waba_message_templates_delete(self, req: Request, version: str, principal: Any,
                                       waba: Waba, params: dict[str, Any]) -> dict[str, Any]:
        self._require(principal, waba.id, (SCOPE_MANAGEMENT,))
        name = params.get("name")
        if not name:
            raise GraphError.required("name")
        hsm_id = params.get("hsm_id")
        if not self.world.delete_template(waba.id, str(name), str(hsm_id) if hsm_id else None):
            raise GraphError.invalid_param(
                "Invalid parameter", user_title="Message template not found",
                user_msg=f"The message template {name!s} was not found"
                         + (f" with ID {hsm_id}." if hsm_id else "."))
        return {"success": True}

    def _template_node_get(self, req: Request, version: str, principal: Any,
                           template: Template, params: dict[str, Any]) -> dict[str, Any]:
        self._require(principal, template.waba_id, (SCOPE_MANAGEMENT,), "message template")
        fields = _requested(req.query, DEFAULT_TEMPLATE_NODE_FIELDS)
        with self.world.lock:
            full = template_full(template)
        return select(full, fields, "WhatsAppMessageTemplate")

    def _template_node_post(self, req: Request, version: str, principal: Any,
                            template: Template, params: dict[str, Any]) -> dict[str, Any]:
        self._require(principal, template.waba_id, (SCOPE_MANAGEMENT,), "message template")
        self.world.edit_template(template.id, params)
        return {"success": True}

    # --- phone numbers ----------------------------------------------------------------------
    def _phone_node_get(self, req: Request, version: str, principal: Any,
                        phone: PhoneNumber, params: dict[str, Any]) -> dict[str, Any]:
        self._require(principal, phone.waba_id, ANY_WHATSAPP, "phone number")
        fields = _requested(req.query, DEFAULT_PHONE_FIELDS)
        refused = (frozenset(f for f, _ in fields
                             if f not in SPEC_PHONE_FIELDS and f != "name_status")
                   if self.world.refuse_extra_phone_fields else frozenset())
        with self.world.lock:
            full = phone_full(phone, self.world)
        return select(full, fields, "WhatsAppBusinessPhoneNumber", refused=refused)

    def _phone_node_post(self, req: Request, version: str, principal: Any,
                         phone: PhoneNumber, params: dict[str, Any]) -> dict[str, Any]:
        self._require(principal, phone.waba_id, (SCOPE_MANAGEMENT,), "phone number")
        config = params.get("webhook_configuration")
        if config is not None:
            if not isinstance(config, dict):
                raise GraphError.invalid_param("Param webhook_configuration must be a JSON "
                                               "object")
            if "override_callback_uri" not in config:
                raise GraphError.required("webhook_configuration[override_callback_uri]")
            uri = config.get("override_callback_uri") or ""
            if uri:
                verify_token = config.get("verify_token")
                if not verify_token:
                    raise GraphError.required("webhook_configuration[verify_token]")
                self._handshake(str(uri), str(verify_token))
            with self.world.lock:
                phone.override_callback_uri = str(uri) or None
                phone.override_verify_token = (str(config.get("verify_token")) if uri
                                               else None)
        return {"success": True}

    def _phone_messages_post(self, req: Request, version: str, principal: Any,
                             phone: PhoneNumber, params: dict[str, Any]) -> dict[str, Any]:
        self._require(principal, phone.waba_id, (SCOPE_MESSAGING,), "phone number")
        params.pop("access_token", None)
        return self.world.send_message(phone, params)

    def _phone_register_post(self, req: Request, version: str, principal: Any,
                             phone: PhoneNumber, params: dict[str, Any]) -> dict[str, Any]:
        self._require(principal, phone.waba_id, (SCOPE_MANAGEMENT,), "phone number")
        if params.get("messaging_product") != "whatsapp":
            raise GraphError.required("messaging_product")
        pin = str(params.get("pin") or "")
        if not re.fullmatch(r"\d{6}", pin):
            raise GraphError.invalid_param("Param pin must be 6 characters long.")
        with self.world.lock:
            phone.registered = True
            if phone.status == "PENDING":
                phone.status = "CONNECTED"
        return {"success": True}

    # --- app ----------------------------------------------------------------------------------
    def _app_node_get(self, req: Request, version: str, principal: Any, app: App,
                      params: dict[str, Any]) -> dict[str, Any]:
        if isinstance(principal, Token) and principal.app_id != app.id:
            raise GraphError.unsupported("GET", app.id)
        return select(app_full(app), _requested(req.query, ("id", "name", "link")),
                      "Application")

    def _app_token_only(self, principal: Any, app: App) -> None:
        if not isinstance(principal, AppPrincipal) or principal.app.id != app.id:
            raise GraphError(15, "(#15) This method must be called with an app access_token.")

    def _app_subscriptions_get(self, req: Request, version: str, principal: Any, app: App,
                               params: dict[str, Any]) -> dict[str, Any]:
        self._app_token_only(principal, app)
        with self.world.lock:
            callback_url = self.world.callback_url
        # No callback URL, no subscription: the same rule webhook_target delivers by (an
        # inactive subscription is listed, and delivers nothing).
        if not callback_url:
            return {"data": []}
        return {"data": [{
            "object": "whatsapp_business_account",
            "callback_url": callback_url,
            "active": app.subscription_active,
            "fields": [{"name": f, "version": self.world.graph_version}
                       for f in app.subscription_fields]}]}

    def _app_subscriptions_post(self, req: Request, version: str, principal: Any, app: App,
                                params: dict[str, Any]) -> dict[str, Any]:
        self._app_token_only(principal, app)
        if params.get("object") != "whatsapp_business_account":
            raise GraphError.invalid_param("Param object must be one of "
                                           "{whatsapp_business_account}")
        for required in ("callback_url", "verify_token"):
            if not params.get(required):
                raise GraphError.required(required)
        url, verify_token = str(params["callback_url"]), str(params["verify_token"])
        problem = self.world.verify_callback(url, verify_token)
        if problem is not None:
            raise GraphError(2200, f"(#2200) callback verification failed: {problem}")
        fields = params.get("fields") or app.subscription_fields
        if isinstance(fields, str):
            fields = [f.strip() for f in fields.split(",") if f.strip()]
        with self.world.lock:
            self.world.callback_url = url
            app.verify_token = verify_token
            app.subscription_fields = [str(f) for f in fields]
            app.subscription_active = True
        return {"success": True}

    def _app_subscriptions_delete(self, req: Request, version: str, principal: Any, app: App,
                                  params: dict[str, Any]) -> dict[str, Any]:
        self._app_token_only(principal, app)
        with self.world.lock:  # Meta drops the subscription, callback URL included
            self.world.callback_url = None
        return {"success": True}

    # --- business -----------------------------------------------------------------------------
    def _business_node_get(self, req: Request, version: str, principal: Any, business: Any,
                           params: dict[str, Any]) -> dict[str, Any]:
        full = {"id": business.id, "name": business.name,
                "verification_status": business.verification_status}
        return select(full, _requested(req.query, ("id", "name")), "Business")

    # --- admin (not Graph) --------------------------------------------------------------------
    def _admin(self, req: Request, segs: list[str]) -> dict[str, Any]:
        method = req.method.upper()
        params = self._params(req)
        world = self.world
        if segs == ["reply"] and method == "POST":
            wamid = params.get("wamid")
            if not wamid:
                raise GraphError.required("wamid")
            try:
                inbound = world.simulate_reply(str(wamid), str(params.get("text") or
                                                               "Got it, thanks"))
            except KeyError:
                raise GraphError(100, f"(#100) No message {wamid} was sent through the "
                                      "sandbox", status=404) from None
            return {"success": True, "id": inbound}
        if segs == ["inbound"] and method == "POST":
            sender = params.get("from")
            if not sender:
                raise GraphError.required("from")
            phone_id = params.get("phone_number_id")
            if phone_id is not None and phone_id not in world.phone_numbers:
                raise GraphError.unsupported("POST", str(phone_id))
            inbound = world.simulate_inbound(str(sender), str(params.get("text") or "Hello"),
                                             phone_id)
            return {"success": True, "id": inbound}
        if segs == ["state"] and method == "GET":
            with world.lock:
                return {"simulated": True, "callback_url": world.callback_url,
                        "templates": len(world.templates), "sent": len(world.sent),
                        "webhook_deliveries": [
                            {"url": d.url, "status": d.status, "error": d.error,
                             "field": d.field, "at": d.at}
                            for d in world.webhook_deliveries[-50:]]}
        raise GraphError.unsupported(method, "_sandbox/" + "/".join(segs))


_EDGES = {"waba": ("phone_numbers", "subscribed_apps", "message_templates"),
          "phone": ("messages", "register"), "app": ("subscriptions",)}
_NODE_TYPES = {"waba": "WhatsAppBusinessAccount", "phone": "WhatsAppBusinessPhoneNumber",
               "template": "WhatsAppMessageTemplate", "app": "Application",
               "business": "Business"}
_TEMPLATE_FIELD_NAMES = frozenset(template_full(Template("0", "0", "", "", "", [])))


def graph_json(body: Any) -> bytes:
    """JSON the way Graph writes it: compact, non-ASCII as \\uXXXX, and `/` escaped as `\\/`."""
    return json.dumps(body, separators=(",", ":")).replace("/", "\\/").encode("ascii")


def json_response(status: int, body: Any, version: str,
                  extra: dict[str, str] | None = None) -> Response:
    payload = graph_json(body)
    headers = {"Content-Type": "application/json; charset=UTF-8",
               "facebook-api-version": version, "x-fb-trace-id": fbtrace_id()[:11],
               "x-fb-request-id": fbtrace_id(), "x-sandbox": "simulated",
               "Cache-Control": "no-store"}
    headers.update(extra or {})
    return Response(status, payload, headers)


def _header(headers: dict[str, str], name: str) -> str:
    lower = name.lower()
    for key, value in headers.items():
        if key.lower() == lower:
            return value
    return ""


def _bearer(req: Request) -> str | None:
    value = _header(req.headers, "authorization").strip()
    if value[:7].lower() == "bearer ":
        return value[7:].strip() or None
    if value[:6].lower() == "oauth ":
        return value[6:].strip() or None
    return None


def _maybe_json(value: str) -> Any:
    if value[:1] in ("{", "[") or value in ("true", "false"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _sub_request(req: Request) -> Request:
    """The request as seen by a nested edge: no cursor or limit of the parent applies."""
    return Request(req.method, req.path, {}, req.headers, b"", req.base_url)


def _parse_filtering(raw: str) -> list[dict[str, Any]]:
    try:
        rules = json.loads(raw)
    except ValueError:
        raise GraphError.invalid_param("Invalid parameter: filtering must be valid JSON") from None
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise GraphError.invalid_param("Invalid parameter: filtering must be a JSON array")
    return rules


def _matches(item: dict[str, Any], rules: list[dict[str, Any]]) -> bool:
    for rule in rules:
        value = item.get(str(rule.get("field")))
        operator = str(rule.get("operator", "EQUAL")).upper()
        wanted = rule.get("value")
        if operator == "EQUAL" and value != wanted:
            return False
        if operator == "NOT_EQUAL" and value == wanted:
            return False
        if operator == "IN" and value not in (wanted or []):
            return False
    return True


def _expired_message(expires_at: int, now: float) -> str:
    fmt = "%A, %d-%b-%y %H:%M:%S GMT"
    return (f"Error validating access token: Session has expired on "
            f"{time.strftime(fmt, time.gmtime(expires_at))}. The current time is "
            f"{time.strftime(fmt, time.gmtime(now))}.")
