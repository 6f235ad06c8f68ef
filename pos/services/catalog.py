"""Enterprises, categories and products of the stall."""

from __future__ import annotations

from sqlalchemy import bindparam, func, or_, select

from pos import bizno as bizno_rules
from pos import events, tables as t
from pos.domain import NAME_LIMIT, DomainError, TaxClass, TaxStatus, clean_text
from pos.outbox import append_event
from pos.store import UnitOfWork


def _now(uow: UnitOfWork) -> str:
    return uow.clock.now().isoformat()


def _check_enterprise(name: str, bizno: str | None, tax_status: str, commission_bp: int) -> str | None:
    if not name or not name.strip():
        raise DomainError("name_empty")
    if tax_status not in TaxStatus.__members__.values():
        raise DomainError("tax_status_invalid", value=tax_status)
    if not 0 <= commission_bp <= 10000:
        raise DomainError("commission_invalid", value=commission_bp)
    if bizno:
        if not bizno_rules.is_valid(bizno):
            raise DomainError("bizno_invalid", value=bizno)
        return bizno_rules.normalize(bizno)
    return None


def add_enterprise(uow: UnitOfWork, *, name: str, bizno: str | None = None,
                   representative: str = "", address: str = "", phone: str = "",
                   tax_status: str = TaxStatus.GENERAL, commission_bp: int = 0,
                   cash_receipt_mandatory: bool = False, card_terminal: str = "stall") -> str:
    """Add an enterprise the stall sells for. `commission_bp` is the stall's commission in
    basis points (1500 = 15 %); `cash_receipt_mandatory`: its trade must issue a cash receipt
    for a cash sale of ₩100,000 or more (의무발행업종); `card_terminal`: whose terminal takes its
    card payments ("own" or "stall")."""
    uow.note(events.CATALOG)
    name = clean_text(name)
    representative, address, phone = (clean_text(representative, limit=60),
                                      clean_text(address, limit=200), clean_text(phone, limit=40))
    normalized = _check_enterprise(name, bizno, tax_status, commission_bp)
    _check_flags(cash_receipt_mandatory, card_terminal)
    if find_enterprise(uow, ref=name.strip()) is not None:
        raise DomainError("enterprise_exists", name=name.strip())
    eid = uow.new_id()
    uow.conn.execute(t.enterprises.insert().values(
        id=eid, name=name.strip(), bizno=normalized, representative=representative.strip(),
        address=address.strip(), phone=phone.strip(), tax_status=str(tax_status),
        commission_bp=commission_bp, active=True, version=1, updated_at=_now(uow),
        cash_receipt_mandatory=cash_receipt_mandatory, card_terminal=card_terminal))
    return eid


def _check_flags(mandatory, terminal) -> None:
    if not isinstance(mandatory, bool):
        raise DomainError("setting_invalid", name="cash_receipt_mandatory")
    if terminal not in ("own", "stall"):
        raise DomainError("setting_invalid", name="card_terminal")


def update_enterprise(uow: UnitOfWork, *, enterprise_id: str, **changes) -> None:
    uow.note(events.CATALOG)
    row = uow.conn.execute(select(t.enterprises).where(t.enterprises.c.id == enterprise_id)
                           ).mappings().first()
    if row is None:
        raise DomainError("enterprise_unknown", value=enterprise_id)
    allowed = {"name", "bizno", "representative", "address", "phone", "tax_status",
               "commission_bp", "active", "cash_receipt_mandatory", "card_terminal"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"unknown enterprise fields: {sorted(unknown)}")
    merged = {**row, **changes}
    for key, limit in (("name", NAME_LIMIT), ("representative", 60), ("address", 200),
                       ("phone", 40)):
        if key in changes:
            merged[key] = clean_text(merged[key], limit=limit)
    merged["bizno"] = _check_enterprise(merged["name"], merged["bizno"], merged["tax_status"],
                                        merged["commission_bp"])
    _check_flags(bool(merged["cash_receipt_mandatory"]) if merged["cash_receipt_mandatory"]
                 in (0, 1) else merged["cash_receipt_mandatory"], merged["card_terminal"])
    values = {k: merged[k] for k in allowed}
    values["name"] = values["name"].strip()
    uow.conn.execute(t.enterprises.update().where(t.enterprises.c.id == enterprise_id).values(
        **values, version=row["version"] + 1, updated_at=_now(uow)))
    if any(values[k] != row[k] for k in SYNCED_ENTERPRISE_FIELDS):
        # the other tills learn it through its products, stamped as one enterprise edit
        enterprise = {**row, **values}
        messages = [product_message(p, enterprise)
                    for p in list_products(uow, enterprise_id=enterprise_id)]
        product_changed(uow, messages=messages, enterprise_id=enterprise_id)


