"""A stall's catalog knows its products by SKU, barcode and enterprise + name, so that a product
a till sends under a new id but the stall already has (two tills that each loaded the demo or
imported one products.csv) is matched to it instead of doubled (`pos.catalog_match`). The
columns are filled from the stored product bodies; hidden products (merged into another or
removed) are no candidates, nor are products from where the new one comes (`origin`: the
device, or "organizer"; a till's two products of one name are two products). Products stored
before have no origin.

Revision ID: s0010
Revises: s0009
Create Date: 2026-12-02 14:40:00
"""
import json

from alembic import op
import sqlalchemy as sa


revision = 's0010'
down_revision = 's0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('catalog') as batch:
        batch.add_column(sa.Column('sku', sa.Text(), nullable=True))
        batch.add_column(sa.Column('match_key', sa.Text(), nullable=True))
        batch.add_column(sa.Column('origin', sa.String(length=36), nullable=True))
    op.create_index('ix_catalog_stall_id_sku', 'catalog', ['stall_id', 'sku'])
    op.create_index('ix_catalog_stall_id_match_key', 'catalog', ['stall_id', 'match_key'])
    op.create_table(
        'catalog_barcodes',
        sa.Column('stall_id', sa.String(length=36), nullable=False),
        sa.Column('barcode', sa.Text(), nullable=False),
        sa.Column('product_id', sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint('stall_id', 'barcode'),
    )
    from pos.catalog_match import name_key

    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT stall_id, product_id, body FROM catalog")).all()
    held = set()
    for stall_id, product_id, body in rows:
        product = json.loads(body)
        if product.get("merged_into") or product.get("removed"):
            continue
        conn.execute(sa.text("UPDATE catalog SET sku = :sku, match_key = :key "
                             "WHERE stall_id = :s AND product_id = :p"),
                     {"sku": product.get("sku"), "s": stall_id, "p": product_id,
                      "key": name_key(product["enterprise"]["name"], product["name"])})
        for code in product.get("barcodes") or []:
            if (stall_id, code) not in held:
                held.add((stall_id, code))
                conn.execute(sa.text("INSERT INTO catalog_barcodes (stall_id, barcode, "
                                     "product_id) VALUES (:s, :b, :p)"),
                             {"s": stall_id, "b": code, "p": product_id})


def downgrade() -> None:
    op.drop_table('catalog_barcodes')
    op.drop_index('ix_catalog_stall_id_match_key', table_name='catalog')
    op.drop_index('ix_catalog_stall_id_sku', table_name='catalog')
    with op.batch_alter_table('catalog') as batch:
        batch.drop_column('origin')
        batch.drop_column('match_key')
        batch.drop_column('sku')
