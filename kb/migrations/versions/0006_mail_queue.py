"""outgoing mail queue (mail leaves from the worker, never from a web request)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outgoing_mails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('sender', sa.String(length=320), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=1000), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('message_id', sa.String(length=250), nullable=False),
    sa.Column('in_reply_to', sa.String(length=250), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('ticket_message_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('queued', 'sent', 'failed', name='mailstatus', native_enum=False, length=16),
              nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('failed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_outgoing_mails_ticket_id_tickets'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_message_id'], ['ticket_messages.id'],
                            name=op.f('fk_outgoing_mails_ticket_message_id_ticket_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_mails')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outgoing_mails_message_id'))
    )
    with op.batch_alter_table('outgoing_mails', schema=None) as batch_op:
        batch_op.create_index('ix_outgoing_mails_status_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outgoing_mails_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outgoing_mails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outgoing_mails_ticket_id'))
        batch_op.drop_index('ix_outgoing_mails_status_due')
    op.drop_table('outgoing_mails')