SYNCED_ENTERPRISE_FIELDS = ("name", "bizno", "tax_status", "commission_bp",
                            "cash_receipt_mandatory", "card_terminal")


def list_enterprises(uow: UnitOfWork, *, active_only: bool = False) -> list[dict]:
    q = select(t.enterprises).order_by(t.enterprises.c.name)
    if active_only:
        q = q.where(t.enterprises.c.active.is_(True))
    return [dict(r) for r in uow.conn.execute(q).mappings()]


def find_enterprise(uow: UnitOfWork, *, ref: str) -> dict | None:
    """An enterprise by id, trade name or registration number (with or without hyphens)."""
    ref = ref.strip()
    conds = [t.enterprises.c.id == ref, t.enterprises.c.name == ref]
    if bizno_rules.is_valid(ref):
        conds.append(t.enterprises.c.bizno == bizno_rules.normalize(ref))
    row = uow.conn.execute(select(t.enterprises).where(or_(*conds))).mappings().first()
    return dict(row) if row else None


def add_category(uow: UnitOfWork, *, name: str) -> str:
    uow.note(events.CATALOG)
    name = clean_text(name, limit=60)
    if not name:
        raise DomainError("name_empty")
    existing = uow.conn.execute(select(t.categories.c.id).where(t.categories.c.name == name)
                                ).scalar()
    if existing:
        return existing
    sort = uow.conn.execute(select(func.count()).select_from(t.categories)).scalar()
    cid = uow.new_id()
    uow.conn.execute(t.categories.insert().values(id=cid, name=name, sort=sort))
    return cid


def list_categories(uow: UnitOfWork) -> list[dict]:
    q = select(t.categories).order_by(t.categories.c.sort, t.categories.c.name)
    return [dict(r) for r in uow.conn.execute(q).mappings()]


def _check_product(name: str, price: int, tax_class: str, stock: int | None) -> None:
    if not name or not name.strip():
        raise DomainError("name_empty")
    if isinstance(price, bool) or not isinstance(price, int):
        raise DomainError("price_invalid", value=price)
    if price < 0:
        raise DomainError("price_negative", name=name)
    if tax_class not in TaxClass.__members__.values():
        raise DomainError("tax_class_invalid", value=tax_class)
    if stock is not None and (isinstance(stock, bool) or not isinstance(stock, int)):
        raise DomainError("stock_invalid", value=stock)


MAX_BARCODES = 20  # as the sync protocol carries them (sync.protocol.MAX_BARCODES)


def _check_barcodes(codes: list[str]) -> None:
    """At most 20 barcodes of at most 64 characters, without control characters: what every
    till of the stall and the server can take (a product they refuse would stop the sync)."""
    if len(codes) > MAX_BARCODES:
        raise DomainError("barcodes_too_many", count=len(codes), max=MAX_BARCODES)
    for code in codes:
        if len(code) > 64 or clean_text(code) != code:
            raise DomainError("barcode_invalid", value=code[:70])


def _set_barcodes(uow: UnitOfWork, product_id: str, codes: list[str]) -> None:
    codes = [c.strip() for c in codes if c and c.strip()]
    if len(set(codes)) != len(codes):
        raise DomainError("barcode_duplicate", value=", ".join(codes))
    _check_barcodes(codes)
    for code in codes:
        owner = uow.conn.execute(select(t.barcodes.c.product_id)
                                 .where(t.barcodes.c.barcode == code)).scalar()
        if owner and owner != product_id:
            raise DomainError("barcode_taken", value=code)
    uow.conn.execute(t.barcodes.delete().where(t.barcodes.c.product_id == product_id))
    if codes:
        uow.conn.execute(t.barcodes.insert(), [{"barcode": c, "product_id": product_id}
                                               for c in codes])


def add_product(uow: UnitOfWork, *, name: str, price: int, enterprise_id: str,
                tax_class: str = TaxClass.TAXABLE, sku: str | None = None,
                barcodes: list[str] | tuple[str, ...] = (), category_id: str | None = None,
                stock: int | None = None, active: bool = True) -> str:
    uow.note(events.CATALOG)
    name = clean_text(name)
    sku = clean_text(sku, limit=64) or None
    _check_product(name, price, tax_class, stock)
    if find_enterprise(uow, ref=enterprise_id) is None:
        raise DomainError("enterprise_unknown", value=enterprise_id)
    sku = sku.strip() if sku and sku.strip() else None
    if sku and uow.conn.execute(select(t.products.c.id).where(t.products.c.sku == sku)).scalar():
        raise DomainError("sku_taken", value=sku)
    pid = uow.new_id()
    uow.conn.execute(t.products.insert().values(
        id=pid, sku=sku, name=name.strip(), price=price, tax_class=str(tax_class),
        enterprise_id=enterprise_id, category_id=category_id, stock=None, active=active,
        version=1, updated_at=_now(uow)))
    _set_barcodes(uow, pid, list(barcodes))
    product_changed(uow, product_id=pid)
    if stock is not None:  # stock is movements: the first is a count
        _count(uow, pid, stock)
    return pid


