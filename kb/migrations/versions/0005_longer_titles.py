"""longer article titles (long questions used as titles)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:42:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("articles", "article_revisions", "gap_decisions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("title", existing_type=sa.String(length=300), type_=sa.String(length=500),
                                  existing_nullable=False)


def downgrade() -> None:
    for table in ("articles", "article_revisions", "gap_decisions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("title", existing_type=sa.String(length=500), type_=sa.String(length=300),
                                  existing_nullable=False)
