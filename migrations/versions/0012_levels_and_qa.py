"""operator levels (operator, senior); QA checks of sampled approvals; orders sent back by QA

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('operators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level', sa.String(length=20), nullable=False, server_default='operator'))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('returned_to_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_orders_returned_to_id_operators'), 'operators',
                                    ['returned_to_id'], ['id'])
    op.create_table(
        'qa_checks',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('operator_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('sampled_at', sa.DateTime(), nullable=False),
        sa.Column('senior_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('outcome', sa.String(length=20), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('point_x', sa.Integer(), nullable=True),
        sa.Column('point_y', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_qa_checks_order_id_orders'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_qa_checks_operator_id_operators')),
        sa.ForeignKeyConstraint(['senior_id'], ['operators.id'], name=op.f('fk_qa_checks_senior_id_operators')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_qa_checks')),
    )
    with op.batch_alter_table('qa_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qa_checks_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_qa_checks_operator_id'), ['operator_id'], unique=False)


def downgrade():
    with op.batch_alter_table('qa_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qa_checks_operator_id'))
        batch_op.drop_index(batch_op.f('ix_qa_checks_order_id'))
    op.drop_table('qa_checks')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_orders_returned_to_id_operators'), type_='foreignkey')
        batch_op.drop_column('returned_to_id')
    with op.batch_alter_table('operators', schema=None) as batch_op:
        batch_op.drop_column('level')
