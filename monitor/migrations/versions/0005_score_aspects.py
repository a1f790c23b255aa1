"""scores.aspects: the complaint aspects a review raises (`;`-joined; "" for none)

Reviews stored before have "" until they are scored again (`monitor ingest` re-scores an edited
review; a fresh store holds every aspect).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('scores') as batch:
        batch.add_column(sa.Column('aspects', sa.String(length=200), nullable=False,
                                   server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('scores') as batch:
        batch.drop_column('aspects')
