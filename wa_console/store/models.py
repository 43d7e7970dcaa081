"""SQLAlchemy models. Columns of the channel account are named after the schema keys."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
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


# --- what Verify and the syncs learn from Meta (issue 5) -----------------------------------------
# Every row carries `simulated`: data that came from the sandbox emulator is never mistaken for
# production state.


class WabaSnapshot(Base):
    """The WhatsApp Business Account's identity as of the last account sync."""

    __tablename__ = "waba_snapshot"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE"), primary_key=True)
    waba_id: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(200))
    account_review_status: Mapped[str | None] = mapped_column(String(40))
    business_verification_status: Mapped[str | None] = mapped_column(String(40))
    message_template_namespace: Mapped[str | None] = mapped_column(String(100))
    timezone_id: Mapped[str | None] = mapped_column(String(20))
    currency: Mapped[str | None] = mapped_column(String(3))
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    simulated: Mapped[bool] = mapped_column(Boolean)


class PhoneNumber(Base):
    """A phone number of the account's WABA as of the last account sync."""

    __tablename__ = "phone_number"
    __table_args__ = (UniqueConstraint("account_id", "meta_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE"), index=True)
    meta_id: Mapped[str] = mapped_column(String(32))
    display_phone_number: Mapped[str | None] = mapped_column(String(40))
    verified_name: Mapped[str | None] = mapped_column(String(200))
    name_status: Mapped[str | None] = mapped_column(String(40))
    code_verification_status: Mapped[str | None] = mapped_column(String(40))
    quality_rating: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str | None] = mapped_column(String(40))
    messaging_limit_tier: Mapped[str | None] = mapped_column(String(40))
    throughput_level: Mapped[str | None] = mapped_column(String(40))
    platform_type: Mapped[str | None] = mapped_column(String(40))
    account_mode: Mapped[str | None] = mapped_column(String(20))
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    simulated: Mapped[bool] = mapped_column(Boolean)


class MessageTemplate(Base):
    """A message template as Meta has it (synced). Local drafts arrive with the template studio;
    a template that disappears from Meta is marked `removed_at`, never deleted."""

    __tablename__ = "message_template"
    __table_args__ = (UniqueConstraint("account_id", "meta_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE"), index=True)
    meta_id: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(20))
    status: Mapped[str | None] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(40))
    parameter_format: Mapped[str | None] = mapped_column(String(20))
    components: Mapped[list | None] = mapped_column(JSON)
    rejected_reason: Mapped[str | None] = mapped_column(String(80))
    quality_score: Mapped[str | None] = mapped_column(String(20))
    previous_category: Mapped[str | None] = mapped_column(String(40))
    # sha256 of Meta's JSON for this template: a re-sync rewrites only rows whose hash changed.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    simulated: Mapped[bool] = mapped_column(Boolean)
    # --- the template studio's draft (issue 6; store/drafts.py) --------------------------------
    # A row is a draft when `draft_updated_at` is set. The sync writes only Meta's columns above
    # and never these; name, language, category and parameter_format are shared with Meta's state.
    event_key: Mapped[str | None] = mapped_column(String(120))
    sender_account: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text)
    header_format: Mapped[str | None] = mapped_column(String(20))
    header_text: Mapped[str | None] = mapped_column(Text)
    header_handle: Mapped[str | None] = mapped_column(Text)
    footer: Mapped[str | None] = mapped_column(Text)
    buttons: Mapped[list | None] = mapped_column(JSON)
    header_keys: Mapped[list | None] = mapped_column(JSON)
    body_keys: Mapped[list | None] = mapped_column(JSON)
    body: Mapped[str | None] = mapped_column(Text)
    samples: Mapped[dict | None] = mapped_column(JSON)
    draft_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Optimistic concurrency of the draft, like channel_account's (status writes do not bump it).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class SyncRun(Base):
    """One run of a sync (account or templates): when, how it ended, what it counted."""

    __tablename__ = "sync_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "account" | "templates"
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(20))  # "ok" | "failed" | "cancelled"
    counts: Mapped[dict | None] = mapped_column(JSON)
    detail: Mapped[str | None] = mapped_column(Text)
    simulated: Mapped[bool] = mapped_column(Boolean)


class CheckResult(Base):
    """One check of the last Verify provider run (or a later webhook/sender check)."""

    __tablename__ = "check_result"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    outcome: Mapped[str] = mapped_column(String(20))  # ok | failed | warning | unknown
    detail: Mapped[str] = mapped_column(Text)
    fix: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[dict | None] = mapped_column(JSON)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    simulated: Mapped[bool] = mapped_column(Boolean)


class FeatureToggle(Base):
    """An admin's switch for a platform feature (Inbox, Campaigns, ...); gated by readiness."""

    __tablename__ = "feature_toggle"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE"), primary_key=True)
    feature: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
