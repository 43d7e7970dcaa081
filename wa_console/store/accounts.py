"""Channel accounts: list, load, create, save, rename, delete, export and import.

Each public method is one user action and runs in one transaction. Callers get plain dataclasses,
never ORM objects (they cross threads). Every save names the version it edited; if another console
saved in between, `ConflictError` is raised and nothing is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wa_console.core.credentials import KEEP, CredentialRef, SecretEdit
from wa_console.core.schema import PLAIN_FIELDS, SECRET_FIELDS, default_values
from wa_console.core.transfer import export_document, parse_import
from wa_console.core.validation import FieldIssue, Value, validate_form
from wa_console.store.models import ChannelAccount, column_name
from wa_console.store.records import AccountRecord, AccountSummary
from wa_console.store.secrets import SecretStore


class AccountError(Exception):
    """Base of the errors a user action on an account can end in."""


class ValidationFailed(AccountError):
    def __init__(self, issues: list[FieldIssue]) -> None:
        super().__init__("; ".join(i.message for i in issues if i.is_error))
        self.issues = issues


class ConflictError(AccountError):
    """The record changed (or was deleted) in another console since it was loaded."""

    def __init__(self, name: str, deleted: bool = False) -> None:
        what = "was deleted" if deleted else "was changed"
        super().__init__(
            f"'{name}' {what} elsewhere (another console or user) since you opened it. "
            "Nothing was saved. Reload to see the current settings, then apply your changes again."
        )
        self.deleted = deleted


def _record(row: ChannelAccount) -> AccountRecord:
    refs = {}
    for spec in SECRET_FIELDS:
        text = getattr(row, column_name(spec))
        refs[spec.key] = CredentialRef.parse(text) if text else None
    return AccountRecord(
        id=row.id,
        uid=row.uid,
        version=row.version,
        values={spec.key: getattr(row, column_name(spec)) for spec in PLAIN_FIELDS},
        refs=refs,
    )


class AccountStore:
    """The channel-account repository over one engine and one secret store."""

    def __init__(self, engine: Engine, secrets: SecretStore) -> None:
        self.engine = engine
        self.secrets = secrets

    # --- reading ------------------------------------------------------------------------------
    def list_accounts(self) -> list[AccountSummary]:
        with Session(self.engine) as session:
            rows = session.execute(
                select(ChannelAccount.id, ChannelAccount.account_name, ChannelAccount.sandbox)
                .order_by(func.lower(ChannelAccount.account_name))
            )
            return [AccountSummary(id, name, bool(sandbox)) for id, name, sandbox in rows]

    def get(self, account_id: int) -> AccountRecord:
        with Session(self.engine) as session:
            row = session.get(ChannelAccount, account_id)
            if row is None:
                raise ConflictError(f"account #{account_id}", deleted=True)
            return _record(row)

    def name_taken(self, name: str, except_id: int | None = None) -> bool:
        with Session(self.engine) as session:
            query = select(ChannelAccount.id).where(
                func.lower(ChannelAccount.account_name) == name.lower())
            return any(found != except_id for found in session.scalars(query))

    # --- writing ------------------------------------------------------------------------------
    def create(
        self,
        values: Mapping[str, object],
        secrets: Mapping[str, SecretEdit] | None = None,
        refs: Mapping[str, CredentialRef | None] | None = None,
    ) -> AccountRecord:
        """Create an account from form values (and secret edits, or references from an import)."""
        uid = str(uuid.uuid4())
        base = {**default_values(), **values}
        current = {k: v for k, v in (refs or {}).items() if v is not None}
        return self._write(None, uid, base, secrets or {}, current)

    def save(
        self,
        account_id: int,
        expected_version: int,
        values: Mapping[str, object],
        secrets: Mapping[str, SecretEdit],
    ) -> AccountRecord:
        """Save the form of an existing account (all fields, validated, one transaction)."""
        with Session(self.engine) as session:
            row = session.get(ChannelAccount, account_id)
            if row is None:
                raise ConflictError(str(values.get("account_name", account_id)), deleted=True)
            current = _record(row)
        if current.version != expected_version:
            raise ConflictError(current.name)
        refs = {k: v for k, v in current.refs.items() if v is not None}
        return self._write(current, current.uid, values, secrets, refs)

    def rename(self, account_id: int, expected_version: int, new_name: str) -> AccountRecord:
        current = self.get(account_id)
        if current.version != expected_version:
            raise ConflictError(current.name)
        values = {**current.values, "account_name": new_name}
        return self.save(account_id, expected_version, values, {})

    def delete(self, account_id: int) -> None:
        """Delete the account and forget the secrets this console stored for it."""
        record = self.get(account_id)
        with Session(self.engine) as session, session.begin():
            session.execute(delete(ChannelAccount).where(ChannelAccount.id == account_id))
        for ref in record.refs.values():
            if ref is not None:
                self.secrets.delete(ref)

    def export(self, account_id: int) -> dict:
        record = self.get(account_id)
        return export_document(record.values, record.refs)

    def import_document(self, doc: object) -> AccountRecord:
        """Create an account from an export; every problem is reported at once."""
        parsed = parse_import(doc)
        name = parsed.values.get("account_name")
        issues = list(parsed.issues)
        if isinstance(name, str) and name and self.name_taken(name):
            issues.append(_name_taken_issue(name))
        if any(i.is_error for i in issues):
            raise ValidationFailed(issues)
        return self.create(parsed.values, refs=parsed.refs)

    # --- the one write path ---------------------------------------------------------------------
    def _write(
        self,
        current: AccountRecord | None,
        uid: str,
        values: Mapping[str, object],
        edits: Mapping[str, SecretEdit],
        refs: Mapping[str, CredentialRef],
    ) -> AccountRecord:
        resolve = self.secrets.get if any(e.action == "set" for e in edits.values()) else None
        checked = validate_form(values, edits, refs, resolve)
        issues = list(checked.issues)
        name = checked.values.get("account_name")
        if isinstance(name, str) and name and self.name_taken(
                name, except_id=current.id if current else None):
            issues.append(_name_taken_issue(name))
        if any(i.is_error for i in issues):
            raise ValidationFailed(issues)

        # Secrets first, remembering how to undo them, then the row in one transaction.
        new_refs: dict[str, str | None] = {}
        undo: list[tuple[str, CredentialRef, str | None]] = []
        obsolete: list[CredentialRef] = []
        try:
            for spec in SECRET_FIELDS:
                edit = edits.get(spec.key, KEEP)
                old = refs.get(spec.key)
                if edit.action == "keep":
                    new_refs[spec.key] = str(old) if old else None
                    continue
                if edit.action == "set":
                    previous = self.secrets.get(old) if old and old.scheme != "env" else None
                    ref = self.secrets.put(uid, spec.key, edit.value.strip())
                    undo.append((spec.key, ref, previous if old == ref else None))
                    new_refs[spec.key] = str(ref)
                    if old and old != ref:
                        obsolete.append(old)
                else:  # env or clear
                    value = checked.values[spec.key]
                    new_refs[spec.key] = str(value) if isinstance(value, CredentialRef) else None
                    if old:
                        obsolete.append(old)
            self._write_row(current, uid, checked.values, new_refs)
        except BaseException:
            for key, ref, previous in reversed(undo):
                if previous is None:
                    self.secrets.delete(ref)
                else:
                    self.secrets.put(uid, key, previous)
            raise
        for ref in obsolete:
            if ref.scheme != "env":
                self.secrets.delete(ref)
        return self.get(current.id) if current else self._get_by_uid(uid)

    def _write_row(
        self,
        current: AccountRecord | None,
        uid: str,
        values: Mapping[str, Value],
        refs: Mapping[str, str | None],
    ) -> None:
        columns: dict[str, object] = {column_name(s): values.get(s.key) for s in PLAIN_FIELDS}
        columns.update({column_name(s): refs.get(s.key) for s in SECRET_FIELDS})
        try:
            with Session(self.engine) as session, session.begin():
                if current is None:
                    session.add(ChannelAccount(uid=uid, kind="whatsapp", version=1, **columns))
                    return
                # The version check and the write are one statement: no window for a race.
                result = session.execute(
                    update(ChannelAccount)
                    .where(ChannelAccount.id == current.id,
                           ChannelAccount.version == current.version)
                    .values(**columns, version=current.version + 1)
                )
                if result.rowcount != 1:
                    raise ConflictError(current.name)
        except IntegrityError:
            # Another console took the name between our check and the write.
            raise ValidationFailed([_name_taken_issue(str(values.get("account_name")))]) from None

    def _get_by_uid(self, uid: str) -> AccountRecord:
        with Session(self.engine) as session:
            return _record(session.scalars(
                select(ChannelAccount).where(ChannelAccount.uid == uid)).one())


def _name_taken_issue(name: str) -> FieldIssue:
    return FieldIssue(
        "account_name",
        f"Account name: '{name}' is already used by another channel account; choose another name",
    )
