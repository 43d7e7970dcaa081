"""Alembic environment: the app passes its open connection in `config.attributes`."""

from alembic import context

from wa_console.store.models import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:  # `alembic` command line: build an engine from the config URL
        from wa_console.store.db import make_engine, resolve_db_url

        url = context.config.get_main_option("sqlalchemy.url") or resolve_db_url()
        with make_engine(url).begin() as conn:
            context.configure(connection=conn, target_metadata=target_metadata,
                              render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
        return
    # render_as_batch: SQLite cannot ALTER most things; batch mode copies the table instead.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
