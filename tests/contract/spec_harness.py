"""Check recorded Graph API exchanges against Meta's OpenAPI spec, one named operation at a time.

Graph path templates collide (`/{Version}/{WABA-ID}`, `/{Version}/{Phone-Number-ID}` and
`/{Version}/{TEMPLATE_ID}` all look like `/{a}/{b}`), so nothing here lets openapi-core pick an
operation by matching the URL against the whole spec. The caller names the operation
(`operationId`); the exchange is then validated against a reduced spec that holds only that
operation's path item (with that one method) plus all components. openapi-core still matches the
recorded path against that one template, so a call sent to the wrong kind of path fails.

The spec is Meta's; where it is knowingly wrong, the caller passes `SpecException`s, each checked
against what the spec says now (so a fixed spec makes the exception fail loudly, not linger).

Endpoints outside the spec (`GET /debug_token`, `GET /{app-id}/subscriptions`) are checked
against small JSON schemas written from shared/meta-api.md (`GRAPH_CORE_CONTRACTS`).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError
from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.validation.request.exceptions import InvalidRequestBody
from openapi_core.validation.response.exceptions import InvalidData
from openapi_core.validation.schemas import oas31_schema_validators_factory
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_NAME = "business-messaging-api_v23.0.yaml"
# The spec's servers (all four entries are this host). Recorded paths are replayed against it,
# whatever loopback address the emulator listened on.
GRAPH_HOST = "https://graph.facebook.com"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class Recorded(Protocol):
    """The fields of the emulator's RecordedRequest that the contract reads."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict
    body: bytes
    status: int
    response_body: bytes
    response_headers: dict


def load_spec(path: Path) -> dict:
    """The spec as plain data (libyaml's loader when present: ~0.3 s instead of ~1.5 s)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as handle:
        return yaml.load(handle, Loader=loader)  # a safe loader (CSafeLoader/SafeLoader)


# --- knowingly overriding the spec ---------------------------------------------------------------

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<absent>"})()


@dataclass(frozen=True)
class SpecException:
    """One deliberate departure from the spec, with its evidence.

    `pointer` is a JSON pointer (RFC 6901) into the spec document; `expected` is what the spec
    holds there now (MISSING: the key is absent) and `replacement` what the contract uses
    instead (MISSING: delete the key). `spec_line`/`anchor` cite the spec file: the line must
    contain the anchor text. `why` says why, citing shared/meta-api.md.
    """

    pointer: str
    expected: Any
    replacement: Any
    spec_line: int
    anchor: str
    why: str


def _pointer_parts(pointer: str) -> list[str]:
    if not pointer.startswith("/"):
        raise ValueError(f"not a JSON pointer: {pointer!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]


def _key(node: Any, part: str) -> Any:
    return int(part) if isinstance(node, list) else part


def read_pointer(document: Any, pointer: str) -> Any:
    node = document
    for part in _pointer_parts(pointer):
        try:
            node = node[_key(node, part)]
        except (KeyError, IndexError, TypeError, ValueError):
            return MISSING
    return node


def apply_exceptions(document: dict, exceptions: Sequence[SpecException]) -> dict:
    """A copy of the spec with the exceptions applied; the original is left untouched (only the
    containers on each pointer's way are copied). Raises if the spec no longer says `expected`."""
    stale = [f"{e.pointer}: the spec now says {read_pointer(document, e.pointer)!r}, the "
             f"exception expects {e.expected!r}" for e in exceptions
             if read_pointer(document, e.pointer) != e.expected]
    if stale:
        raise AssertionError("Spec exceptions no longer match the spec (remove or update them):\n"
                             + "\n".join(stale))
    patched = dict(document)
    for exc in exceptions:
        parts = _pointer_parts(exc.pointer)
        node: Any = patched
        for part in parts[:-1]:
            key = _key(node, part)
            child = copy.copy(node[key])
            node[key] = child
            node = child
        last = _key(node, parts[-1])
        if exc.replacement is MISSING:
            del node[last]
        else:
            node[last] = copy.deepcopy(exc.replacement)
    return patched


# --- adapters: RecordedRequest as openapi-core's Request and Response protocols ---------------

def graph_path(recorded_path: str, base_url: str = "") -> str:
    """The Graph path (`/v23.0/...`) of a recorded request: query dropped, and the base URL's
    own path prefix removed if the emulator recorded it."""
    path = recorded_path.split("?", 1)[0]
    prefix = urlsplit(base_url).path.rstrip("/")
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix):]
    return path


