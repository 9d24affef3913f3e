"""The office web page's accounts and journal of actions (`cchc serve`, `cchc user add`): two tables in the
store, so backups hold them. Stores where the web page already created them on first use (before this
revision) keep their rows: the tables are created only when missing.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "web_users" not in existing:
        op.create_table(
            "web_users",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(40), nullable=False, unique=True),
            sa.Column("role", sa.String(10), nullable=False),
            sa.Column("password_hash", sa.Text, nullable=False),
            sa.Column("created_at", sa.DateTime, nullable=False),
        )
    if "web_audit" not in existing:
        op.create_table(
            "web_audit",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("at", sa.DateTime, nullable=False),
            sa.Column("user", sa.String(60), nullable=False),
            sa.Column("action", sa.String(40), nullable=False),
            sa.Column("unit_code", sa.String(40)),
            sa.Column("period_code", sa.String(10)),
            sa.Column("detail", sa.Text),
        )
        op.create_index("ix_web_audit_unit_code", "web_audit", ["unit_code"])


def downgrade() -> None:
    op.drop_table("web_audit")
    op.drop_table("web_users")
