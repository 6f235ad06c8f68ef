"""Cash receipt (현금영수증) requests and cancellations, waiting to be issued per enterprise; an
enterprise's mandatory-issue trade and whose card terminal takes its card payments; the face
value and count of the vouchers a payment took.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 01:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'cash_receipts',
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('kind', sa.String(8), nullable=False),
        sa.Column('sale_id', sa.String(36), nullable=False),
        sa.Column('receipt_no', sa.String(32), nullable=False),
        sa.Column('return_id', sa.String(36), nullable=True),
        sa.Column('cancels', sa.String(36), nullable=True),
        sa.Column('enterprise_id', sa.String(36), nullable=True),
        sa.Column('enterprise_name', sa.Text(), nullable=False),
        sa.Column('bizno', sa.String(12), nullable=True),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('identity_kind', sa.String(8), nullable=False),
        sa.Column('identity', sa.String(19), nullable=False),
        sa.Column('purpose', sa.String(10), nullable=False),
        sa.Column('voluntary', sa.Boolean(), nullable=False),
        sa.Column('state', sa.String(10), nullable=False),
        sa.Column('approval_no', sa.Text(), nullable=True),
        sa.Column('business_day', sa.String(10), nullable=False),
        sa.Column('due_day', sa.String(10), nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.Text(), nullable=False),
        sa.Column('staff_name', sa.Text(), nullable=True),
        sa.CheckConstraint('amount > 0', name=op.f('ck_cash_receipts_amount_positive')),
        sa.CheckConstraint("kind IN ('issue', 'cancel')", name=op.f('ck_cash_receipts_kind_known')),
        sa.CheckConstraint("state IN ('to_issue', 'issued', 'cancelled')",
                           name=op.f('ck_cash_receipts_state_known')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cash_receipts')),
    )
    op.create_index('ix_cash_receipts_sale_id', 'cash_receipts', ['sale_id'])
    op.create_index('ix_cash_receipts_state', 'cash_receipts', ['state'])
    with op.batch_alter_table('enterprises') as batch:
        batch.add_column(sa.Column('cash_receipt_mandatory', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('card_terminal', sa.String(8), nullable=False,
                                   server_default='stall'))
        batch.create_check_constraint('card_terminal_known', "card_terminal IN ('own', 'stall')")
    op.add_column('payments', sa.Column('face_value', sa.Integer(), nullable=True))
    op.add_column('payments', sa.Column('count', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payments') as batch:
        batch.drop_column('count')
        batch.drop_column('face_value')
    with op.batch_alter_table('enterprises') as batch:
        batch.drop_constraint('ck_enterprises_card_terminal_known', type_='check')
        batch.drop_column('card_terminal')
        batch.drop_column('cash_receipt_mandatory')
    op.drop_index('ix_cash_receipts_state', table_name='cash_receipts')
    op.drop_index('ix_cash_receipts_sale_id', table_name='cash_receipts')
    op.drop_table('cash_receipts')
