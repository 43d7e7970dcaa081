"""Credential references: what the database and exports keep instead of a secret.

`keyring:<service>/<name>` names an entry in the OS keyring, `env:<VAR>` an environment variable
(for headless use), and `session:<name>` a secret the admin chose to keep in memory for this
session only because no keyring was usable. The secret itself never leaves the keyring/env/memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

Scheme = Literal["keyring", "env", "session"]
SCHEMES: Final[tuple[Scheme, ...]] = ("keyring", "env", "session")
KEYRING_SERVICE: Final = "wa-console"

_ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class CredentialRefError(ValueError):
    """A credential reference that cannot be parsed."""


@dataclass(frozen=True)
class CredentialRef:
    """A pointer to a secret. Safe to store, log and export."""

    scheme: Scheme
    name: str  # keyring: "<service>/<entry>"; env: variable name; session: entry name

    @classmethod
    def keyring(cls, account_uid: str, field_key: str) -> CredentialRef:
        return cls("keyring", f"{KEYRING_SERVICE}/{account_uid}/{field_key}")

    @classmethod
    def session(cls, account_uid: str, field_key: str) -> CredentialRef:
        return cls("session", f"{account_uid}/{field_key}")

    @classmethod
    def env(cls, variable: str) -> CredentialRef:
        if not _ENV_VAR.fullmatch(variable):
            raise CredentialRefError(
                "not an environment variable name: use letters, digits and _, not starting with "
                "a digit"
            )
        return cls("env", variable)

    @classmethod
    def parse(cls, text: str) -> CredentialRef:
        """Parse `scheme:name`. Raises CredentialRefError with the reason."""
        scheme, sep, name = text.partition(":")
        if not sep or scheme not in SCHEMES:
            raise CredentialRefError(
                # The text is not echoed: a secret pasted in place of a reference must not leak.
                "not a credential reference: expected keyring:<service>/<name>, env:<VARIABLE> or "
                "session:<name>"
            )
        if scheme == "env":
            return cls.env(name)
        if not name.strip():
            raise CredentialRefError(f"the {scheme}: reference has no name")
        if any(c.isspace() for c in name):
            raise CredentialRefError(f"the {scheme}: reference name must not contain spaces")
        if scheme == "keyring" and ("/" not in name or "" in name.split("/")):
            raise CredentialRefError("a keyring reference needs keyring:<service>/<name>")
        return cls(scheme, name)  # type: ignore[arg-type]

    @property
    def keyring_service_and_user(self) -> tuple[str, str]:
        service, _, user = self.name.partition("/")
        return service, user

    def __str__(self) -> str:
        return f"{self.scheme}:{self.name}"


def mask(secret: str | None) -> str:
    """How a secret may appear on screen: never more than its last 4 characters."""
    if not secret:
        return ""
    return "•" * 8 + (secret[-4:] if len(secret) >= 12 else "")


SecretAction = Literal["keep", "set", "clear", "env"]


@dataclass(frozen=True)
class SecretEdit:
    """What the settings form says about one secret field on save.

    keep: leave the stored secret as it is; set: store `value` in the keyring; clear: forget the
    secret; env: reference the environment variable named `value`.
    """

    action: SecretAction = "keep"
    value: str = ""

    def __repr__(self) -> str:
        shown = self.value if self.action == "env" else mask(self.value)
        return f"SecretEdit({self.action!r}, {shown!r})"


KEEP: Final = SecretEdit("keep")