def _count(uow: UnitOfWork, product_id: str, stock: int) -> None:
    from pos.money import MAX_STOCK
    from pos.services.stock import record_stock

    if not 0 <= stock <= MAX_STOCK:
        raise DomainError("stock_qty_invalid", value=stock, max=MAX_STOCK)
    record_stock(uow, product_id=product_id, kind="counted", qty=stock, alone=False)


def update_product(uow: UnitOfWork, *, product_id: str, barcodes: list[str] | None = None,
                   **changes) -> None:
    """Change a product; its `version` goes up. Sales keep the snapshot they were sold with."""
    uow.note(events.CATALOG)
    row = uow.conn.execute(select(t.products).where(t.products.c.id == product_id)
                           ).mappings().first()
    if row is None:
        raise DomainError("product_unknown", value=product_id)
    allowed = {"name", "price", "tax_class", "enterprise_id", "category_id", "stock", "active",
               "sku"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"unknown product fields: {sorted(unknown)}")
    merged = {**row, **changes}
    if "name" in changes:
        merged["name"] = changes["name"] = clean_text(changes["name"])
    if "sku" in changes:
        merged["sku"] = changes["sku"] = clean_text(changes["sku"], limit=64) or None
    _check_product(merged["name"], merged["price"], merged["tax_class"], merged["stock"])
    if "sku" in changes and merged["sku"]:
        other = uow.conn.execute(select(t.products.c.id).where(
            t.products.c.sku == merged["sku"], t.products.c.id != product_id)).scalar()
        if other:
            raise DomainError("sku_taken", value=merged["sku"])
    counted = None
    if "stock" in changes and changes["stock"] is not None and changes["stock"] != row["stock"]:
        counted = changes.pop("stock")  # a new figure is a count: a movement, synced
    elif "stock" in changes and changes["stock"] == row["stock"]:
        changes.pop("stock")
    if counted is not None:
        _count(uow, product_id, counted)
    if changes:
        uow.conn.execute(t.products.update().where(t.products.c.id == product_id).values(
            **{k: merged[k] for k in changes}, version=row["version"] + 1,
            updated_at=_now(uow)))
    if barcodes is not None:
        _set_barcodes(uow, product_id, barcodes)
    if changes or barcodes is not None:
        product_changed(uow, product_id=product_id)


def product_message(product: dict, enterprise: dict) -> dict:
    """A product as the sync protocol carries it (the enterprise by its name and identity,
    since ids differ between tills)."""
    return {"id": product["id"], "name": product["name"], "price": product["price"],
            "tax_class": product["tax_class"],
            "enterprise": {"name": enterprise["name"], "bizno": enterprise.get("bizno"),
                           "tax_status": enterprise["tax_status"],
                           "commission_bp": enterprise["commission_bp"],
                           "hlc": enterprise.get("hlc"),
                           # only when set, so that a product sent before reads the same
                           **({"cash_receipt_mandatory": True}
                              if enterprise.get("cash_receipt_mandatory") else {}),
                           **({"card_terminal": "own"}
                              if enterprise.get("card_terminal") == "own" else {})},
            "category": product.get("category_name"), "barcodes": list(product["barcodes"]),
            "sku": product.get("sku"), "active": bool(product["active"])}


def product_changed(uow: UnitOfWork, *, product_id: str | None = None,
                    messages: list[dict] | None = None,
                    enterprise_id: str | None = None) -> None:
    """Stamp edited products and put them in the outbox (`product.changed`), so every till of
    the stall and the server converge: the newest stamp wins. With `enterprise_id` (an edit of
    the enterprise itself) the enterprise is stamped too, with the first product's stamp, and
    every message carries that stamp."""
    uow.note(events.CATALOG)
    if messages is None:
        product = get_product(uow, product_id=product_id)
        messages = [product_message(product, find_enterprise(uow, ref=product["enterprise_id"]))]
    stamps = []
    enterprise_stamp = None
    for message in messages:
        wall = uow.clock.now()
        allocation = uow.store.numbering.allocate(uow, wall, receipt=False)
        message["hlc"] = str(allocation.hlc)
        if enterprise_id is not None:
            enterprise_stamp = enterprise_stamp or message["hlc"]
            message["enterprise"]["hlc"] = enterprise_stamp
        stamps.append({"pid": message["id"], "stamp": message["hlc"]})
        append_event(uow, event_type="product.changed", payload=message,
                     allocation=allocation, wall=wall)
    if stamps:
        uow.conn.execute(t.products.update().where(t.products.c.id == bindparam("pid"))
                         .values(hlc=bindparam("stamp")), stamps)
    if enterprise_stamp is not None:
        uow.conn.execute(t.enterprises.update().where(t.enterprises.c.id == enterprise_id)
                         .values(hlc=enterprise_stamp))


