"""orders keep the customer's reference, product and instructions; GET Images' index

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 16:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_image_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('product_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('instructions', sa.Text(), nullable=True))
        # The new index starts with customer_id, so it serves every lookup the old one did.
        batch_op.drop_index('ix_orders_customer_id')
        batch_op.create_index('ix_orders_customer_created', ['customer_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_orders_customer_image_id', ['customer_id', 'customer_image_id'], unique=False)


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_customer_image_id')
        batch_op.drop_index('ix_orders_customer_created')
        batch_op.create_index('ix_orders_customer_id', ['customer_id'], unique=False)
        batch_op.drop_column('instructions')
        batch_op.drop_column('product_id')
        batch_op.drop_column('customer_image_id')