def _headers(raw: Mapping[str, Any] | None) -> Headers:
    return Headers([(str(k), str(v)) for k, v in (raw or {}).items()])


def template_regex(template: str) -> re.Pattern[str]:
    """`/{Version}/{WABA-ID}` -> a regex where each variable is one non-empty path segment."""
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


class RequestAdapter:
    """openapi-core's `Request` protocol over one recorded request."""

    def __init__(self, recorded: Recorded, base_url: str = "") -> None:
        self.host_url = GRAPH_HOST
        self.path = graph_path(recorded.path, base_url)
        self.method = recorded.method.lower()
        headers = _headers(recorded.headers)
        self.body: bytes | None = recorded.body or None
        self.content_type = (headers.get("Content-Type") or "").lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(dict(recorded.query or {})),
            header=headers,
            cookie=ImmutableMultiDict(_cookies(headers.get("Cookie"))),
            path={},  # resolved by openapi-core from the one path template
        )


def _cookies(raw: str | None) -> dict[str, str]:
    pairs = (part.strip().split("=", 1) for part in (raw or "").split(";") if "=" in part)
    return {name: value for name, value in pairs}


class ResponseAdapter:
    """openapi-core's `Response` protocol over the answer of one recorded request."""

    def __init__(self, recorded: Recorded) -> None:
        self.status_code = int(recorded.status)
        self.headers = _headers(recorded.response_headers)
        self.content_type = (self.headers.get("Content-Type") or "").lower()
        self.data: bytes | None = recorded.response_body or None


# --- error text ----------------------------------------------------------------------------------

def _where(error: SchemaError) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "<root>"


def _schema_error_lines(error: SchemaError, indent: str = "  ") -> list[str]:
    lines = [f"{indent}at {_where(error)}: {error.message[:300]}"]
    if error.validator in ("oneOf", "anyOf") and error.context:
        branch = _discriminated_branch(error)
        subs = [e for e in error.context if branch is None or
                (e.relative_schema_path and e.relative_schema_path[0] == branch)]
        for sub in subs[:8]:
            lines.extend(_schema_error_lines(sub, indent + "  "))
    return lines


def _discriminated_branch(error: SchemaError) -> int | None:
    """For a oneOf with a discriminator, the index of the branch the instance names."""
    schema, instance = error.schema, error.instance
    if not isinstance(schema, Mapping) or not isinstance(instance, Mapping):
        return None
    disc = schema.get("discriminator") or {}
    target = (disc.get("mapping") or {}).get(instance.get(disc.get("propertyName")))
    for index, branch in enumerate(schema.get(error.validator) or ()):
        if isinstance(branch, Mapping) and branch.get("$ref") == target:
            return index
    return None


def describe(exc: BaseException) -> str:
    """One readable paragraph for an openapi-core error, schema details included."""
    if isinstance(exc, InvalidRequestBody):
        lines = ["request body does not match the spec"]
    elif isinstance(exc, InvalidData):
        lines = ["response body does not match the spec"]
    else:
        lines = [f"{type(exc).__name__}: {str(exc)[:300]}"]
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, InvalidSchemaValue):
            for error in cause.schema_errors:
                lines.extend(_schema_error_lines(error))  # type: ignore[arg-type]
            break
        cause = cause.__cause__
    return "\n".join(lines)


