"""e-mail keeps its whole body apart from the new text, the quoted thread and the signature

``body`` stays what everything reads (now the customer's new words); ``original_body`` keeps
the mail as it came. Existing rows are split by ``neuvo mail reparse`` (once, idempotently):
the migration only adds the columns, so an upgrade is fast on a large inbox.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 03:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_COLUMNS = ('original_body', 'quoted', 'signature')


def upgrade() -> None:
    for table in ('tickets', 'ticket_messages'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in _COLUMNS:
                batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    for table in ('tickets', 'ticket_messages'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in _COLUMNS:
                batch_op.drop_column(name)
