"""The start-up snapshot reads the same account list as the store, or steps aside."""

from __future__ import annotations

import sqlite3

from wa_console.core.credentials import SecretEdit
from wa_console.store.accounts import AccountStore
from wa_console.store.secrets import SecretStore
from wa_console.store.snapshot import read_account_list, sqlite_path

BASE = {"waba_id": "102290129340398", "phone_number_id": "106540352242922",
        "display_phone_number": "+447911123456", "app_id": "1234567890123456"}


def test_snapshot_equals_the_store_list(sqlite_url: str, open_db) -> None:
    """Same rows, same order (case-insensitive), same sandbox flags as list_accounts()."""
    store = AccountStore(open_db(sqlite_url), SecretStore())
    for name, sandbox in (("beta", False), ("Alpha", True), ("gamma", False), ("Delta", True)):
        store.create({**BASE, "account_name": name, "sandbox": sandbox},
                     {"access_token": SecretEdit("env", "WA_TOKEN")})
    assert read_account_list(sqlite_url) == store.list_accounts()
    assert [s.name for s in read_account_list(sqlite_url)] == ["Alpha", "beta", "Delta", "gamma"]


def test_snapshot_steps_aside_when_it_cannot_be_sure(sqlite_url: str, open_db, tmp_path) -> None:
    """Other databases, missing files, unmigrated or older schemas: None, never a guess."""
    assert read_account_list("postgresql+psycopg://u@h/db") is None
    assert read_account_list("sqlite://") is None
    assert read_account_list(f"sqlite:///{tmp_path / 'missing.db'}") is None
    assert read_account_list(f"{sqlite_url}?timeout=5") is None
    plain = tmp_path / "not-ours.db"
    sqlite3.connect(plain).execute("CREATE TABLE t (x)").connection.commit()
    assert read_account_list(f"sqlite:///{plain}") is None
    engine = open_db(sqlite_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    assert read_account_list(sqlite_url) is None


def test_sqlite_path_parsing(tmp_path) -> None:
    """Only plain sqlite:///<file> URLs name a file the snapshot may read."""
    assert sqlite_path(f"sqlite:///{tmp_path}/a.db") == tmp_path / "a.db"
    assert sqlite_path("sqlite:///relative.db").name == "relative.db"
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("sqlite+pysqlite:///x.db") is None
