"""tickets, suggestions and linked articles

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:02:48.746419
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=120), nullable=False),
    sa.Column('channel', sa.Enum('email', 'chat', 'form', 'social', 'phone', name='channelkind', native_enum=False, length=16), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('customer_email', sa.String(length=254), nullable=False),
    sa.Column('order_number', sa.String(length=64), nullable=False),
    sa.Column('inquiry_type', sa.String(length=20), nullable=False),
    sa.Column('status', sa.Enum('new', 'open', 'waiting', 'solved', 'closed', name='ticketstatus', native_enum=False, length=16), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('suggestion_confident', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('first_response_at', sa.DateTime(), nullable=True),
    sa.Column('solved_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_tickets_assignee_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('external_id', name=op.f('uq_tickets_external_id'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_created_at', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_customer_email'), ['customer_email'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_order_number'), ['order_number'], unique=False)

    op.create_table('ticket_article_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('import', 'agent', name='linksource', native_enum=False, length=16), nullable=False),
    sa.Column('linked_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_ticket_article_links_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['linked_by_id'], ['users.id'], name=op.f('fk_ticket_article_links_linked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_article_links_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_article_links')),
    sa.UniqueConstraint('ticket_id', 'article_id', name='uq_ticket_article_links_pair')
    )
    with op.batch_alter_table('ticket_article_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_article_links_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_article_links_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticket_suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_ticket_suggestions_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_suggestions_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_suggestions')),
    sa.UniqueConstraint('ticket_id', 'article_id', name='uq_ticket_suggestions_pair')
    )
    with op.batch_alter_table('ticket_suggestions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_suggestions_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ticket_suggestions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_suggestions_ticket_id'))

    op.drop_table('ticket_suggestions')
    with op.batch_alter_table('ticket_article_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_article_links_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_article_links_article_id'))

    op.drop_table('ticket_article_links')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_order_number'))
        batch_op.drop_index(batch_op.f('ix_tickets_customer_email'))
        batch_op.drop_index('ix_tickets_created_at')

    op.drop_table('tickets')
