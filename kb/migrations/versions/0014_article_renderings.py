"""articles keep their body rendered: sanitised HTML and plain text, made once at save

Pages served the Markdown converted and sanitised on every request (eight conversions
for a category page's excerpts). The columns start empty; `neuvo init` (which runs this
upgrade) and `neuvo reindex` fill them, and until then a page renders the article as before.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 03:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_html', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('body_text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('rendered_from', sa.String(length=100), nullable=True))
        # an article page looks up its translations by their original
        batch_op.create_index('ix_articles_translation_of_id', ['translation_of_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index('ix_articles_translation_of_id')
        batch_op.drop_column('rendered_from')
        batch_op.drop_column('body_text')
        batch_op.drop_column('body_html')
