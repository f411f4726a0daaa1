"""orders keep the customer's idempotency key, unique per customer, and a digest of the request

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 15:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('request_digest', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_orders_customer_idempotency_key', ['customer_id', 'idempotency_key'])


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint('uq_orders_customer_idempotency_key', type_='unique')
        batch_op.drop_column('request_digest')
        batch_op.drop_column('idempotency_key')
