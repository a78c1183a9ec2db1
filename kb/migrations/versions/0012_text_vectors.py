"""sentence-encoder vectors of articles and inquiries (derived data for the suggester)

One row per (encoder, exact text), keyed by a hash of both: a changed text gets a new
vector. Float16 bytes; rows may be dropped at any time and are computed again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 03:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'text_vectors',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('encoder', sa.String(length=80), nullable=False),
        sa.Column('vector', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_text_vectors')),
    )
    op.create_index(op.f('ix_text_vectors_encoder'), 'text_vectors', ['encoder'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_text_vectors_encoder'), table_name='text_vectors')
    op.drop_table('text_vectors')
