"""The webhook receiver as a WSGI app: Meta's GET handshake and signed POSTs into the database.

GET  `?hub.mode=subscribe&hub.verify_token=..&hub.challenge=..` -> 200 text/plain, exactly the
     challenge, when the token is one of the configured verify tokens; 403 otherwise (the
     challenge is never echoed for a wrong token).
POST Content-Length required (411) and at most `max_body` (413); the raw bytes are checked
     against `X-Hub-Signature-256` with every configured app secret (missing -> 401, wrong ->
     403), then stored by `store.messages.ingest` in one transaction -> 200 "EVENT_RECEIVED".
     Signed but not a webhook -> 400.

Refusals are logged at WARNING with the remote address, the reason, the body length and a short
sha256 prefix of the body: never a secret, a token or the body. Nothing slow runs in a request
beyond the one transaction, so Meta gets its 200 quickly.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import parse_qsl

from wa_console.meta.webhooks import WebhookFormatError, answer_challenge, verify_signature

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from wa_console.store.accounts import AccountStore

__all__ = [
    "DEFAULT_MAX_BODY",
    "DEFAULT_PATH",
    "CachedAccountSecrets",
    "ReceiverApp",
    "ReceiverSecrets",
    "account_secrets",
    "make_app",
]

log = logging.getLogger(__name__)

DEFAULT_PATH: Final = "/webhooks/whatsapp"
DEFAULT_MAX_BODY: Final = 1_048_576  # Meta's notifications are a few KB; batches stay far below
SECRETS_MAX_AGE: Final = 30.0  # seconds a read of the accounts' secrets is reused
# A flood of bad signatures re-reads the keyring at most this often (seconds).
REFRESH_MIN_INTERVAL: Final = 2.0
_SIGNATURE_ENV: Final = "HTTP_X_HUB_SIGNATURE_256"
_ACCEPTED: Final = b"EVENT_RECEIVED"

type StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class ReceiverSecrets:
    """What the receiver checks requests with. The repr shows counts only."""

    verify_tokens: tuple[str, ...] = ()
    app_secrets: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (f"ReceiverSecrets(<{len(self.verify_tokens)} verify token(s)>, "
                f"<{len(self.app_secrets)} app secret(s)>)")


class CachedAccountSecrets:
    """`secrets_provider` over the accounts' credential references (keyring / env).

    Calling it returns the secrets read at most `max_age` seconds ago; `refresh()` (used by the
    app when a signature fails) re-reads them at once, but at most every `min_interval`
    seconds, so a changed app secret is picked up without a flood of bad requests hammering the
    keyring. A read that fails keeps the previous secrets (and logs why).
    """

    def __init__(self, store: AccountStore, account_ids: Sequence[int] | None = None, *,
                 max_age: float = SECRETS_MAX_AGE,
                 min_interval: float = REFRESH_MIN_INTERVAL) -> None:
        self._store = store
        self._account_ids = tuple(account_ids) if account_ids is not None else None
        self._max_age = max_age
        self._min_interval = min_interval
        self._lock = threading.Lock()
        self._secrets = ReceiverSecrets()
        self._read_at: float | None = None

    def __call__(self) -> ReceiverSecrets:
        with self._lock:
            if self._read_at is None or time.monotonic() - self._read_at >= self._max_age:
                self._reload()
            return self._secrets

    def refresh(self) -> ReceiverSecrets:
        with self._lock:
            if self._read_at is None or time.monotonic() - self._read_at >= self._min_interval:
                self._reload()
            return self._secrets

    def _reload(self) -> None:
        from wa_console.store.accounts import AccountError
        from wa_console.store.secrets import SecretStoreError

        tokens: list[str] = []
        app_secrets: list[str] = []
        try:
            ids = (self._account_ids if self._account_ids is not None
                   else [a.id for a in self._store.list_accounts()])
            for account_id in ids:
                record = self._store.get(account_id)
                for key, into in (("webhook_verify_token", tokens), ("app_secret", app_secrets)):
                    ref = record.refs.get(key)
                    value = self._store.secrets.get(ref) if ref is not None else None
                    if value and value not in into:
                        into.append(value)
        except (SecretStoreError, AccountError) as exc:
            log.warning("webhook receiver: the accounts' secrets could not be read (%s); "
                        "keeping the previous ones", exc)
        except Exception as exc:  # e.g. the database went away: keep serving with what we have
            log.warning("webhook receiver: the accounts could not be read (%s); keeping the "
                        "previous secrets", type(exc).__name__)
        else:
            self._secrets = ReceiverSecrets(tuple(tokens), tuple(app_secrets))
        self._read_at = time.monotonic()


def account_secrets(store: AccountStore,
                    account_ids: Sequence[int] | None = None) -> CachedAccountSecrets:
    """A secrets provider for all accounts of `store` (or those of `account_ids`)."""
    return CachedAccountSecrets(store, account_ids)


class ReceiverApp:
    """The WSGI callable (see the module doc). `accepted` / `refused` count POSTs (a refused
    POST is one answered 4xx/5xx); they are safe to read from any thread."""

    def __init__(self, engine: Engine, secrets_provider: Callable[[], ReceiverSecrets], *,
                 path: str = DEFAULT_PATH, max_body: int = DEFAULT_MAX_BODY) -> None:
        from wa_console.store.messages import ingest

        self._ingest = ingest
        self.engine = engine
        self.secrets_provider = secrets_provider
        self.path = path
        self.max_body = max_body
        self._lock = threading.Lock()
        self._accepted = 0
        self._refused = 0

    @property
    def accepted(self) -> int:
        return self._accepted

    @property
    def refused(self) -> int:
        return self._refused

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            if environ.get("PATH_INFO", "") != self.path:
                return _answer(start_response, 404, b"not found")
            method = environ.get("REQUEST_METHOD", "")
            if method == "GET":
                return self._challenge(environ, start_response)
            if method == "POST":
                status, body = self._post(environ)
                with self._lock:
                    if status == 200:
                        self._accepted += 1
                    else:
                        self._refused += 1
                return _answer(start_response, status, body)
            return _answer(start_response, 405, b"method not allowed",
                           [("Allow", "GET, POST")])
        except Exception:
            # The traceback goes to the log (redacted there), never to the client.
            log.exception("webhook receiver: unexpected error on %s %s",
                          environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            with self._lock:
                self._refused += 1
            return _answer(start_response, 500, b"internal error")

    def _challenge(self, environ: dict[str, Any],
                   start_response: StartResponse) -> Iterable[bytes]:
        params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        for token in self.secrets_provider().verify_tokens:
            status, challenge = answer_challenge(params, token)
            if status == 200:
                return _answer(start_response, 200, challenge.encode("utf-8"))
        log.warning("webhook receiver: refused a verification request from %s (%s)",
                    _remote(environ),
                    "not a subscribe request" if params.get("hub.mode") != "subscribe"
                    else "the verify token does not match")
        return _answer(start_response, 403, b"forbidden")

    def _post(self, environ: dict[str, Any]) -> tuple[int, bytes]:
        length_text = environ.get("CONTENT_LENGTH") or ""
        if not length_text:
            self._refuse(environ, "no Content-Length", None)
            return 411, b"length required"
        try:
            length = int(length_text)
        except ValueError:
            length = -1
        if length < 0:
            self._refuse(environ, "malformed Content-Length", None)
            return 400, b"bad request"
        if length > self.max_body:
            self._refuse(environ, f"body larger than {self.max_body} bytes", None,
                         length=length)
            return 413, b"payload too large"
        body = environ["wsgi.input"].read(length)
        if len(body) != length:
            self._refuse(environ, "body shorter than Content-Length", body)
            return 400, b"bad request"
        header = environ.get(_SIGNATURE_ENV)
        if not header:
            self._refuse(environ, "no X-Hub-Signature-256 header", body)
            return 401, b"signature required"
        verdict = self._signed(body, header)
        if verdict is not True:
            self._refuse(environ, verdict, body)
            return 403, b"invalid signature"
        try:
            self._ingest(self.engine, body, signature_valid=True)
        except WebhookFormatError as exc:
            self._refuse(environ, f"signed, but not a WhatsApp webhook ({exc})", body)
            return 400, b"not a whatsapp_business_account webhook"
        return 200, _ACCEPTED

    def _signed(self, body: bytes, header: str) -> Literal[True] | str:
        """True, or why the signature is refused (for the log)."""
        secrets = self.secrets_provider()
        if any(verify_signature(secret, body, header) for secret in secrets.app_secrets):
            return True
        refresh = getattr(self.secrets_provider, "refresh", None)
        if refresh is not None:
            fresh: ReceiverSecrets = refresh()  # the admin may just have changed the app secret
            if fresh.app_secrets != secrets.app_secrets and any(
                    verify_signature(secret, body, header) for secret in fresh.app_secrets):
                return True
            secrets = fresh
        if not secrets.app_secrets:
            return "no app secret is stored for any account (enter it in the settings)"
        return "the signature does not match any configured app secret"

    @staticmethod
    def _refuse(environ: dict[str, Any], reason: str, body: bytes | None,
                length: int | None = None) -> None:
        size = len(body) if body is not None else length
        digest = hashlib.sha256(body).hexdigest()[:12] if body is not None else "-"
        log.warning("webhook receiver: refused a POST from %s: %s (body %s bytes, sha256 %s)",
                    _remote(environ), reason, "?" if size is None else size, digest)


def make_app(engine: Engine, secrets_provider: Callable[[], ReceiverSecrets], *,
             path: str = DEFAULT_PATH, max_body: int = DEFAULT_MAX_BODY) -> ReceiverApp:
    """The receiver's WSGI app (see the module doc)."""
    return ReceiverApp(engine, secrets_provider, path=path, max_body=max_body)


def _remote(environ: dict[str, Any]) -> str:
    return str(environ.get("REMOTE_ADDR") or "?")


_REASONS: Final = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
                   404: "Not Found", 405: "Method Not Allowed", 411: "Length Required",
                   413: "Payload Too Large", 500: "Internal Server Error"}


def _answer(start_response: StartResponse, status: int, body: bytes,
            headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    start_response(f"{status} {_REASONS[status]}",
                   [("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body))), *(headers or [])])
    return [body]
