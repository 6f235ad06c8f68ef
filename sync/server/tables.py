"""The server's tables (its own schema and migrations, apart from the till's)."""

from __future__ import annotations

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, MetaData, String,
                        Table, Text, UniqueConstraint, false, text)

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

organizations = Table(  # who runs markets on this server: a city center, a district center
    "organizations", metadata,
    Column("id", String(36), primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Index("ux_organizations_name", "name", unique=True),
)

users = Table(  # the people who sign in to the organizer's console (sync/server/accounts.py)
    "users", metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(254), nullable=False),  # as typed, compared lowercased
    Column("organization_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("role", String(12), nullable=False),  # admin, staff, viewer, enterprise
    Column("enterprise_name", Text, nullable=True),  # an enterprise login's enterprise
    Column("password_hash", Text, nullable=False),  # argon2id, never the password
    Column("created_at", Text, nullable=False),
    Column("disabled_at", Text, nullable=True),
    CheckConstraint("role IN ('admin', 'staff', 'viewer', 'enterprise')", name="role_known"),
    CheckConstraint("(role = 'enterprise') = (enterprise_name IS NOT NULL)",
                    name="enterprise_login"),
    Index("ux_users_email", "email", unique=True),
)

web_sessions = Table(  # a signed-in browser: the cookie's hash, never the cookie
    "web_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("csrf", String(64), nullable=False),  # the session's form token
    Column("created_at", BigInteger, nullable=False),  # unix seconds
    Column("seen_at", BigInteger, nullable=False),
    Index("ix_web_sessions_user_id", "user_id"),
)

events = Table(  # a market event: "2026 가을 사회적경제 장터"
    "events", metadata,
    Column("id", String(36), primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    # whose event (the console shows an organization only its own); null: made with an
    # organizer token before there were organizations, seen by the API and the CLI only
    Column("organization_id", String(36), nullable=True),
    # a key within its organization (`--event NAME`), and among the events of no
    # organization (the API's, the CLI's)
    Index("ux_events_organization_id_name", "organization_id", "name", unique=True),
    Index("ux_events_name_unowned", "name", unique=True,  # NULLs are distinct in the above
          postgresql_where=text("organization_id IS NULL"),
          sqlite_where=text("organization_id IS NULL")),
    Index("ix_events_name", "name"),
)

stalls = Table(
    "stalls", metadata,
    Column("id", String(36), primary_key=True),
    Column("event_id", String(36), ForeignKey("events.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Index("ux_stalls_event_id_name", "event_id", "name", unique=True),  # a key in its event
)

enterprises = Table(  # the enterprises the organizer registered for an event
    "enterprises", metadata,
    Column("id", String(36), primary_key=True),
    Column("event_id", String(36), ForeignKey("events.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("bizno", String(12), nullable=True),
    # the stall's commission, in hundredths of a percent (1000 = 10 %)
    Column("commission_bp", Integer, nullable=False, default=0, server_default=text("0")),
    UniqueConstraint("event_id", "name"),
)

enrollment_codes = Table(
    "enrollment_codes", metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("stall_id", String(36), ForeignKey("stalls.id"), nullable=False),
    Column("expires_at", BigInteger, nullable=False),  # unix seconds
    Column("used_at", Text, nullable=True),
    Column("cancelled_at", Text, nullable=True),
    Column("device_code", String(6), nullable=True),  # the organizer named its till's code
)

devices = Table(
    "devices", metadata,
    Column("id", String(36), primary_key=True),
    Column("stall_id", String(36), ForeignKey("stalls.id"), nullable=False),
    Column("device_code", String(6), nullable=False),
    Column("name", Text, nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("enrolled_at", Text, nullable=False),
    Column("revoked_at", Text, nullable=True),  # its token answers 401 `device_revoked`
    Column("last_push_at", Text, nullable=True),  # when it last pushed (the live board)
    Column("local_id", String(64), nullable=True),  # the till's own id: known when it enrolls again
    Index("ix_devices_stall_local_id", "stall_id", "local_id", unique=True),
)

organizer_tokens = Table(
    "organizer_tokens", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", Text, nullable=False),
)

device_events = Table(  # every event as the device sent it; (device, seq) gapless from 1
    "device_events", metadata,
    Column("device_id", String(36), ForeignKey("devices.id"), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("type", String(32), nullable=False),
    Column("hlc", Text, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("received_at", Text, nullable=False),
)

documents = Table(  # sales, voids and refunds, as charged at the till
    "documents", metadata,
    Column("id", String(36), primary_key=True),
    Column("device_id", String(36), ForeignKey("devices.id"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("receipt_no", String(32), nullable=False),
    Column("business_day", String(10), nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("taxable_total", BigInteger, nullable=False),
    Column("supply_value", BigInteger, nullable=False),
    Column("vat", BigInteger, nullable=False),
    Column("exempt_total", BigInteger, nullable=False),
    # a void's or refund's sale (null on a sale); `waiting`: a return from another till of the
    # stall whose sale the server does not have yet, checked when the sale arrives
    Column("original_id", String(36), nullable=True),
    Column("waiting", Boolean, nullable=False, server_default=false()),
    Column("staff_name", Text, nullable=True),  # who recorded it (till with staff accounts)
    # the hour it was made, on the till's clock (the live board's sales by hour); null on
    # documents stored before it was kept
    Column("created_hour", Integer, nullable=True),
    Index("ix_documents_device_id_business_day", "device_id", "business_day"),
    Index("ix_documents_original_id", "original_id",  # only returns: sales pay nothing for it
          postgresql_where=text("original_id IS NOT NULL"),
          sqlite_where=text("original_id IS NOT NULL")),
    Index("ix_documents_waiting", "original_id",  # the few returns still awaiting their sale
          postgresql_where=text("waiting"), sqlite_where=text("waiting = 1")),
)

# Lines and payments carry no foreign key to `documents`: push writes them only together with
# their document in one transaction, and the per-row checks cost two thirds of a bulk insert.
document_lines = Table(
    "document_lines", metadata,
    Column("document_id", String(36), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("enterprise_id", String(36), nullable=False),
    Column("enterprise_name", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("qty", Integer, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("original_line_no", Integer, nullable=True),  # a return's line: the sale's line
)

document_payments = Table(
    "document_payments", metadata,
    Column("document_id", String(36), primary_key=True),
    Column("n", Integer, primary_key=True),
    Column("method", String(32), nullable=False),
    Column("amount", BigInteger, nullable=False),
)

alerts = Table(  # an event that differs from what the server already has: never dropped silently
    "alerts", metadata,          # one row per device, seq and content; sent again, `times` grows
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("reason", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("digest", String(64), nullable=False),  # SHA-256 of `body`
    Column("times", Integer, nullable=False),
    Column("last_at", Text, nullable=False),
    Column("resolved_at", Text, nullable=True),  # the organizer looked into it
    Column("resolved_by", Text, nullable=True),  # who: a console e-mail, "api" or "cli"
    UniqueConstraint("device_id", "seq", "digest"),
)

catalog = Table(  # each stall's products; `version` orders changes for the tills' pull cursor
    "catalog", metadata,
    Column("stall_id", String(36), ForeignKey("stalls.id"), primary_key=True),
    Column("product_id", String(36), primary_key=True),
    Column("hlc", Text, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    # what a product is matched by (pos.catalog_match); null for a hidden product
    Column("sku", Text, nullable=True),
    Column("match_key", Text, nullable=True),
    Column("origin", String(36), nullable=True),  # the device that first sent it, "organizer"
    Index("ix_catalog_stall_id_version", "stall_id", "version"),
    Index("ix_catalog_stall_id_sku", "stall_id", "sku"),
    Index("ix_catalog_stall_id_match_key", "stall_id", "match_key"),
)

catalog_barcodes = Table(  # the barcodes of a stall's live products: one product per barcode
    "catalog_barcodes", metadata,
    Column("stall_id", String(36), primary_key=True),
    Column("barcode", Text, primary_key=True),
    Column("product_id", String(36), nullable=False),
)

catalog_versions = Table(  # the newest catalog version per stall
    "catalog_versions", metadata,
    Column("stall_id", String(36), ForeignKey("stalls.id"), primary_key=True),
    Column("version", BigInteger, nullable=False),
)

event_settings = Table(  # what the organizer sets for every till of an event; tills pull it
    "event_settings", metadata,
    Column("event_id", String(36), ForeignKey("events.id"), primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)


stock_movements = Table(  # every `stock.moved` a till sent: goods received, counted, returned
    "stock_movements", metadata,
    Column("device_id", String(36), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("stall_id", String(36), nullable=False),
    Column("product_id", String(36), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("qty", BigInteger, nullable=False),  # the change in stock
    Column("counted", BigInteger, nullable=True),
    Column("business_day", String(10), nullable=False),
    Column("created_at", Text, nullable=False),
    Index("ix_stock_movements_stall_id_product_id", "stall_id", "product_id"),
)

stall_stock = Table(  # each stall's stock per product, rolled up in the push that changes it
    "stall_stock", metadata,
    Column("stall_id", String(36), primary_key=True),
    Column("product_id", String(36), primary_key=True),
    Column("qty", BigInteger, nullable=False),
    Column("tracked", Boolean, nullable=False),  # it has a movement: tills show its stock
    Column("base_hlc", Text, nullable=True),  # the stamp of the count `qty` starts from
)

stock_log = Table(  # every change of a tracked product's stock, with its stamp: a count that
    "stock_log", metadata,  # arrives late adds the changes made after it
    Column("stall_id", String(36), nullable=False),
    Column("product_id", String(36), nullable=False),
    Column("hlc", Text, nullable=False),
    Column("qty", BigInteger, nullable=False),
    Index("ix_stock_log_stall_id_product_id_hlc", "stall_id", "product_id", "hlc"),
)

return_holds = Table(  # quantities a till is giving back of a sale right now, before it pushes
    "return_holds", metadata,  # the return: two tills never give back more than was sold
    Column("return_id", String(36), primary_key=True),  # the return document's id, to come
    Column("sale_id", String(36), nullable=False),
    Column("device_id", String(36), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("lines", Text, nullable=False),  # JSON {"line_no": qty}
    Column("created_at", BigInteger, nullable=False),  # unix seconds: counts HOLD_SECONDS
    Index("ix_return_holds_sale_id", "sale_id"),
)


staff_members = Table(  # the people who sell at each till (`staff.changed`): never a PIN or hash
    "staff_members", metadata,
    Column("device_id", String(36), primary_key=True),
    Column("staff_id", String(64), primary_key=True),  # the person's id on the till
    Column("stall_id", String(36), nullable=False),
    Column("name", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("enterprise_name", Text, nullable=True),
    Column("active", Boolean, nullable=False),
    Column("updated_at", Text, nullable=False),  # the newest change wins (`service._put_staff`)
    Column("seq", BigInteger, nullable=False),  # the event the stored change came in
    Index("ix_staff_members_stall_id", "stall_id"),
)

audit_entries = Table(  # each till's audit log (`audit.logged`), as sent, checked as it arrives
    "audit_entries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # arrival order: the cursor
    Column("device_id", String(36), nullable=False),
    Column("n", BigInteger, nullable=False),
    Column("stall_id", String(36), nullable=False),
    Column("seq", BigInteger, nullable=False),  # the event that carried it
    Column("day", String(10), nullable=False),  # `at`'s date, as the till wrote it
    Column("at", Text, nullable=False),
    Column("local_device_id", Text, nullable=False),  # the payload's `device_id`: the till's own
    Column("staff_id", Text, nullable=True),
    Column("staff_name", Text, nullable=True),
    Column("action", String(32), nullable=False),
    Column("subject", Text, nullable=False),
    Column("details", Text, nullable=False),  # JSON, keys sorted
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("problem", Text, nullable=True),  # why it was alerted (the chain is broken), or null
    UniqueConstraint("device_id", "seq"),  # one row per event: a number sent twice is kept twice
    Index("ix_audit_entries_stall_id_day", "stall_id", "day"),
)

cash_receipts = Table(  # each till's cash receipt requests (`cash_receipt.changed`), as they now are
    "cash_receipts", metadata,
    Column("device_id", String(36), primary_key=True),
    Column("receipt_id", String(64), primary_key=True),  # the request's id on the till
    Column("stall_id", String(36), nullable=False),
    Column("kind", String(8), nullable=False),  # issue, cancel
    Column("sale_id", String(36), nullable=False),
    Column("receipt_no", String(32), nullable=False),
    Column("return_id", String(36), nullable=True),
    Column("cancels", String(64), nullable=True),
    Column("enterprise_name", Text, nullable=False),
    Column("bizno", String(12), nullable=True),
    Column("amount", BigInteger, nullable=False),
    Column("identity_kind", String(8), nullable=False),
    Column("identity", String(19), nullable=False),
    Column("purpose", String(10), nullable=False),
    Column("voluntary", Boolean, nullable=False),
    Column("state", String(10), nullable=False),
    Column("approval_no", Text, nullable=True),
    Column("business_day", String(10), nullable=False),
    Column("due_day", String(10), nullable=False),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),  # the event the stored state came in: the latest wins
    Index("ix_cash_receipts_stall_id_business_day", "stall_id", "business_day"),
)
