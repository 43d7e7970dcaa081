"""SQLAlchemy models. Columns of the channel account are named after the schema keys."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from wa_console.core.schema import FieldSpec


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


def column_name(spec: FieldSpec) -> str:
    """Where a field lives: its key, or `<key>_ref` (a credential reference) for a secret."""
    return f"{spec.key}_ref" if spec.secret else spec.key


class ChannelAccount(Base):
    """A WhatsApp channel account (the settings page). Secrets are only referenced."""

    __tablename__ = "channel_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Names the keyring entries; unlike the account name it survives renames.
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="whatsapp")
    provider: Mapped[str] = mapped_column(String(40))
    account_name: Mapped[str] = mapped_column(String(80), unique=True)
    waba_id: Mapped[str | None] = mapped_column(String(20))
    phone_number_id: Mapped[str | None] = mapped_column(String(20))
    display_phone_number: Mapped[str | None] = mapped_column(String(20))
    app_id: Mapped[str | None] = mapped_column(String(20))
    app_secret_ref: Mapped[str | None] = mapped_column(String(300))
    access_token_ref: Mapped[str | None] = mapped_column(String(300))
    webhook_callback_url: Mapped[str | None] = mapped_column(Text)
    webhook_verify_token_ref: Mapped[str | None] = mapped_column(String(300))
    graph_api_version: Mapped[str] = mapped_column(String(10))
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False)
    # Optimistic concurrency: every save says which version it edited (see store.accounts).
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