# --- the contract --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # lower case
    path: str  # the spec's path template
    declared_query: frozenset[str]
    response_codes: frozenset[str]


class SpecContract:
    """Validation of recorded exchanges against named operations of the spec."""

    def __init__(self, document: dict, exceptions: Sequence[SpecException] = ()) -> None:
        self.source = document
        self.document = apply_exceptions(document, exceptions) if exceptions else document
        self._apps: dict[str, OpenAPI] = {}
        self.operations = self._index_operations()

    def _index_operations(self) -> dict[str, Operation]:
        found: dict[str, Operation] = {}
        duplicates: set[str] = set()
        for path, item in (self.document.get("paths") or {}).items():
            shared = item.get("parameters") or []
            for method in HTTP_METHODS:
                op = item.get(method)
                if not isinstance(op, dict) or "operationId" not in op:
                    continue
                params = [self._deref(p) for p in (*shared, *(op.get("parameters") or []))]
                query = frozenset(p["name"] for p in params if p.get("in") == "query")
                operation = Operation(op["operationId"], method, path, query,
                                      frozenset(str(c) for c in op.get("responses") or {}))
                if operation.operation_id in found:
                    duplicates.add(operation.operation_id)
                found[operation.operation_id] = operation
        for op_id in duplicates:  # ambiguous: never validate against a guess
            del found[op_id]
        return found

    def _deref(self, node: dict) -> dict:
        ref = node.get("$ref")
        return read_pointer(self.document, ref[1:]) if isinstance(ref, str) else node

    def operation(self, operation_id: str) -> Operation:
        try:
            return self.operations[operation_id]
        except KeyError:
            raise KeyError(f"operationId {operation_id!r} is not (uniquely) in the spec") from None

    def reduced_spec(self, operation_id: str) -> dict:
        """The spec with only this operation's path item, holding only this method."""
        op = self.operation(operation_id)
        item = self.document["paths"][op.path]
        reduced_item = {op.method: item[op.method]}
        for key in ("parameters", "servers", "summary", "description"):
            if key in item:
                reduced_item[key] = item[key]
        reduced = {k: v for k, v in self.document.items() if k not in ("paths", "webhooks")}
        reduced["paths"] = {op.path: reduced_item}
        return reduced

    def app(self, operation_id: str) -> OpenAPI:
        """openapi-core over the reduced spec (built once per operation). Meta's file is not
        itself run through the spec validator: it is theirs, and its non-standard
        `components.parameterGroups` would stop every test before any exchange is checked."""
        if operation_id not in self._apps:
            self._apps[operation_id] = OpenAPI.from_dict(
                self.reduced_spec(operation_id), config=Config(spec_validator_cls=None))
        return self._apps[operation_id]

    @cached_property
    def _components_path(self) -> SchemaPath:
        return SchemaPath.from_dict({k: v for k, v in self.document.items()
                                     if k not in ("paths", "webhooks")})

    # -- checks --------------------------------------------------------------------------------
    def request_errors(self, operation_id: str, recorded: Recorded,
                       base_url: str = "") -> list[str]:
        """Method, path (against the operation's template), parameters, security, body."""
        op = self.operation(operation_id)
        errors: list[str] = []
        if recorded.method.lower() != op.method:
            errors.append(f"method {recorded.method} sent; {operation_id} is "
                          f"{op.method.upper()} {op.path}")
            return errors
        request = RequestAdapter(recorded, base_url)
        if not template_regex(op.path).fullmatch(request.path):
            errors.append(f"path {request.path!r} does not fit {operation_id}'s template "
                          f"{op.path!r}")
            return errors
        errors.extend(describe(e) for e in
                      self.app(operation_id).request_validator.iter_errors(request))
        return errors

    def response_errors(self, operation_id: str, recorded: Recorded,
                        base_url: str = "") -> list[str]:
        """The answer's status, media type, body schema and declared headers. An error status
        the operation does not declare is checked against `components/schemas/GraphAPIError`
        (meta-api.md §a: every Graph error has that envelope) instead of failing as undeclared."""
        op = self.operation(operation_id)
        response = ResponseAdapter(recorded)
        code = str(response.status_code)
        if response.status_code >= 400 and not ({code, f"{code[0]}XX", "default"}
                                                & op.response_codes):
            return self.component_errors("GraphAPIError", response.data, response.content_type)
        request = RequestAdapter(recorded, base_url)
        return [describe(e) for e in
                self.app(operation_id).response_validator.iter_errors(request, response)]

    def undeclared_query(self, operation_id: str, recorded: Recorded) -> set[str]:
        """Query parameters sent that the operation does not declare (openapi-core ignores
        them; Graph mostly does too, but an undeclared name is a contract gap worth listing)."""
        return set(recorded.query or {}) - self.operation(operation_id).declared_query

    def component_errors(self, schema_name: str, data: bytes | None,
                         content_type: str = "application/json") -> list[str]:
        """A JSON body checked against `components/schemas/<schema_name>`."""
        if not content_type.startswith("application/json"):
            return [f"content type {content_type or '<none>'!r}, expected application/json"]
        try:
            value = json.loads(data or b"")
        except ValueError as exc:
            return [f"body is not JSON: {exc}"]
        schema = self._components_path / "components" / "schemas" / schema_name
        validator = oas31_schema_validators_factory.create(self._components_path, schema)
        try:
            validator.validate(value)
        except InvalidSchemaValue as exc:
            return [describe(exc)]
        return []


