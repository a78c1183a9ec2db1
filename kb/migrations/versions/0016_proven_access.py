"""proof before trust: order links mailed to guests, confirmed inquiry senders, deferred reset requests

- ``order_access_links``: a guest who found an order by its number and e-mail may look at it,
  but changes it (address, lines, cancel, returns) only after opening a single-use link mailed
  to the order's address; only the link's SHA-256 is stored.
- ``tickets.sender_confirmed_at``: when the inquiry's sender proved the address (a logged-in
  account with a confirmed address, or the link in the confirmation mail). Only then does the
  inquiry appear under that address's "My messages". Inquiries of logged-in customers count as
  confirmed; the rest start unconfirmed.
- ``account_mail_requests``: a password-reset request as typed, handled by the worker, so that
  the answer does the same work whether or not the address has an account.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 03:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'order_access_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_access_links_order_id_orders'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_access_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_order_access_links_token_hash')),
    )
    op.create_index(op.f('ix_order_access_links_order_id'), 'order_access_links', ['order_id'], unique=False)
    op.create_table(
        'account_mail_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('base_url', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_mail_requests')),
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender_confirmed_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE tickets SET sender_confirmed_at = created_at WHERE user_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('sender_confirmed_at')
    op.drop_table('account_mail_requests')
    op.drop_index(op.f('ix_order_access_links_order_id'), table_name='order_access_links')
    op.drop_table('order_access_links')
