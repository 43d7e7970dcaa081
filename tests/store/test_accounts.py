"""Channel-account storage on real databases (SQLite always, PostgreSQL where it can start)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.support.samples import APP_SECRET, TOKEN, TYPED, VERIFY
from tests.support.samples import SECRETS as PLAIN_SECRETS
from wa_console.core.credentials import CredentialRef, SecretEdit
from wa_console.store.accounts import AccountStore, ConflictError, ValidationFailed
from wa_console.store.db import SCHEMA_HEAD, resolve_db_url
from wa_console.store.secrets import KeyringUnavailable, SecretStore

VALID = {**TYPED, "provider": "meta_whatsapp", "graph_api_version": "v23.0", "sandbox": False}
SECRETS = {key: SecretEdit("set", value) for key, value in PLAIN_SECRETS.items()}


@pytest.fixture
def store(db_url: str, open_db) -> AccountStore:
    return AccountStore(open_db(db_url), SecretStore())


def table_rows(store: AccountStore) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text("SELECT * FROM channel_account"))]


def test_migrations_match_models(db_url: str, open_db) -> None:
    """Alembic's schema is exactly what the models declare, and upgrading twice is a no-op."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from wa_console.store.models import Base

    engine = open_db(db_url)
    open_db(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    assert diff == []
    assert version == SCHEMA_HEAD


def test_create_and_reload_keeps_every_value(store: AccountStore, memory_keyring) -> None:
    """A full configuration comes back field by field; secrets come back through the keyring."""
    created = store.create(VALID, SECRETS)
    loaded = store.get(created.id)
    assert loaded.values["display_phone_number"] == "+447911123456"  # stored as E.164
    for key in ("waba_id", "phone_number_id", "app_id", "webhook_callback_url", "account_name"):
        assert loaded.values[key] == VALID[key]
    assert loaded.version == 1
    assert store.secrets.get(loaded.refs["access_token"]) == TOKEN
    assert store.secrets.get(loaded.refs["app_secret"]) == APP_SECRET
    assert store.secrets.get(loaded.refs["webhook_verify_token"]) == VERIFY
    assert str(loaded.refs["access_token"]) == f"keyring:wa-console/{loaded.uid}/access_token"
    assert len(memory_keyring.entries) == 3


def test_database_holds_references_not_secrets(store: AccountStore) -> None:
    """No column of the stored row contains a secret value."""
    store.create(VALID, SECRETS)
    (row,) = table_rows(store)
    text = repr(row)
    for secret in (TOKEN, APP_SECRET, VERIFY):
        assert secret not in text
    assert row["access_token_ref"].startswith("keyring:wa-console/")


def test_invalid_save_writes_nothing(store: AccountStore, memory_keyring) -> None:
    """One bad field refuses the whole save: no row, no keyring entry."""
    with pytest.raises(ValidationFailed) as info:
        store.create({**VALID, "waba_id": "12 34"}, SECRETS)
    assert [i.key for i in info.value.issues if i.is_error] == ["waba_id"]
    assert table_rows(store) == []
    assert memory_keyring.entries == {}


def test_conflicting_save_is_refused_and_nothing_changes(store: AccountStore) -> None:
    """Saving over a record another console changed raises ConflictError and writes nothing."""
    record = store.create(VALID, SECRETS)
    other_console = AccountStore(store.engine, SecretStore())
    other_console.save(record.id, record.version, {**record.values, "app_id": "6543210987654321"},
                       {})
    with pytest.raises(ConflictError, match=r"changed elsewhere.*Reload"):
        store.save(record.id, record.version, {**record.values, "waba_id": "999999999999999"},
                   {"access_token": SecretEdit("set", "EAAnewtoken0000000000")})
    current = store.get(record.id)
    assert current.version == 2
    assert current.values["app_id"] == "6543210987654321"
    assert current.values["waba_id"] == VALID["waba_id"]
    assert store.secrets.get(current.refs["access_token"]) == TOKEN  # keyring untouched too


def test_saving_a_deleted_record_says_so(store: AccountStore) -> None:
    """A record deleted elsewhere is reported as deleted, not silently recreated."""
    record = store.create(VALID, SECRETS)
    store.delete(record.id)
    with pytest.raises(ConflictError, match="deleted elsewhere") as info:
        store.save(record.id, record.version, record.values, {})
    assert info.value.deleted


def test_version_race_inside_the_write_keeps_the_old_secret(store: AccountStore) -> None:
    """If the row changes between load and write, new secrets are rolled back in the keyring."""
    record = store.create(VALID, SECRETS)
    with store.engine.begin() as conn:  # another console bumps the version behind our back
        conn.execute(sa.text("UPDATE channel_account SET version = version + 1"))
    stale = store.get(record.id)
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE channel_account SET version = version + 1"))
    with pytest.raises(ConflictError):
        store._write(stale, stale.uid, stale.values,
                     {"access_token": SecretEdit("set", "EAAreplacement000000000")},
                     {k: v for k, v in stale.refs.items() if v})
    assert store.secrets.get(stale.refs["access_token"]) == TOKEN


def test_names_are_unique_ignoring_case(store: AccountStore) -> None:
    """A second account with the same name (any case) gets an inline account-name error."""
    store.create(VALID, SECRETS)
    with pytest.raises(ValidationFailed) as info:
        store.create({**VALID, "account_name": "MAIN CAMPUS"}, SECRETS)
    assert info.value.issues[-1].key == "account_name"
    assert "already used" in info.value.issues[-1].message


def test_rename_and_list(store: AccountStore) -> None:
    """Rename changes the name only; the list is sorted by name and marks sandbox accounts."""
    a = store.create(VALID, SECRETS)
    store.create({**VALID, "account_name": "Alpha sandbox", "sandbox": True,
                  "waba_id": "100000000000001", "phone_number_id": "200000000000002",
                  "app_id": "300000000000003"},
                 {"access_token": SecretEdit("set", "SANDBOX-token-1")})
    renamed = store.rename(a.id, a.version, "Zulu campus")
    assert renamed.values["waba_id"] == VALID["waba_id"]
    assert [(s.name, s.sandbox) for s in store.list_accounts()] == [
        ("Alpha sandbox", True), ("Zulu campus", False)]


def test_secret_set_clear_and_env(store: AccountStore, memory_keyring, monkeypatch) -> None:
    """Set stores in keyring, env keeps a reference only, clear forgets the keyring entry."""
    record = store.create(VALID, SECRETS)
    monkeypatch.setenv("WA_TOKEN", "EAAfromenvironment000000")
    saved = store.save(record.id, record.version, record.values, {
        "access_token": SecretEdit("env", "WA_TOKEN"),
        "webhook_verify_token": SecretEdit("clear"),
    })
    assert saved.refs["access_token"] == CredentialRef("env", "WA_TOKEN")
    assert saved.refs["webhook_verify_token"] is None
    assert store.secrets.get(saved.refs["access_token"]) == "EAAfromenvironment000000"
    assert sorted(user.rsplit("/", 1)[1] for _, user in memory_keyring.entries) == ["app_secret"]


def test_env_reference_with_bad_name_is_a_field_error(store: AccountStore) -> None:
    """An invalid environment variable name is reported on its field only."""
    with pytest.raises(ValidationFailed) as info:
        store.create(VALID, {**SECRETS, "access_token": SecretEdit("env", "1BAD NAME")})
    assert [(i.key, i.message) for i in info.value.issues] == [(
        "access_token", "Access token: not an environment variable name: use letters, digits "
        "and _, not starting with a digit")]


def test_verify_token_equal_to_stored_access_token_is_caught(store: AccountStore) -> None:
    """The cross-check also sees secrets that are kept, not retyped."""
    record = store.create(VALID, SECRETS)
    with pytest.raises(ValidationFailed) as info:
        store.save(record.id, record.version, record.values,
                   {"webhook_verify_token": SecretEdit("set", TOKEN)})
    assert info.value.issues[0].key == "webhook_verify_token"
    assert "the same as the access token" in info.value.issues[0].message


def test_delete_forgets_keyring_secrets(store: AccountStore, memory_keyring) -> None:
    """Deleting an account removes the row and its keyring entries."""
    record = store.create(VALID, SECRETS)
    store.delete(record.id)
    assert table_rows(store) == []
    assert memory_keyring.entries == {}


def test_export_import_round_trip(store: AccountStore) -> None:
    """An export carries references only and imports into an equal account."""
    record = store.create(VALID, SECRETS)
    doc = store.export(record.id)
    assert TOKEN not in repr(doc) and APP_SECRET not in repr(doc) and VERIFY not in repr(doc)
    assert doc["credentials"]["access_token"] == str(record.refs["access_token"])
    doc["account"]["account_name"] = "Imported copy"
    imported = store.import_document(doc)
    assert {k: v for k, v in imported.values.items() if k != "account_name"} == {
        k: v for k, v in record.values.items() if k != "account_name"}
    assert imported.refs == record.refs


def test_import_reports_every_problem_at_once(store: AccountStore) -> None:
    """A broken import lists all its problems and creates nothing."""
    record = store.create(VALID, SECRETS)
    doc = store.export(record.id)
    doc["account"].update(waba_id="abc", graph_api_version="23.0", colour="blue")
    doc["credentials"]["access_token"] = "not-a-ref"
    with pytest.raises(ValidationFailed) as info:
        store.import_document(doc)
    keys = sorted(i.key for i in info.value.issues if i.is_error)
    assert keys == ["", "access_token", "account_name", "graph_api_version", "waba_id"]
    assert len(store.list_accounts()) == 1


def test_no_keyring_gives_the_fix_and_stores_nothing(db_url: str, open_db, no_keyring) -> None:
    """With the fail backend, saving a secret explains how to fix it and leaves no row."""
    store = AccountStore(open_db(db_url), SecretStore())
    assert store.secrets.check_keyring() == "no keyring backend was found"
    with pytest.raises(KeyringUnavailable) as info:
        store.create(VALID, SECRETS)
    message = str(info.value)
    assert "Secret Service" in message and "PYTHON_KEYRING_BACKEND" in message
    assert "never written to a file" in message
    assert TOKEN not in message
    assert table_rows(store) == []


def test_session_memory_keeps_secrets_until_quit(db_url: str, open_db, no_keyring) -> None:
    """'Keep for this session only' stores session references; a new session finds none."""
    engine = open_db(db_url)
    store = AccountStore(engine, SecretStore())
    store.secrets.use_session_memory()
    record = store.create(VALID, SECRETS)
    assert record.refs["access_token"].scheme == "session"
    assert store.secrets.get(record.refs["access_token"]) == TOKEN
    assert AccountStore(engine, SecretStore()).secrets.get(record.refs["access_token"]) is None


def test_db_url_precedence(monkeypatch, tmp_path) -> None:
    """--db beats $WA_CONSOLE_DB_URL, which beats the SQLite file in the user data dir."""
    assert resolve_db_url().startswith("sqlite:///")
    assert resolve_db_url().endswith("wa-console/wa-console.db")
    monkeypatch.setenv("WA_CONSOLE_DB_URL", "sqlite:///from-env.db")
    assert resolve_db_url() == "sqlite:///from-env.db"
    assert resolve_db_url("sqlite:///from-cli.db") == "sqlite:///from-cli.db"


def test_schema_head_constant_is_alembics_head() -> None:
    """The start-up shortcut that skips Alembic knows the real newest migration."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from wa_console.store.db import MIGRATIONS_DIR, SCHEMA_HEAD

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_heads() == [SCHEMA_HEAD]


def test_unopenable_databases_say_why(tmp_path) -> None:
    """Bad URLs, unreachable servers and missing drivers become one clear, password-free error."""
    from wa_console.store.db import DatabaseUnavailable, open_database

    with pytest.raises(DatabaseUnavailable, match="is not a database URL"):
        open_database("not a url")
    with pytest.raises(DatabaseUnavailable, match=r"could not be opened") as info:
        open_database("postgresql+psycopg://admin:hunter2@127.0.0.1:1/wa?connect_timeout=2")
    assert "hunter2" not in str(info.value) and "admin:***@127.0.0.1:1" in str(info.value)
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatabaseUnavailable, match="could not be created"):
        open_database(f"sqlite:///{tmp_path}/file/db.sqlite")


def test_every_schema_field_has_its_column() -> None:
    """Storage is driven by the schema: each field has a column named by its key (or key_ref)."""
    from wa_console.core.schema import CHANNEL_FIELDS
    from wa_console.store.models import ChannelAccount, column_name

    columns = set(ChannelAccount.__table__.columns.keys())
    assert {column_name(spec) for spec in CHANNEL_FIELDS} <= columns
    assert {c for c in columns if c.endswith("_ref")} == {
        f"{spec.key}_ref" for spec in CHANNEL_FIELDS if spec.secret}
