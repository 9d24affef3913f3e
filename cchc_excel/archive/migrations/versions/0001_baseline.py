"""The store of release 0.1.0, before migrations: files, submissions and the tables of their contents.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

CASE_KEYS = ("online", "direct", "carried", "before", "on_time", "late", "pending_in", "pending_late")


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("first_name", sa.Text, nullable=False),
        sa.Column("archived_path", sa.Text, nullable=False),
        sa.Column("first_seen", sa.DateTime, nullable=False),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("file_id", sa.Integer, sa.ForeignKey("files.id"), nullable=False, unique=True),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(10)),
        sa.Column("unit_code", sa.String(40), index=True),
        sa.Column("period_code", sa.String(10), index=True),
        sa.Column("plan_id", sa.String(80)),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("is_current", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("imported_at", sa.DateTime, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),
        sa.Column("warnings", sa.Integer, nullable=False),
        sa.Column("fingerprint", sa.String(64)),
        sa.Column("info_json", sa.Text),
        sa.Column("problems_json", sa.Text, nullable=False),
    )
    op.create_table(
        "indicator_values",
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False, index=True),
        sa.Column("indicator", sa.String(40), nullable=False),
        sa.Column("numerator", sa.Float), sa.Column("denominator", sa.Float), sa.Column("value", sa.Float),
        sa.Column("weight", sa.Float), sa.Column("answer", sa.Text), sa.Column("done_date", sa.String(10)),
        sa.Column("note", sa.Text), sa.Column("sheet", sa.Text), sa.Column("cell", sa.String(12)),
        sa.UniqueConstraint("submission_id", "indicator"),
    )
    op.create_table(
        "case_rows",
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False, index=True),
        sa.Column("field", sa.Text, nullable=False), sa.Column("row", sa.Integer),
        *[sa.Column(k, sa.Integer, nullable=False) for k in CASE_KEYS],
    )
    op.create_table(
        "task_status",
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False, index=True),
        sa.Column("task", sa.String(60), nullable=False), sa.Column("status", sa.Text),
        sa.Column("done_date", sa.String(10)), sa.Column("document", sa.Text), sa.Column("note", sa.Text),
    )
    op.create_table(
        "texts",
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for name in ("texts", "task_status", "case_rows", "indicator_values", "submissions", "files"):
        op.drop_table(name)
