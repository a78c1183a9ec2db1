"""accounts confirm their e-mail address before they can log in

Orders, invoices and returns are found by the account's address, so an account signed up
with someone else's address must not log in. Staff accounts were made by an admin or the
command line and count as confirmed; existing customer accounts confirm theirs at their
next log-in (a link is mailed on request), or by resetting their password.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 18:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE users SET email_verified_at = created_at WHERE role <> 'customer'")


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_verified_at')
