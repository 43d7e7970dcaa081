"""SQLAlchemy models. Columns of the channel account are named after the schema keys."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
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
    provider_account: Mapped[str | None] = mapped_column(String(80))
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


# --- senders, test recipients, webhooks, test sends and proofs (issue 7) ------------------------


class AccountPreference(Base):
    """A per-account console preference that is not a channel setting (e.g. the opt-out
    keywords); `value` is JSON. Read and written through `store.preferences`."""

    __tablename__ = "account_preference"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict | list | str | int | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Sender(Base):
    """A sender: one synced phone number of the account's WABA the platform sends from.

    `sender_value` says which identity the platform uses: "display_number" (the approved
    display number) or "phone_number_id". Validity is computed against the synced phone numbers
    (core/senders.py), never stored, so a later sync can invalidate a sender."""

    __tablename__ = "sender"
    __table_args__ = (UniqueConstraint("account_id", "phone_meta_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(80))
    phone_meta_id: Mapped[str] = mapped_column(String(32))
    display_phone_number: Mapped[str | None] = mapped_column(String(40))
    sender_value: Mapped[str] = mapped_column(String(20), default="display_number")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TestRecipient(Base):
    """An internal test phone (E.164). Its consent state is the latest ConsentEvent; the
    columns below cache it for quick reads and are written in the same transaction."""

    __tablename__ = "test_recipient"
    __table_args__ = (UniqueConstraint("account_id", "phone"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(20))  # E.164, "+" and digits
    label: Mapped[str] = mapped_column(String(80), default="")
    opted_in: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConsentEvent(Base):
    """One consent change of a test recipient, kept forever: opt-in (who recorded it, how) or
    opt-out (by the admin, or by an inbound STOP with the message's wamid)."""

    __tablename__ = "consent_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("test_recipient.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "opt_in" | "opt_out"
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(120))  # admin name, or "inbound message"
    method: Mapped[str] = mapped_column(String(60))  # "written consent", "reply keyword", ...
    detail: Mapped[str | None] = mapped_column(Text)  # e.g. the STOP message's wamid and text


class WebhookEvent(Base):
    """One accepted webhook delivery (a POST body), raw and parsed. Meta retries deliver the
    same body again; `body_sha256` makes a retry a no-op."""

    __tablename__ = "webhook_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_account.id", ondelete="SET NULL"), index=True)
    body_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    raw_body: Mapped[str] = mapped_column(Text)
    parsed: Mapped[list | None] = mapped_column(JSON)  # one summary dict per typed event
    signature_valid: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(20))  # "receiver" | "import"
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    simulated: Mapped[bool] = mapped_column(Boolean)


class OutboundMessage(Base):
    """A message sent from one of the account's numbers: by a test send (then `client_ref` is
    set before the request leaves, and `wamid` once Meta answers) or first seen in a status
    webhook (platform sends). `status` is the latest by rank (sent < delivered < read; failed
    is final), so a late "sent" never overwrites "delivered"."""

    __tablename__ = "outbound_message"
    # Delivery health reads an account's messages by period.
    __table_args__ = (Index("ix_outbound_message_account_created", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE"), index=True)
    wamid: Mapped[str | None] = mapped_column(String(200), unique=True)
    client_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone_number_id: Mapped[str | None] = mapped_column(String(32))
    recipient: Mapped[str | None] = mapped_column(String(20), index=True)  # wa_id, digits
    template_name: Mapped[str | None] = mapped_column(String(512))
    template_language: Mapped[str | None] = mapped_column(String(20))
    payload: Mapped[dict | None] = mapped_column(JSON)  # the exact POST /messages body
    # "sending" | "outcome_unknown" | "rejected" (Meta refused the request) | a webhook status
    status: Mapped[str] = mapped_column(String(20))
    status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    errors: Mapped[list | None] = mapped_column(JSON)  # of the failed status / refused request
    # The first error's Meta code of a failed message (delivery health groups by it in SQL).
    error_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    simulated: Mapped[bool] = mapped_column(Boolean)


class MessageStatus(Base):
    """One status callback for a wamid (keyed by wamid, not by row, because a callback can
    arrive before the send's response). Duplicates are ignored by the unique key."""

    __tablename__ = "message_status"
    __table_args__ = (UniqueConstraint("wamid", "status", "timestamp"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wamid: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20))
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # Meta's
    recipient: Mapped[str | None] = mapped_column(String(20))
    errors: Mapped[list | None] = mapped_column(JSON)
    pricing: Mapped[dict | None] = mapped_column(JSON)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_event.id", ondelete="SET NULL"))
    signature_valid: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InboundMessage(Base):
    """A message a customer (or the test phone) sent to one of the account's numbers.
    `reply_to_wamid` is the outbound message it answers: from `context.id`, else the latest
    test send to that number within the reply window."""

    __tablename__ = "inbound_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE"), index=True)
    wamid: Mapped[str] = mapped_column(String(200), unique=True)
    phone_number_id: Mapped[str | None] = mapped_column(String(32))
    from_number: Mapped[str] = mapped_column(String(20), index=True)  # wa_id, digits
    type: Mapped[str] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    context_wamid: Mapped[str | None] = mapped_column(String(200))
    reply_to_wamid: Mapped[str | None] = mapped_column(String(200), index=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_event.id", ondelete="SET NULL"))
    signature_valid: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Proof(Base):
    """The end of a guided test send: the verdict and everything it rests on (`record`, the
    exportable JSON: wamid, status events with signature flags, the reply; recipient masked).
    Only a non-simulated proof with verdict "proven" counts as production proof."""

    __tablename__ = "proof"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE"), index=True)
    wamid: Mapped[str | None] = mapped_column(String(200))
    verdict: Mapped[str] = mapped_column(String(20))  # "proven" | "incomplete" | "failed"
    summary: Mapped[str] = mapped_column(Text)
    record: Mapped[dict] = mapped_column(JSON)
    simulated: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- delivery health (issue 8) -----------------------------------------------------------------


class QualityChange(Base):
    """One change of a phone number's or a template's quality signal, from a sync (the value
    differed from the previous sync) or a webhook (phone_number_quality_update,
    message_template_status_update, message_template_quality_update). Kept forever: the quality
    panel shows the history."""

    __tablename__ = "quality_change"
    __table_args__ = (Index("ix_quality_change_subject", "account_id", "subject", "subject_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(10))  # "phone" | "template"
    # phone: the phone number ID (or display number digits when a webhook names only that);
    # template: Meta's template ID (or "name/language" when unknown)
    subject_key: Mapped[str] = mapped_column(String(600))
    subject_name: Mapped[str] = mapped_column(String(600))  # display number / "name (lang)"
    # "quality_rating" | "messaging_limit_tier" | "status" (phone or template) | "quality_score"
    field: Mapped[str] = mapped_column(String(30))
    old_value: Mapped[str | None] = mapped_column(String(60))
    new_value: Mapped[str | None] = mapped_column(String(60))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(10))  # "sync" | "webhook"
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_event.id", ondelete="SET NULL"))
    simulated: Mapped[bool] = mapped_column(Boolean)