# --- endpoints the spec does not have (meta-api.md §b) -------------------------------------------

@dataclass(frozen=True)
class CoreContract:
    """A Graph core endpoint described by shared/meta-api.md rather than by the spec."""

    name: str
    method: str
    path: re.Pattern[str]
    query: dict
    response: dict
    headers_absent: tuple[str, ...] = field(default=())


_APP_TOKEN = r"^[0-9]+\|[^|\s]+$"  # meta-api.md §b: the literal APP_ID|APP_SECRET

GRAPH_CORE_CONTRACTS: dict[str, CoreContract] = {
    # meta-api.md §b "GET /debug_token — verify the token (NOT in the spec; Graph core API)".
    "debug_token": CoreContract(
        name="debug_token",
        method="GET",
        path=re.compile(r"^/v[0-9]+\.[0-9]+/debug_token$"),
        query={
            "type": "object",
            "required": ["input_token", "access_token"],
            "properties": {"input_token": {"type": "string", "minLength": 1},
                           "access_token": {"type": "string", "pattern": _APP_TOKEN}},
        },
        response={
            "type": "object",
            "required": ["data"],
            "properties": {"data": {
                "type": "object",
                "required": ["is_valid"],
                "properties": {
                    "is_valid": {"type": "boolean"},
                    "app_id": {"type": "string", "pattern": "^[0-9]+$"},
                    "application": {"type": "string"},
                    # USER, PAGE, APP, SYSTEM_USER ... (meta-api.md: enums can grow).
                    "type": {"type": "string"},
                    "user_id": {"type": "string", "pattern": "^[0-9]+$"},
                    "issued_at": {"type": "integer", "minimum": 0},
                    "expires_at": {"type": "integer", "minimum": 0},  # 0 = never expires
                    "data_access_expires_at": {"type": "integer", "minimum": 0},
                    "scopes": {"type": "array", "items": {"type": "string"}},
                    "granular_scopes": {"type": "array", "items": {
                        "type": "object",
                        "required": ["scope"],
                        "properties": {"scope": {"type": "string"},
                                       "target_ids": {"type": "array", "items": {
                                           "type": "string", "pattern": "^[0-9]+$"}}}}},
                    "error": {"type": "object", "required": ["code", "message"],
                              "properties": {"code": {"type": "integer"},
                                             "message": {"type": "string"},
                                             "subcode": {"type": "integer"}}},
                },
                # A valid token carries what the console checks (meta-api.md §b "Console
                # checks"): the app, the scopes and the expiry; an invalid one says why.
                "if": {"properties": {"is_valid": {"const": True}}},
                "then": {"required": ["app_id", "type", "expires_at", "scopes"]},
                "else": {"required": ["error"]},
            }},
        },
        headers_absent=("Authorization",),  # checked with the app token in the query only
    ),
    # GET /{app-id}/subscriptions: the app's webhook subscriptions. meta-api.md §b ("Webhook
    # routing precedence") names what it holds: the app's callback URL and its field
    # subscriptions (e.g. `messages`); the field names follow Graph's App Subscriptions edge.
    "app_subscriptions": CoreContract(
        name="app_subscriptions",
        method="GET",
        path=re.compile(r"^/v[0-9]+\.[0-9]+/[0-9]+/subscriptions$"),
        query={
            "type": "object",
            "required": ["access_token"],
            "properties": {"access_token": {"type": "string", "pattern": _APP_TOKEN}},
        },
        response={
            "type": "object",
            "required": ["data"],
            "properties": {"data": {"type": "array", "items": {
                "type": "object",
                "required": ["object", "callback_url", "active", "fields"],
                "properties": {
                    "object": {"type": "string"},  # whatsapp_business_account, page, ...
                    "callback_url": {"type": "string", "minLength": 1},
                    "active": {"type": "boolean"},
                    "fields": {"type": "array", "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": {"type": "string"},
                                       "version": {"type": "string",
                                                   "pattern": r"^v[0-9]+\.[0-9]+$"}}}},
                }}}},
        },
        headers_absent=("Authorization",),
    ),
}


