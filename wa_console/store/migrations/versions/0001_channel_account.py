"""channel_account: the WhatsApp settings page

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_account",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uid", sa.String(36), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("account_name", sa.String(80), nullable=False, unique=True),
        sa.Column("waba_id", sa.String(20)),
        sa.Column("phone_number_id", sa.String(20)),
        sa.Column("display_phone_number", sa.String(20)),
        sa.Column("app_id", sa.String(20)),
        sa.Column("app_secret_ref", sa.String(300)),
        sa.Column("access_token_ref", sa.String(300)),
        sa.Column("webhook_callback_url", sa.Text()),
        sa.Column("webhook_verify_token_ref", sa.String(300)),
        sa.Column("graph_api_version", sa.String(10), nullable=False),
        sa.Column("sandbox", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("channel_account")
