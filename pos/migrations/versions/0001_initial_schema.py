"""Initial schema: device, settings, catalog, sales with lines, payments and VAT parts, outbox.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 01:48:12.384769
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('categories',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('name', name=op.f('uq_categories_name'))
    )
    op.create_table('device',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('last_hlc', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device'))
    )
    op.create_table('enterprises',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('bizno', sa.String(length=12), nullable=True),
    sa.Column('representative', sa.Text(), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('phone', sa.Text(), nullable=False),
    sa.Column('tax_status', sa.String(length=12), nullable=False),
    sa.Column('commission_bp', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.CheckConstraint('commission_bp BETWEEN 0 AND 10000', name=op.f('ck_enterprises_commission_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprises')),
    sa.UniqueConstraint('name', name=op.f('uq_enterprises_name'))
    )
    op.create_table('outbox',
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('event_type', sa.String(length=32), nullable=False),
    sa.Column('document_id', sa.String(length=36), nullable=True),
    sa.Column('hlc', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.Column('acked_at', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('device_id', 'seq', name=op.f('pk_outbox')),
    sa.UniqueConstraint('event_id', name=op.f('uq_outbox_event_id'))
    )
    op.create_table('sales',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('receipt_no', sa.String(length=32), nullable=False),
    sa.Column('business_day', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.Text(), nullable=False),
    sa.Column('hlc', sa.Text(), nullable=False),
    sa.Column('original_id', sa.String(length=36), nullable=True),
    sa.Column('subtotal', sa.Integer(), nullable=False),
    sa.Column('line_discount', sa.Integer(), nullable=False),
    sa.Column('receipt_discount', sa.Integer(), nullable=False),
    sa.Column('receipt_discount_kind', sa.String(length=8), nullable=True),
    sa.Column('receipt_discount_value', sa.String(length=16), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('taxable_total', sa.Integer(), nullable=False),
    sa.Column('supply_value', sa.Integer(), nullable=False),
    sa.Column('vat', sa.Integer(), nullable=False),
    sa.Column('exempt_total', sa.Integer(), nullable=False),
    sa.Column('change', sa.Integer(), nullable=False),
    sa.Column('receipt_requested', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['original_id'], ['sales.id'], name=op.f('fk_sales_original_id_sales')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales')),
    sa.UniqueConstraint('device_id', 'seq', name=op.f('uq_sales_device_id_seq')),
    sa.UniqueConstraint('receipt_no', name=op.f('uq_sales_receipt_no'))
    )
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.create_index('ix_sales_business_day', ['business_day'], unique=False)
        batch_op.create_index('ix_sales_original_id', ['original_id'], unique=False)

    op.create_table('settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('payments',
    sa.Column('sale_id', sa.String(length=36), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('tendered', sa.Integer(), nullable=False),
    sa.Column('change', sa.Integer(), nullable=False),
    sa.Column('approval_no', sa.Text(), nullable=True),
    sa.Column('reference', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], name=op.f('fk_payments_sale_id_sales')),
    sa.PrimaryKeyConstraint('sale_id', 'n', name=op.f('pk_payments'))
    )
    op.create_table('products',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('sku', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('tax_class', sa.String(length=8), nullable=False),
    sa.Column('enterprise_id', sa.String(length=36), nullable=False),
    sa.Column('category_id', sa.String(length=36), nullable=True),
    sa.Column('stock', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.Text(), nullable=False),
    sa.CheckConstraint('price >= 0', name=op.f('ck_products_price_not_negative')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_products_category_id_categories')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_products_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('sku', name=op.f('uq_products_sku'))
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index('ix_products_enterprise_id', ['enterprise_id'], unique=False)

    op.create_table('sale_lines',
    sa.Column('sale_id', sa.String(length=36), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.String(length=36), nullable=True),
    sa.Column('sku', sa.Text(), nullable=True),
    sa.Column('barcode', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('enterprise_id', sa.String(length=36), nullable=False),
    sa.Column('enterprise_name', sa.Text(), nullable=False),
    sa.Column('tax_class', sa.String(length=8), nullable=False),
    sa.Column('tax_status', sa.String(length=12), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.Column('line_discount', sa.Integer(), nullable=False),
    sa.Column('receipt_discount', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('original_line_no', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], name=op.f('fk_sale_lines_sale_id_sales')),
    sa.PrimaryKeyConstraint('sale_id', 'line_no', name=op.f('pk_sale_lines'))
    )
    op.create_table('sale_taxes',
    sa.Column('sale_id', sa.String(length=36), nullable=False),
    sa.Column('enterprise_id', sa.String(length=36), nullable=False),
    sa.Column('enterprise_name', sa.Text(), nullable=False),
    sa.Column('tax_status', sa.String(length=12), nullable=False),
    sa.Column('taxable_total', sa.Integer(), nullable=False),
    sa.Column('supply_value', sa.Integer(), nullable=False),
    sa.Column('vat', sa.Integer(), nullable=False),
    sa.Column('exempt_total', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], name=op.f('fk_sale_taxes_sale_id_sales')),
    sa.PrimaryKeyConstraint('sale_id', 'enterprise_id', name=op.f('pk_sale_taxes'))
    )
    op.create_table('barcodes',
    sa.Column('barcode', sa.Text(), nullable=False),
    sa.Column('product_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_barcodes_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('barcode', name=op.f('pk_barcodes'))
    )
    with op.batch_alter_table('barcodes', schema=None) as batch_op:
        batch_op.create_index('ix_barcodes_product_id', ['product_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('barcodes', schema=None) as batch_op:
        batch_op.drop_index('ix_barcodes_product_id')

    op.drop_table('barcodes')
    op.drop_table('sale_taxes')
    op.drop_table('sale_lines')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index('ix_products_enterprise_id')

    op.drop_table('products')
    op.drop_table('payments')
    op.drop_table('settings')
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_original_id')
        batch_op.drop_index('ix_sales_business_day')

    op.drop_table('sales')
    op.drop_table('outbox')
    op.drop_table('enterprises')
    op.drop_table('device')
    op.drop_table('categories')
