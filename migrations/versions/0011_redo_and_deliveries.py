"""customers can send a delivered order back for a redo; every delivery keeps its own final

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 17:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redo_count', sa.Integer(), nullable=False, server_default='0'))
    op.create_table(
        'deliveries',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('delivered_at', sa.DateTime(), nullable=False),
        sa.Column('final_path', sa.Text(), nullable=False),
        sa.Column('final_sha256', sa.String(length=64), nullable=False),
        sa.Column('final_svg_path', sa.Text(), nullable=True),
        sa.Column('final_token', sa.String(length=64), nullable=False),
        sa.Column('mask_version', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_deliveries_order_id_orders'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
        sa.UniqueConstraint('order_id', 'number', name=op.f('uq_deliveries_order_id')),
        sa.UniqueConstraint('final_token', name=op.f('uq_deliveries_final_token')),
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliveries_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliveries_delivered_at'), ['delivered_at'], unique=False)
    op.create_table(
        'redo_requests',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('requested_at', sa.DateTime(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('markup_url', sa.Text(), nullable=True),
        sa.Column('markup_state', sa.String(length=20), nullable=False),
        sa.Column('markup_path', sa.Text(), nullable=True),
        sa.Column('markup_note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_redo_requests_order_id_orders'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_redo_requests')),
        sa.UniqueConstraint('order_id', 'number', name=op.f('uq_redo_requests_order_id')),
    )
    with op.batch_alter_table('redo_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_redo_requests_order_id'), ['order_id'], unique=False)
    # Orders delivered before this migration: their one final becomes delivery 1.
    op.execute(
        "INSERT INTO deliveries (order_id, number, delivered_at, final_path, final_sha256, final_svg_path, "
        "final_token) SELECT id, 1, delivered_at, final_path, final_sha256, final_svg_path, final_token "
        "FROM orders WHERE final_token IS NOT NULL AND final_path IS NOT NULL AND delivered_at IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table('redo_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_redo_requests_order_id'))
    op.drop_table('redo_requests')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_delivered_at'))
        batch_op.drop_index(batch_op.f('ix_deliveries_order_id'))
    op.drop_table('deliveries')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('redo_count')
