"""callback attempts keep a short reason and, apart, the detail for operators

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 13:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('callback_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_detail', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('callback_attempts', schema=None) as batch_op:
        batch_op.drop_column('error_detail')
