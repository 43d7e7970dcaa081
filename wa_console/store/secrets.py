"""The secret store: the OS keyring, environment variables, or memory for this session only.

Secrets never fall back to plaintext on disk. With no usable keyring (headless Linux without a
Secret Service raises `NoKeyringError` on get *and* set) every keyring call raises
`KeyringUnavailable`, whose message explains the fix; the GUI then offers to keep secrets in
memory for this session only (`use_session_memory()`).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Final

from wa_console.core.credentials import CredentialRef
from wa_console.core.redaction import register_secret

log = logging.getLogger(__name__)

KEYRING_FIX: Final = (
    "wa-console keeps secrets only in the operating system's keyring, and none is usable here. "
    "To fix it: on Linux, install and unlock a Secret Service (GNOME Keyring or KeePassXC) or "
    "KWallet and log in again; on a server, set PYTHON_KEYRING_BACKEND to a keyring backend you "
    "trust, or reference secrets as environment variables (env:VARIABLE). Secrets are never "
    "written to a file as plain text."
)


class SecretStoreError(Exception):
    """A secret could not be read or written."""


class KeyringUnavailable(SecretStoreError):
    def __init__(self, detail: str) -> None:
        super().__init__(f"No usable keyring: {detail}. {KEYRING_FIX}")
        self.detail = detail


class SecretStore:
    """Reads and writes secrets by `CredentialRef`. Thread-safe; holds no secret on disk."""

    def __init__(self) -> None:
        self._session: dict[str, str] = {}
        self._session_only = False
        self._lock = threading.Lock()

    # --- keyring backend ----------------------------------------------------------------------
    @staticmethod
    def _keyring():  # type: ignore[no-untyped-def]
        import keyring  # imported late: ~60 ms that the first paint does not need

        return keyring

    def check_keyring(self) -> str | None:
        """None when the keyring is usable, otherwise why not (for the GUI's explanation)."""
        from keyring.backends import fail

        backend = self._keyring().get_keyring()
        if isinstance(backend, fail.Keyring):
            return "no keyring backend was found"
        return None

    @property
    def session_only(self) -> bool:
        return self._session_only

    def use_session_memory(self) -> None:
        """The admin's choice when no keyring works: new secrets live until the console quits."""
        self._session_only = True
        log.warning("no usable keyring: new secrets are kept in memory for this session only")

    # --- the API ----------------------------------------------------------------------------
    def put(self, account_uid: str, field_key: str, value: str) -> CredentialRef:
        """Store a secret; returns the reference to keep in the database."""
        register_secret(value)
        if self._session_only:
            ref = CredentialRef.session(account_uid, field_key)
            with self._lock:
                self._session[ref.name] = value
            return ref
        ref = CredentialRef.keyring(account_uid, field_key)
        service, user = ref.keyring_service_and_user
        self._call("store the secret", lambda kr: kr.set_password(service, user, value))
        return ref

    def get(self, ref: CredentialRef) -> str | None:
        """The secret behind `ref`, or None when it is not there (not set, or session ended)."""
        if ref.scheme == "env":
            value = os.environ.get(ref.name) or None
        elif ref.scheme == "session":
            with self._lock:
                value = self._session.get(ref.name)
        else:
            service, user = ref.keyring_service_and_user
            value = self._call("read the secret", lambda kr: kr.get_password(service, user))
        register_secret(value)
        return value

    def delete(self, ref: CredentialRef) -> None:
        """Forget a secret this console stored; env references are left alone."""
        if ref.scheme == "session":
            with self._lock:
                self._session.pop(ref.name, None)
        elif ref.scheme == "keyring":
            from keyring.errors import PasswordDeleteError

            service, user = ref.keyring_service_and_user

            def _delete(kr):  # type: ignore[no-untyped-def]
                try:
                    kr.delete_password(service, user)
                except PasswordDeleteError:
                    pass  # already gone: the goal is reached

            self._call("delete the secret", _delete)

    def _call(self, what: str, fn):  # type: ignore[no-untyped-def]
        keyring = self._keyring()
        from keyring.errors import KeyringError, NoKeyringError

        try:
            return fn(keyring)
        except NoKeyringError as exc:
            raise KeyringUnavailable(str(exc) or "no keyring backend was found") from None
        except KeyringError as exc:
            # Locked or refusing keyrings: the message is the backend's, never the secret.
            raise SecretStoreError(f"The keyring refused to {what}: {exc}") from None