def set_product_active(uow: UnitOfWork, *, product_id: str, active: bool) -> None:
    update_product(uow, product_id=product_id, active=active)


def _with_barcodes(uow: UnitOfWork, rows) -> list[dict]:
    out = [dict(r) for r in rows]
    if not out:
        return out
    ids = [r["id"] for r in out]
    codes: dict[str, list[str]] = {}
    for chunk in range(0, len(ids), 500):
        q = select(t.barcodes).where(t.barcodes.c.product_id.in_(ids[chunk:chunk + 500]))
        for b in uow.conn.execute(q.order_by(t.barcodes.c.barcode)):
            codes.setdefault(b.product_id, []).append(b.barcode)
    for r in out:
        r["barcodes"] = codes.get(r["id"], [])
    return out


def _product_query():
    return (select(t.products, t.enterprises.c.name.label("enterprise_name"),
                   t.enterprises.c.tax_status, t.categories.c.name.label("category_name"))
            .join(t.enterprises, t.enterprises.c.id == t.products.c.enterprise_id)
            .outerjoin(t.categories, t.categories.c.id == t.products.c.category_id))


def open_price_product(uow: UnitOfWork, *, enterprise_id: str,
                       tax_class: str = TaxClass.TAXABLE) -> dict:
    """The product an open-price line ("금액 입력": an amount sold for an enterprise without
    picking a product) is recorded as: one per enterprise and tax class, made the first time,
    hidden from the tiles (inactive), with a SKU every till of the stall derives alike
    (`open-<enterprise id>-<tax class>`), so two tills' copies are matched into one on the
    server like any product (`pos.catalog_match`). Sales, refunds, settlements and the
    server's roll-ups treat its lines as any other; the price is the amount typed."""
    from pos.i18n import tr
    from pos.services.settings import till_settings

    if tax_class not in TaxClass.__members__.values():
        raise DomainError("tax_class_invalid", value=tax_class)
    sku = f"open-{enterprise_id}-{tax_class}"
    row = uow.conn.execute(select(t.products.c.id, t.products.c.merged_into)
                           .where(t.products.c.sku == sku)).first()
    if row is not None:
        found = get_product(uow, product_id=row.merged_into or row.id)
        if found is not None:
            return found
    lang = till_settings(uow).receipt_language
    pid = add_product(uow, name=tr("open_price_name", lang), price=0, enterprise_id=enterprise_id,
                      tax_class=tax_class, sku=sku, active=False)
    return get_product(uow, product_id=pid)


def get_product(uow: UnitOfWork, *, product_id: str) -> dict | None:
    rows = uow.conn.execute(_product_query().where(t.products.c.id == product_id)).mappings()
    found = _with_barcodes(uow, rows)
    return found[0] if found else None


def product_by_barcode(uow: UnitOfWork, *, barcode: str) -> dict | None:
    pid = uow.conn.execute(select(t.barcodes.c.product_id)
                           .where(t.barcodes.c.barcode == barcode.strip())).scalar()
    return get_product(uow, product_id=pid) if pid else None


def product_by_code(uow: UnitOfWork, *, code: str) -> dict:
    """The product a person types or scans: by SKU, else by barcode. Raises `DomainError`
    for an unknown code or a product that is not on sale."""
    code = code.strip()
    pid = uow.conn.execute(select(t.products.c.id).where(t.products.c.sku == code)).scalar()
    product = get_product(uow, product_id=pid) if pid else product_by_barcode(uow, barcode=code)
    if product is None:
        raise DomainError("product_unknown", value=code)
    if not product["active"]:
        raise DomainError("product_inactive", name=product["name"])
    return product


def list_products(uow: UnitOfWork, *, active_only: bool = False,
                  enterprise_id: str | None = None) -> list[dict]:
    q = (_product_query().order_by(t.enterprises.c.name, t.products.c.name)
         .where(t.products.c.merged_into.is_(None), t.products.c.removed.is_(False)))
    if active_only:
        q = q.where(t.products.c.active.is_(True))
    if enterprise_id:
        q = q.where(t.products.c.enterprise_id == enterprise_id)
    return _with_barcodes(uow, uow.conn.execute(q).mappings())
