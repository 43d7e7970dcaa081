"""Graph API error envelopes, as Meta sends them (spec schema `GraphAPIError`).

`GraphError` is raised anywhere inside the emulator and turned into the JSON envelope
`{"error": {message, type, code, error_subcode?, error_data?, fbtrace_id, is_transient?,
error_user_title?, error_user_msg?}}` with its HTTP status by the server.
"""

from __future__ import annotations

import secrets
from typing import Any

__all__ = ["GraphError", "fbtrace_id"]


def fbtrace_id() -> str:
    """A fresh trace id shaped like Meta's (`AXsgnV2Cm3ZMGF3dF_cfYIn`)."""
    return "A" + secrets.token_urlsafe(16)[:22]


class GraphError(Exception):
    """One Graph error answer. `status` is the HTTP status of the response."""

    def __init__(self, code: int, message: str, *, status: int = 400, subcode: int | None = None,
                 type: str = "OAuthException", is_transient: bool | None = None,
                 user_title: str | None = None, user_msg: str | None = None,
                 details: str | None = None, messaging: bool = False,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.subcode = subcode
        self.type = type
        self.is_transient = is_transient
        self.user_title = user_title
        self.user_msg = user_msg
        self.details = details
        self.messaging = messaging  # error_data carries messaging_product (Cloud API sends)
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.details is not None:
            error["error_data"] = ({"messaging_product": "whatsapp", "details": self.details}
                                   if self.messaging else {"details": self.details})
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.is_transient is not None:
            error["is_transient"] = self.is_transient
        if self.user_title is not None:
            error["error_user_title"] = self.user_title
        if self.user_msg is not None:
            error["error_user_msg"] = self.user_msg
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}

    def __repr__(self) -> str:
        sub = f"/{self.subcode}" if self.subcode is not None else ""
        return f"GraphError({self.code}{sub}, {self.message!r}, status={self.status})"

    # --- the errors Graph gives in many places ----------------------------------------------

    @classmethod
    def unsupported(cls, method: str, object_id: str) -> GraphError:
        """100/33: unknown object, no permission to see it, or a method it does not support."""
        return cls(100, f"Unsupported {method.lower()} request. Object with ID '{object_id}' does "
                        "not exist, cannot be loaded due to missing permissions, or does not "
                        "support this operation. Please read the Graph API documentation at "
                        "https://developers.facebook.com/docs/graph-api",
                   subcode=33, type="GraphMethodException")

    @classmethod
    def alias(cls, alias: str) -> GraphError:
        """803: a path segment that is not a numeric ID."""
        return cls(803, f"(#803) Some of the aliases you requested do not exist: {alias}",
                   status=404)

    @classmethod
    def nonexisting_field(cls, field: str, node_type: str) -> GraphError:
        return cls(100, f"(#100) Tried accessing nonexisting field ({field}) on node type "
                        f"({node_type})")

    @classmethod
    def required(cls, param: str) -> GraphError:
        return cls(100, f"(#100) The parameter {param} is required")

    @classmethod
    def invalid_param(cls, message: str, **kwargs: Any) -> GraphError:
        return cls(100, f"(#100) {message}", **kwargs)

    @classmethod
    def missing_token(cls) -> GraphError:
        return cls(104, "An access token is required to request this resource.", status=401)

    @classmethod
    def invalid_token(cls) -> GraphError:
        return cls(190, "Invalid OAuth access token - Cannot parse access token", status=401)

    @classmethod
    def bad_app_token(cls) -> GraphError:
        return cls(190, "Invalid OAuth access token signature.", status=401)

    @classmethod
    def permissions(cls, what: str = "WhatsApp Business Account") -> GraphError:
        """200/1349174: the token works but is not granted on this asset."""
        return cls(200, "(#200) Permissions error", status=403, subcode=1349174,
                   user_title="Permission Denied",
                   user_msg=f"Your app doesn't have permission to access this {what}. Assign "
                            "the asset to the system user and grant the whatsapp permissions.")

    @classmethod
    def missing_scope(cls, scope: str) -> GraphError:
        if scope == "whatsapp_business_messaging":
            return cls(10, "(#10) Application does not have permission for this action",
                       status=403, details=f"Requires {scope} permission", messaging=True)
        return cls(200, f"(#200) Requires {scope} permission to manage the object", status=403)