def _json_schema_errors(schema: dict, value: Any, what: str) -> list[str]:
    validator = Draft202012Validator(schema)
    return [f"{what} at {_where(e)}: {e.message[:300]}"
            for e in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))]


def core_request_errors(name: str, recorded: Recorded, base_url: str = "") -> list[str]:
    contract = GRAPH_CORE_CONTRACTS[name]
    errors: list[str] = []
    if recorded.method.upper() != contract.method:
        errors.append(f"method {recorded.method} sent; {name} is {contract.method}")
    path = graph_path(recorded.path, base_url)
    if not contract.path.match(path):
        errors.append(f"path {path!r} does not match {contract.path.pattern!r}")
    errors.extend(_json_schema_errors(contract.query, dict(recorded.query or {}), "query"))
    headers = _headers(recorded.headers)
    errors.extend(f"header {h} sent; {name} authenticates with the query's app token"
                  for h in contract.headers_absent if h in headers)
    if recorded.body:
        errors.append(f"{name} is a GET without a body; {len(recorded.body)} bytes were sent")
    return errors


def core_response_errors(name: str, recorded: Recorded, contract: SpecContract) -> list[str]:
    """2xx against the meta-api.md schema; an error against the spec's GraphAPIError."""
    response = ResponseAdapter(recorded)
    if response.status_code >= 400:
        return contract.component_errors("GraphAPIError", response.data,
                                                response.content_type)
    if not response.content_type.startswith("application/json"):
        return [f"content type {response.content_type or '<none>'!r}, expected application/json"]
    try:
        value = json.loads(response.data or b"")
    except ValueError as exc:
        return [f"body is not JSON: {exc}"]
    if response.status_code != 200:
        return [f"status {response.status_code}; {name} answers 200 or a Graph error"]
    return _json_schema_errors(GRAPH_CORE_CONTRACTS[name].response, value, "body")


def format_report(problems: Iterable[tuple[str, str, str]]) -> str:
    """`(operation, 'request'|'response', text)` triples as one assertion message."""
    return "\n".join(f"[{op} {part}] {text}" for op, part, text in problems)
