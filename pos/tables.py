"""The local store's tables (SQLAlchemy Core). Alembic migrations in `pos/migrations` build
exactly this schema; `tests/pos/test_store.py` checks that they agree."""

from __future__ import annotations

from sqlalchemy import false as sa_false
from sqlalchemy import (Boolean, CheckConstraint, Column, Float, ForeignKey, Index, Integer,
                        LargeBinary, MetaData, String, Table, Text, UniqueConstraint)

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

device = Table(
    "device", metadata,
    Column("id", String(36), primary_key=True),
    Column("code", String(6), nullable=False),
    Column("name", Text, nullable=False, default=""),
    Column("created_at", Text, nullable=False),
    Column("last_hlc", Text, nullable=True),
)

settings = Table(
    "settings", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

enterprises = Table(
    "enterprises", metadata,
    Column("id", String(36), primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("bizno", String(12), nullable=True),
    Column("representative", Text, nullable=False, default=""),
    Column("address", Text, nullable=False, default=""),
    Column("phone", Text, nullable=False, default=""),
    Column("tax_status", String(12), nullable=False),
    Column("commission_bp", Integer, nullable=False, default=0),
    Column("active", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False, default=1),
    Column("updated_at", Text, nullable=False),
    Column("hlc", Text, nullable=True),  # stamp of the last synced edit (pos/clock.py)
    # in a trade that must issue a cash receipt for ₩100,000 or more in cash (의무발행업종)
    Column("cash_receipt_mandatory", Boolean, nullable=False, default=False,
           server_default=sa_false()),
    # whose card terminal takes its card payments: its own ("own") or the stall's ("stall")
    Column("card_terminal", String(8), nullable=False, default="stall", server_default="stall"),
    CheckConstraint("commission_bp BETWEEN 0 AND 10000", name="commission_range"),
    CheckConstraint("card_terminal IN ('own', 'stall')", name="card_terminal_known"),
)

categories = Table(
    "categories", metadata,
    Column("id", String(36), primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("sort", Integer, nullable=False, default=0),
)

products = Table(
    "products", metadata,
    Column("id", String(36), primary_key=True),
    Column("sku", Text, nullable=True, unique=True),
    Column("name", Text, nullable=False),
    Column("price", Integer, nullable=False),
    Column("tax_class", String(8), nullable=False),
    Column("enterprise_id", String(36), ForeignKey("enterprises.id"), nullable=False),
    Column("category_id", String(36), ForeignKey("categories.id"), nullable=True),
    Column("stock", Integer, nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False, default=1),
    Column("updated_at", Text, nullable=False),
    Column("hlc", Text, nullable=True),  # stamp of the last edit: the newest edit wins in sync
    # hidden: the same as that product of the stall, or taken out of the stall's catalog
    Column("merged_into", String(36), nullable=True),
    Column("removed", Boolean, nullable=False, default=False, server_default=sa_false()),
    CheckConstraint("price >= 0", name="price_not_negative"),
    Index("ix_products_enterprise_id", "enterprise_id"),
)

stock_movements = Table(  # goods received, counted, returned: stock is their sum and the sales'
    "stock_movements", metadata,
    Column("id", String(36), primary_key=True),
    Column("device_id", String(36), nullable=False),
    Column("seq", Integer, nullable=False),  # its `stock.moved` event
    Column("product_id", String(36), nullable=False),
    Column("kind", String(16), nullable=False),  # received, counted, returned
    Column("qty", Integer, nullable=False),  # the change in stock
    Column("counted", Integer, nullable=True),  # a count: what was counted
    Column("business_day", String(10), nullable=False),
    Column("shift_id", String(36), nullable=True),
    Column("reason", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Index("ix_stock_movements_product_id", "product_id"),
    Index("ix_stock_movements_business_day", "business_day"),
)

barcodes = Table(
    "barcodes", metadata,
    Column("barcode", Text, primary_key=True),
    Column("product_id", String(36), ForeignKey("products.id", ondelete="CASCADE"),
           nullable=False),
    Index("ix_barcodes_product_id", "product_id"),
)

outbox = Table(
    "outbox", metadata,
    Column("device_id", String(36), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("event_type", String(32), nullable=False),
    Column("document_id", String(36), nullable=True),
    Column("hlc", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    # Sales, voids and refunds are rebuilt from their own tables (they never change), so their
    # payload is NULL; events without tables of their own carry their JSON here.
    Column("payload", Text, nullable=True),
    Column("acked_at", Text, nullable=True),
)

sales = Table(
    "sales", metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("device_id", String(36), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("receipt_no", String(32), nullable=False, unique=True),
    Column("business_day", String(10), nullable=False),
    Column("created_at", Text, nullable=False),
    Column("hlc", Text, nullable=False),
    Column("original_id", String(36), ForeignKey("sales.id"), nullable=True),
    Column("subtotal", Integer, nullable=False),
    Column("line_discount", Integer, nullable=False),
    Column("receipt_discount", Integer, nullable=False),
    Column("receipt_discount_kind", String(8), nullable=True),
    Column("receipt_discount_value", String(16), nullable=True),
    Column("total", Integer, nullable=False),
    Column("taxable_total", Integer, nullable=False),
    Column("supply_value", Integer, nullable=False),
    Column("vat", Integer, nullable=False),
    Column("exempt_total", Integer, nullable=False),
    Column("change", Integer, nullable=False),
    Column("receipt_requested", Boolean, nullable=False, default=False),
    Column("reason", Text, nullable=True),
    Column("shift_id", String(36), nullable=True),
    # a void's or refund's sale made by another till of the stall (its copy in other_sales);
    # original_id is then null: it names only this till's own sales
    Column("other_sale_id", String(36), nullable=True),
    # who made it (staff accounts on: pos.services.staff), by id and name as it was then
    Column("staff_id", String(36), nullable=True),
    Column("staff_name", Text, nullable=True),
    UniqueConstraint("device_id", "seq"),
    Index("ix_sales_business_day", "business_day"),
    Index("ix_sales_shift_id", "shift_id"),
    Index("ix_sales_original_id", "original_id"),
    Index("ix_sales_other_sale_id", "other_sale_id"),
)

# Sales of another till of the stall this till gave something back of: the copy the server
# gave (`source` server), or what the vendor typed in from the customer's receipt when the
# server could not be asked (`typed`). Never in this till's reports; its returns are.
other_sales = Table(
    "other_sales", metadata,
    Column("id", String(36), primary_key=True),  # the sale's own id (a typed one: made here)
    Column("receipt_no", String(32), nullable=False),
    Column("device_code", String(6), nullable=False),
    Column("business_day", String(10), nullable=False),
    Column("created_at", Text, nullable=False),
    Column("source", String(8), nullable=False),  # server, typed
    Column("body", Text, nullable=False),  # JSON: lines, payments, what other tills gave back
    Column("fetched_at", Text, nullable=False),
    Index("ix_other_sales_receipt_no", "receipt_no"),
)

sale_lines = Table(
    "sale_lines", metadata,
    Column("sale_id", String(36), ForeignKey("sales.id"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("product_id", String(36), nullable=True),
    Column("sku", Text, nullable=True),
    Column("barcode", Text, nullable=True),
    Column("name", Text, nullable=False),
    Column("enterprise_id", String(36), nullable=False),
    Column("enterprise_name", Text, nullable=False),
    Column("tax_class", String(8), nullable=False),
    Column("tax_status", String(12), nullable=False),
    Column("unit_price", Integer, nullable=False),
    Column("qty", Integer, nullable=False),
    Column("line_discount", Integer, nullable=False),
    Column("receipt_discount", Integer, nullable=False),
    Column("amount", Integer, nullable=False),
    Column("original_line_no", Integer, nullable=True),
)

payments = Table(
    "payments", metadata,
    Column("sale_id", String(36), ForeignKey("sales.id"), primary_key=True),
    Column("n", Integer, primary_key=True),
    Column("method", String(32), nullable=False),
    Column("kind", String(12), nullable=False),
    Column("amount", Integer, nullable=False),
    Column("tendered", Integer, nullable=False),
    Column("change", Integer, nullable=False),
    Column("approval_no", Text, nullable=True),
    Column("reference", Text, nullable=True),
    Column("face_value", Integer, nullable=True),  # vouchers: one note's face value
    Column("count", Integer, nullable=True),  # and how many: face_value × count = tendered
    # a card payment taken on an enterprise's own terminal: that enterprise; else the stall's
    Column("enterprise_id", String(36), nullable=True),
)

sale_taxes = Table(
    "sale_taxes", metadata,
    Column("sale_id", String(36), ForeignKey("sales.id"), primary_key=True),
    Column("enterprise_id", String(36), primary_key=True),
    Column("enterprise_name", Text, nullable=False),
    Column("tax_status", String(12), nullable=False),
    Column("taxable_total", Integer, nullable=False),
    Column("supply_value", Integer, nullable=False),
    Column("vat", Integer, nullable=False),
    Column("exempt_total", Integer, nullable=False),
    # the enterprise took its cards on its own terminal when the document was made
    Column("own_terminal", Boolean, nullable=False, default=False, server_default=sa_false()),
)

# The print queue's jobs (printing/queue.py). Kept with the sales so that a receipt job and
# the sale it belongs to live in the same durable file.
print_jobs = Table(
    "print_jobs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # receipt, test, drawer, report
    Column("document_id", String(36), nullable=True),
    Column("receipt_no", String(32), nullable=True),
    Column("copy", Boolean, nullable=False, default=False),
    Column("drawer", Boolean, nullable=False, default=False),
    Column("printer_url", Text, nullable=False),
    Column("profile", Text, nullable=False),
    Column("data", LargeBinary, nullable=True),  # rendered bytes, kept for resend and preview
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("next_try_at", Float, nullable=True),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("replaces", Integer, nullable=True),
    Index("ix_print_jobs_status", "status"),
)

# Shifts: opened with a float, closed with a count; the Z report's figures are kept as JSON.
shifts = Table(
    "shifts", metadata,
    Column("id", String(36), primary_key=True),
    Column("device_id", String(36), nullable=False),
    Column("number", Integer, nullable=False),  # per device; the Z report's number
    Column("status", String(8), nullable=False),  # open, closed
    Column("business_day", String(10), nullable=False),
    Column("opened_at", Text, nullable=False),
    Column("float_amount", Integer, nullable=False),
    Column("float_counts", Text, nullable=True),
    Column("closed_at", Text, nullable=True),
    Column("counted_amount", Integer, nullable=True),
    Column("counts", Text, nullable=True),
    Column("expected_amount", Integer, nullable=True),
    Column("difference", Integer, nullable=True),
    Column("report", Text, nullable=True),
    Column("difference_reason", Text, nullable=True),  # why counted ≠ expected, on the Z
    Column("opened_by", Text, nullable=True),  # the staff member's name (accounts on)
    Column("closed_by", Text, nullable=True),
    UniqueConstraint("device_id", "number"),
    Index("ix_shifts_status", "status"),
)

cash_movements = Table(
    "cash_movements", metadata,
    Column("id", String(36), primary_key=True),
    Column("shift_id", String(36), ForeignKey("shifts.id"), nullable=False),
    Column("kind", String(4), nullable=False),  # in, out
    Column("amount", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("staff_id", String(36), nullable=True),
    Column("staff_name", Text, nullable=True),
    CheckConstraint("amount > 0", name="amount_positive"),
    Index("ix_cash_movements_shift_id", "shift_id"),
)

# Facts about the store itself: which Jangteo version wrote it last, when it was last closed.
store_meta = Table(
    "store_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# Receipt numbers that may be in customers' hands although this store has no sale with them
# (its file was lost, cut or restored from an older backup): a business day's numbering goes
# on after `last_n` (pos.numbering), and `jangteo check` names the numbers it lacks.
receipt_floors = Table(
    "receipt_floors", metadata,
    Column("device_id", String(36), primary_key=True),
    Column("business_day", String(10), primary_key=True),
    Column("last_n", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", Text, nullable=False),
)

# Runs of this device's sequence numbers that the organizer's server holds and this store does
# not: the store lost those events (restored from an older backup, a cut or deleted journal)
# after the server had them. The store's own later events were numbered after the server's
# (sync.client renumbers them), so its outbox skips these numbers; `jangteo check` counts them
# as the server's, not as a gap.
events_on_server = Table(
    "events_on_server", metadata,
    Column("device_id", String(36), primary_key=True),
    Column("first_seq", Integer, primary_key=True),
    Column("last_seq", Integer, nullable=False),
    Column("created_at", Text, nullable=False),
    CheckConstraint("first_seq BETWEEN 1 AND last_seq", name="range_order"),
)

# The people who sell at this till, when the stall uses staff accounts (`pos.services.staff`).
# A PIN is kept only as its scrypt hash with a salt of its own; it never leaves the till.
staff = Table(
    "staff", metadata,
    Column("id", String(36), primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("role", String(12), nullable=False),  # manager, cashier
    Column("enterprise_id", String(36), nullable=True),  # the enterprise they come from, if any
    Column("pin_salt", String(32), nullable=False),  # hex
    Column("pin_hash", String(128), nullable=False),  # hex
    Column("pin_kdf", Text, nullable=False),  # "scrypt n=32768 r=8 p=1": how pin_hash was made
    Column("active", Boolean, nullable=False, default=True),
    Column("failed", Integer, nullable=False, default=0),  # wrong PINs in a row
    Column("wait_until", Text, nullable=True),  # the next PIN is heard from then on
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    CheckConstraint("role IN ('manager', 'cashier')", name="role_known"),
)

# Sensitive actions, append-only and hash-chained (`pos.audit`): each entry's hash covers its
# fields and the entry before it, so `jangteo check` finds an entry edited or taken out.
audit_log = Table(
    "audit_log", metadata,
    Column("n", Integer, primary_key=True, autoincrement=False),  # 1, 2, 3… without a gap
    Column("at", Text, nullable=False),
    Column("device_id", String(36), nullable=False),
    Column("staff_id", String(36), nullable=True),
    Column("staff_name", Text, nullable=True),
    Column("action", String(32), nullable=False),
    Column("subject", Text, nullable=False),
    Column("details", Text, nullable=False),  # JSON object
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_at", "at"),
)

# Cash receipt (현금영수증) requests and their cancellations (`pos.services.cash_receipts`): a till
# cannot issue them itself, so they wait here, per enterprise, until the enterprise issues them
# (on 홈택스 or through its card terminal) and the vendor enters the approval number.
cash_receipts = Table(
    "cash_receipts", metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(8), nullable=False),  # issue, cancel
    Column("sale_id", String(36), nullable=False),  # the sale it is for
    Column("receipt_no", String(32), nullable=False),  # that sale's receipt number
    Column("return_id", String(36), nullable=True),  # a cancellation: the void or refund
    Column("cancels", String(36), nullable=True),  # a cancellation: the request it cancels
    # the issuer: an enterprise of the sale, or none: the stall's operator (consignment)
    Column("enterprise_id", String(36), nullable=True),
    Column("enterprise_name", Text, nullable=False),
    Column("bizno", String(12), nullable=True),
    Column("amount", Integer, nullable=False),
    Column("identity_kind", String(8), nullable=False),  # phone, bizno, card, self
    Column("identity", String(19), nullable=False),  # digits
    Column("purpose", String(10), nullable=False),  # deduction (소득공제), proof (지출증빙)
    Column("voluntary", Boolean, nullable=False, default=False),  # self-issued: none was given
    Column("state", String(10), nullable=False),  # to_issue, issued, cancelled
    Column("approval_no", Text, nullable=True),
    Column("business_day", String(10), nullable=False),
    Column("due_day", String(10), nullable=False),  # issue by then
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("staff_name", Text, nullable=True),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("kind IN ('issue', 'cancel')", name="kind_known"),
    CheckConstraint("state IN ('to_issue', 'issued', 'cancelled')", name="state_known"),
    Index("ix_cash_receipts_sale_id", "sale_id"),
    Index("ix_cash_receipts_state", "state"),
)
