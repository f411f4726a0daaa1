"""test orders are flagged; orders keep when they became chargeable, indexed for statements

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 17:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_test', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('billed_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_orders_customer_billed', ['customer_id', 'billed_at'], unique=False)
        batch_op.create_index('ix_orders_developer_billed', ['developer_id', 'billed_at'], unique=False)
    # Orders delivered before this migration were billed at their delivery.
    op.execute("UPDATE orders SET billed_at = delivered_at WHERE delivered_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_developer_billed')
        batch_op.drop_index('ix_orders_customer_billed')
        batch_op.drop_column('billed_at')
        batch_op.drop_column('is_test')
