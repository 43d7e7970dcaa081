"""Storage: SQLAlchemy models, Alembic migrations, repositories and the keyring secret store."""
