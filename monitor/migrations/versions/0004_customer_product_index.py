"""indexes: reviews by customer and product (case outcomes look a buyer's reviews up on
ingest); scores by scored_at (the facts snapshot refreshes from it)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

"""
from typing import Sequence, Union

from alembic import op


revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_reviews_customer_product', 'reviews', ['customer_id', 'product_id'])
    op.create_index('ix_scores_scored_at', 'scores', ['scored_at'])


def downgrade() -> None:
    op.drop_index('ix_scores_scored_at', table_name='scores')
    op.drop_index('ix_reviews_customer_product', table_name='reviews')
