"""Shared fixtures: headless Qt, an in-memory keyring, fresh databases (SQLite; PostgreSQL too)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

# Before any Qt import: every test, GUI ones included, runs without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring
import pytest
from keyring.backends import fail

from tests.support import postgres
from tests.support.memory_keyring import MemoryKeyring


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if {"qtbot", "qapp"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Every test gets an empty in-memory keyring (never the developer's real one)."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """The backend keyring picks on a headless Linux box without a Secret Service."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """platformdirs/QSettings paths point into a temp home: tests never touch the user's files."""
    home = tmp_path_factory.mktemp("home")
    for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"),
                     ("XDG_STATE_HOME", "state"), ("XDG_CACHE_HOME", "cache")):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("WA_CONSOLE_DB_URL", raising=False)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    try:
        with postgres.server() as url:
            yield url
    except postgres.Unavailable as exc:
        pytest.skip(f"PostgreSQL not available: {exc}")


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'wa-console.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh, empty database: SQLite always, PostgreSQL where a server can be started."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'wa-console.db'}"
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    import sqlalchemy as sa

    name = f"wa_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def open_db() -> Iterator:
    """Open (and migrate) databases; every engine is disposed when the test ends."""
    from wa_console.store.db import open_database

    engines = []

    def _open(url: str):  # type: ignore[no-untyped-def]
        engine = open_database(url)
        engines.append(engine)
        return engine

    yield _open
    for engine in engines:
        engine.dispose()
