"""Database location, engine creation and schema upgrades (Alembic, run on every start)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # SQLAlchemy is imported when a database is opened, not at start-up
    from sqlalchemy import Engine

DB_URL_ENV: Final = "WA_CONSOLE_DB_URL"
APP_NAME: Final = "wa-console"
MIGRATIONS_DIR: Final = Path(__file__).with_name("migrations")


class DatabaseUnavailable(Exception):
    """The database cannot be opened or migrated; the message says where and why."""


def safe_url(url: str) -> str:
    """A database URL without its password, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url


def data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def resolve_db_url(cli_value: str | None = None) -> str:
    """`--db` wins over $WA_CONSOLE_DB_URL, which wins over the SQLite file in the data dir."""
    if cli_value:
        return cli_value
    if os.environ.get(DB_URL_ENV):
        return os.environ[DB_URL_ENV]
    return f"sqlite:///{data_dir() / 'wa-console.db'}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the webhook receiver write while the console reads; busy_timeout waits for locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file's folder is created on first use."""
    from sqlalchemy import create_engine, event

    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:":
            folder = Path(database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseUnavailable(
                    f"The database folder {folder} could not be created ({exc.strerror}). "
                    "Choose another location with --db or WA_CONSOLE_DB_URL."
                ) from None
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


# The newest migration's revision. When the database is already there, Alembic (~130 ms of
# imports) is not loaded at all; tests/store checks this equals Alembic's head.
SCHEMA_HEAD: Final = "0005"


def schema_revision(engine: Engine) -> str | None:
    """The database's Alembic revision, or None for a database without our tables."""
    from sqlalchemy import inspect, text

    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it already is)."""
    if schema_revision(engine) == SCHEMA_HEAD:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_database(url: str) -> Engine:
    """An engine on an up-to-date schema; DatabaseUnavailable (with the reason) otherwise."""
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:
        engine = make_engine(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(f"'{safe_url(url)}' is not a database URL: {exc}") from None
    try:
        upgrade(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise DatabaseUnavailable(
            f"The database at {safe_url(url)} could not be opened: {reason}"
        ) from None
    except ModuleNotFoundError as exc:  # e.g. psycopg for PostgreSQL not installed
        raise DatabaseUnavailable(
            f"The driver for {safe_url(url)} is not installed ({exc.name}); for PostgreSQL "
            "install wa-console[postgres]"
        ) from None
    return engine
