"""what a "not helpful" vote missed, and what a customer wants in exchange

A reader who answers "No" to "Was this article helpful?" may say what was missing;
editors read it on the article's health page. A return resolved by exchange says
what the customer wants instead, so the agent handling it need not ask.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 03:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('article_feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment', sa.String(length=500), server_default='', nullable=False))
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exchange_for', sa.String(length=200), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.drop_column('exchange_for')
    with op.batch_alter_table('article_feedback', schema=None) as batch_op:
        batch_op.drop_column('comment')
