"""Fault injection for the sandbox server: per method + path regex (+ optional page of a list
endpoint), count-limited.

Kinds:
- `latency`: wait `seconds`, then answer normally.
- `http_5xx`: HTTP `status` (default 500) with a Graph error (code 2, is_transient true).
- `html_error`: HTTP `status` (default 502) with an HTML page, as a proxy would send.
- `rate_limit`: HTTP 429, `Retry-After: retry_after` and a Graph error with `code`
  (4, 80007 or 130429; default 4).
- `graph_error`: any Graph error: `code`, `subcode`, `status`, `message`, `type`,
  `is_transient`, `user_title`, `user_msg`, `details`.
- `malformed_json`: the request is processed, the 200 answer is cut in half.
- `connection_reset`: the request is read, then the socket is reset (RST), no answer.
- `stall`: the request is read, then nothing for `seconds` (default 30), then the normal
  answer; server shutdown ends the wait at once.
- `drop_after_processing`: the request is processed fully (a message is sent, its webhooks go
  out), then the connection is reset without an answer (after `seconds` if given).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from wa_console.sandbox.errors import GraphError

__all__ = ["KINDS", "Fault", "FaultInjector"]

KINDS = ("latency", "http_5xx", "html_error", "rate_limit", "graph_error", "malformed_json",
         "connection_reset", "stall", "drop_after_processing")
_PARAMS = frozenset({"status", "code", "subcode", "message", "type", "is_transient",
                     "user_title", "user_msg", "details", "retry_after", "seconds"})
_RATE_MESSAGES = {
    4: ("(#4) Application request limit reached", 2446079),
    80007: ("(#80007) There have been too many calls to this WhatsApp Business account. Wait "
            "a bit and try again.", None),
    130429: ("(#130429) Rate limit hit", None),
}
_DEFAULT_MESSAGES = {
    1: "An unknown error occurred", 2: "An unexpected error occurred. Please retry your request "
                                       "later.",
    4: "(#4) Application request limit reached", 10: "(#10) Application does not have "
                                                     "permission for this action",
    100: "(#100) Invalid parameter", 190: "Invalid OAuth access token",
    200: "(#200) Permissions error", 368: "(#368) Temporarily blocked for policies violations",
    80007: "(#80007) There have been too many calls to this WhatsApp Business account.",
    130429: "(#130429) Rate limit hit",
}
_TRANSIENT = frozenset({1, 2, 4, 17, 341, 80007, 130429, 131000, 131016, 133004})


def _default_status(code: int) -> int:
    if code in (190, 102, 104):
        return 401
    if code in (10, 200) or 200 <= code <= 299:
        return 403
    if code in (4, 17, 32, 613, 80007, 130429):
        return 429
    if code in (1, 2):
        return 500
    if code == 803:
        return 404
    return 400


@dataclass(eq=False)
class Fault:
    """One injected fault. `remaining` None = forever; `hits` counts uses."""

    kind: str
    method: str | None
    path: str
    times: int | None = 1
    page: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    hits: int = 0
    simulated: bool = True

    def __post_init__(self) -> None:
        self._regex = re.compile(self.path)
        self.remaining = self.times

    @property
    def seconds(self) -> float:
        default = {"stall": 30.0, "latency": 1.0}.get(self.kind, 0.0)
        return float(self.params.get("seconds", default) or 0.0)

    def matches(self, method: str, path: str, page: int | None) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method is not None and self.method not in ("*", method.upper()):
            return False
        if self.page is not None and page != self.page:
            return False
        return self._regex.search(path) is not None

    def error(self) -> GraphError:
        """The Graph error this fault answers with (http_5xx, rate_limit, graph_error)."""
        p = self.params
        if self.kind == "http_5xx":
            code = int(p.get("code", 2))
            return GraphError(code, p.get("message") or _DEFAULT_MESSAGES.get(
                code, "An unexpected error occurred. Please retry your request later."),
                status=int(p.get("status", 500)), type=p.get("type", "GraphMethodException"),
                subcode=p.get("subcode"), is_transient=p.get("is_transient", True))
        if self.kind == "rate_limit":
            code = int(p.get("code", 4))
            message, subcode = _RATE_MESSAGES.get(code, (f"(#{code}) Rate limit hit", None))
            retry_after = p.get("retry_after", 1)
            headers = {"Retry-After": _number(retry_after)} if retry_after is not None else {}
            return GraphError(code, p.get("message") or message, status=int(p.get("status", 429)),
                              subcode=p.get("subcode", subcode),
                              is_transient=p.get("is_transient", True),
                              details=p.get("details"), messaging=code >= 130000,
                              headers=headers)
        code = int(p.get("code", 100))
        return GraphError(
            code, p.get("message") or _DEFAULT_MESSAGES.get(code, f"(#{code}) Simulated error"),
            status=int(p.get("status", _default_status(code))), subcode=p.get("subcode"),
            type=p.get("type", "OAuthException"),
            is_transient=p.get("is_transient", True if code in _TRANSIENT else None),
            user_title=p.get("user_title"), user_msg=p.get("user_msg"),
            details=p.get("details"), messaging=code >= 130000)


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)


class FaultInjector:
    """The server's fault table (thread-safe). Faults are tried in injection order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def inject(self, *, kind: str, path: str = ".*", method: str | None = None,
               times: int | None = 1, page: int | None = None, **params: Any) -> Fault:
        """Add a fault; e.g. `inject(method="GET", path=r"/message_templates$",
        kind="http_5xx", times=2, status=503)`. `times=None` = until cleared."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
        unknown = set(params) - _PARAMS
        if unknown:
            raise TypeError(f"unknown fault parameter(s): {', '.join(sorted(unknown))}")
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 or None")
        fault = Fault(kind=kind, method=method.upper() if method else None, path=path,
                      times=times, page=page, params=params)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def remove(self, fault: Fault) -> None:
        with self._lock:
            if fault in self._faults:
                self._faults.remove(fault)

    @property
    def active(self) -> list[Fault]:
        with self._lock:
            return [f for f in self._faults if f.remaining is None or f.remaining > 0]

    def take(self, method: str, path: str, page: int | None) -> Fault | None:
        """The first matching fault, with one use consumed; None when none applies."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path, page):
                    fault.hits += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault
        return None
