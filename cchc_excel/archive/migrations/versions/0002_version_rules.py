"""The rules of versions as database constraints: version numbers unique per (unit, period), at most one
current version per (unit, period). Stores of 0.1.0 written by simultaneous imports may break both rules;
they are repaired first, without removing a row: duplicate version numbers of a unit and period are
renumbered in order of arrival, and of several current versions only the latest received stays current.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

submissions = sa.table(
    "submissions", sa.column("id", sa.Integer), sa.column("unit_code", sa.String), sa.column("period_code", sa.String),
    sa.column("version", sa.Integer), sa.column("is_current", sa.Boolean), sa.column("received_at", sa.DateTime),
)


def _repair(conn: sa.engine.Connection) -> None:
    s = submissions.c
    rows = conn.execute(sa.select(s.id, s.unit_code, s.period_code, s.version, s.is_current, s.received_at)
                        .where(s.unit_code.is_not(None), s.period_code.is_not(None))
                        .order_by(s.unit_code, s.period_code, s.version, s.received_at, s.id)).all()
    groups: dict[tuple[str, str], list[sa.Row]] = {}
    for row in rows:
        groups.setdefault((row.unit_code, row.period_code), []).append(row)
    for group in groups.values():
        if len({r.version for r in group}) < len(group):
            for number, row in enumerate(group, start=1):
                if row.version != number:
                    conn.execute(sa.update(submissions).where(s.id == row.id).values(version=number))
        current = [r for r in group if r.is_current]
        if len(current) > 1:
            keep = max(current, key=lambda r: (r.received_at, r.id))
            for row in current:
                if row.id != keep.id:
                    conn.execute(sa.update(submissions).where(s.id == row.id).values(is_current=False))


def upgrade() -> None:
    _repair(op.get_bind())
    op.create_index("uq_submissions_version", "submissions", ["unit_code", "period_code", "version"], unique=True)
    op.create_index("uq_submissions_current", "submissions", ["unit_code", "period_code"], unique=True,
                    sqlite_where=sa.text("is_current"), postgresql_where=sa.text("is_current"))


def downgrade() -> None:
    op.drop_index("uq_submissions_current", "submissions")
    op.drop_index("uq_submissions_version", "submissions")
