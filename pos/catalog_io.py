"""Catalog import and export: CSV (UTF-8, UTF-8 with BOM, CP949 as Korean Excel saves it) and
XLSX. The command line and the GUI both call `import_catalog` and `export_catalog`.

An import is all or nothing: every bad row is reported with its row number (as the spreadsheet
shows it), its column and the reason, and nothing is written unless the whole file is valid or
the caller asked to skip invalid rows. Re-importing updates products found by SKU, then by
barcode, then by enterprise and name, instead of adding them twice.

Each row also carries its enterprise (registration number, tax type, representative,
commission), so a fresh till can import another till's export or the organizer's sheet: an
enterprise the till does not know is created from those columns, in the same all-or-nothing
transaction; one it knows keeps its data, and a file that says otherwise gets a note.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from pos import bizno as bizno_rules
from pos import tables as t
from pos.i18n import tr
from pos.money import AmountError, parse_won
from pos.domain import NAME_LIMIT, DomainError, clean_text
from pos.services.catalog import _check_barcodes, add_category, add_enterprise
from pos.store import UnitOfWork
from pos.errors import CodedError

MAX_BYTES = 50 * 1024 * 1024

# canonical column → accepted header spellings (compared case-insensitively, spaces removed)
COLUMNS: dict[str, tuple[str, ...]] = {
    "sku": ("sku", "상품코드", "품번", "code"),
    "barcode": ("barcode", "barcodes", "바코드"),
    "name": ("name", "product", "상품명", "품명", "이름"),
    "price": ("price", "가격", "판매가", "단가"),
    "tax": ("tax", "tax_class", "과세", "과세구분", "과세여부"),
    "enterprise": ("enterprise", "vendor", "업체", "업체명", "기업", "기업명", "상호"),
    "category": ("category", "분류", "카테고리"),
    "stock": ("stock", "재고", "재고수량"),
    "active": ("active", "판매중", "사용", "판매여부"),
    # the enterprise of the row, for an enterprise the till does not know yet
    "bizno": ("bizno", "registration_number", "registrationnumber", "registrationno.",
              "business_number", "사업자등록번호", "사업자번호", "등록번호"),
    "tax_status": ("tax_status", "tax_type", "taxtype", "taxstatus", "과세유형", "사업자유형",
                   "과세자유형"),
    "representative": ("representative", "대표자", "대표", "대표자명"),
    "commission": ("commission", "commission%", "수수료", "수수료율", "수수료(%)"),
}
REQUIRED = ("name", "price")
EXPORT_COLUMNS = ("sku", "barcode", "name", "price", "tax", "enterprise", "category", "stock",
                  "active", "bizno", "tax_status", "representative", "commission")
# how a problem names a column: in the reader's language, as a header the import accepts
COLUMN_LABELS = {"sku": "import_col_sku", "barcode": "import_col_barcode",
                 "name": "import_col_name", "price": "import_col_price", "tax": "import_col_tax",
                 "enterprise": "import_col_enterprise", "category": "import_col_category",
                 "stock": "import_col_stock", "active": "import_col_active",
                 "bizno": "import_col_bizno", "tax_status": "import_col_tax_status",
                 "representative": "import_col_representative",
                 "commission": "import_col_commission"}
_TAX_STATUS = {"general": "general", "일반": "general", "일반과세": "general",
               "일반과세자": "general", "generaltaxpayer": "general",
               "simplified": "simplified", "간이": "simplified", "간이과세": "simplified",
               "간이과세자": "simplified", "simplifiedtaxpayer": "simplified",
               "exempt": "exempt", "면세": "exempt", "면세사업자": "exempt",
               "tax-exempt": "exempt", "taxexempt": "exempt"}
_TAX = {"taxable": "taxable", "과세": "taxable", "t": "taxable", "y": "taxable",
        "exempt": "exempt", "면세": "exempt", "e": "exempt", "n": "exempt"}
_BOOL = {"1": True, "y": True, "yes": True, "true": True, "예": True, "o": True, "사용": True,
         "판매": True, "0": False, "n": False, "no": False, "false": False, "아니오": False,
         "x": False, "중지": False, "미사용": False}


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int
    column: str
    code: str
    params: dict = field(default_factory=dict)

    def text(self, lang: str) -> str:
        reason = tr(self.code, lang, **self.params)
        if self.column not in COLUMN_LABELS:  # the whole row ("*")
            return tr("row_problem_row", lang, row=self.row, reason=reason)
        return tr("row_problem", lang, row=self.row,
                  column=tr(COLUMN_LABELS[self.column], lang), reason=reason)


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    applied: bool = False
    created: list[str] = field(default_factory=list)  # names of the enterprises added
    notes: list[RowProblem] = field(default_factory=list)  # imported, but worth reading

    def summary(self, lang: str) -> str:
        lines = []
        if self.problems and not self.applied:
            lines.append(tr("import_invalid", lang, count=len({p.row for p in self.problems})))
        elif self.problems:
            lines.append(tr("import_skipped", lang, count=len({p.row for p in self.problems})))
        if self.applied:
            lines.append(tr("import_done", lang, added=self.added, updated=self.updated))
            if self.created:
                lines.append(tr("import_enterprises_created", lang, count=len(self.created),
                                names=", ".join(self.created)))
        lines += [p.text(lang) for p in self.problems]
        lines += [p.text(lang) for p in self.notes]
        return "\n".join(lines)


class ImportFileError(CodedError, ValueError):
    """A catalog file that cannot be read at all (rows with problems are `RowProblem`s)."""


def decode(data: bytes) -> str:
    """UTF-8 with or without BOM, else CP949 (what Korean Excel writes for "CSV")."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp949")
    except UnicodeDecodeError as e:
        raise ImportFileError("file_unreadable", detail=f"encoding ({e.reason})") from None


def read_rows(path: Path, *, max_bytes: int = MAX_BYTES) -> list[tuple[int, list[str]]]:
    """(spreadsheet row number, cells) for every non-empty row, header first."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ImportFileError("file_unreadable", detail=str(e)) from None
    if size > max_bytes:
        raise ImportFileError("file_too_large", size=round(size / 2**20, 1),
                              limit=max_bytes // 2**20)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix not in (".csv", ".txt", ".tsv"):
        raise ImportFileError("file_format", path=str(path))
    text = decode(path.read_bytes())
    dialect = "excel-tab" if suffix == ".tsv" else "excel"
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((reader.line_num, cells))
    except csv.Error as e:
        raise ImportFileError("file_unreadable", detail=f"line {reader.line_num}: {e}") from None
    return rows


def _read_xlsx(path: Path) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a broken file
        raise ImportFileError("file_unreadable", detail=str(e)) from None
    try:
        ws = wb.worksheets[0]
        rows = []
        for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = ["" if v is None else _cell_text(v) for v in values]
            while cells and not cells[-1].strip():
                cells.pop()
            if cells:
                rows.append((n, cells))
        # a sheet has no short rows: its empty cells at the end (an enterprise without a
        # commission, say) were trimmed above, and are empty cells of the header's columns
        width = len(rows[0][1]) if rows else 0
        return [(n, cells + [""] * (width - len(cells))) for n, cells in rows]
    finally:
        wb.close()


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _header_map(header: list[str]) -> tuple[dict[str, int], list[str]]:
    norm = {alias.lower(): canon for canon, aliases in COLUMNS.items() for alias in aliases}
    found: dict[str, int] = {}
    for i, cell in enumerate(header):
        key = cell.strip().lstrip("\ufeff").replace(" ", "").lower()
        canon = norm.get(key)
        if canon and canon not in found:
            found[canon] = i
    missing = [c for c in REQUIRED if c not in found]
    return found, missing


@dataclass
class _Row:
    row: int
    sku: str | None
    barcodes: list[str]
    name: str
    price: int
    tax: str
    enterprise_id: str | tuple[str, str]  # an id, or ("new", name) for `_NewEnterprise`
    category: str | None
    stock: int | None
    active: bool


@dataclass
class _NewEnterprise:
    """An enterprise the file names and the till does not know, as its rows describe it (a
    cell left empty says nothing; the first row that fills it in decides)."""
    name: str
    row: int
    bizno: str | None = None
    tax_status: str | None = None
    representative: str = ""
    commission_bp: int | None = None
    rows: dict = field(default_factory=dict)  # field → the row that said it


# what rows of one new enterprise must agree on (the column each is read from)
_AGREE = (("bizno", "bizno"), ("tax_status", "tax_status"), ("commission_bp", "commission"))


def _enterprise_cells(n, cell, problems) -> dict:
    """The row's enterprise columns, checked: {field: value} for each cell filled in."""
    said: dict = {}
    text = cell("bizno", 20)
    if text:
        digits = text.replace("-", "").replace(" ", "")
        if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
            problems.append(RowProblem(n, "bizno", "value_bizno_format", {"value": text}))
        elif not bizno_rules.is_valid(text):
            problems.append(RowProblem(n, "bizno", "value_bizno_check", {"value": text}))
        else:
            said["bizno"] = bizno_rules.normalize(text)
    text = cell("tax_status", 40)
    if text:
        status = _TAX_STATUS.get(text.lower().replace(" ", ""))
        if status is None:
            problems.append(RowProblem(n, "tax_status", "value_tax_status", {"value": text}))
        else:
            said["tax_status"] = status
    text = cell("representative", 60)
    if text:
        said["representative"] = text
    text = cell("commission", 20)
    if text:
        try:
            pct = Decimal(text.removesuffix("%").strip())
            bp = pct * 100
            if not pct.is_finite() or not 0 <= bp <= 10000 or bp != bp.to_integral_value():
                raise InvalidOperation
        except InvalidOperation:
            problems.append(RowProblem(n, "commission", "value_commission", {"value": text}))
        else:
            said["commission_bp"] = int(bp)
    return said


def _shown(field_name: str, value) -> str:
    if field_name == "commission_bp":
        return f"{value / 100:g}%"
    return "-" if value in (None, "") else str(value)


def _parse(rows, header_cols, enterprises, only_enterprise, problems, known=None,
           new=None, notes=None) -> list[_Row]:
    known = {} if known is None else known  # enterprise id → its row
    new = {} if new is None else new  # name → _NewEnterprise
    notes = [] if notes is None else notes
    noted: set = set()
    width = max(header_cols.values()) + 1
    header_len = len(rows[0][1])
    parsed = []
    for n, cells in rows[1:]:
        bad = len(problems)
        if len(cells) > header_len and any(c.strip() for c in cells[header_len:]):
            problems.append(RowProblem(n, "*", "col_count",
                                       {"found": len(cells), "expected": header_len}))
            continue
        if len(cells) < width:
            problems.append(RowProblem(n, "*", "col_count",
                                       {"found": len(cells), "expected": header_len}))
            continue

        def raw_cell(col: str) -> str:
            i = header_cols.get(col)
            text = cells[i].strip() if i is not None and i < len(cells) else ""
            if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@"):  # written as text
                return text[1:]  # by an export (`pos.export.as_text`)
            return text

        def cell(col: str, limit: int = 200) -> str:
            """The cell as the catalog keeps text (`clean_text`): a line break in a cell is a
            space; a control character or a text too long is a problem of this row."""
            try:
                return clean_text(raw_cell(col), limit=limit)
            except DomainError as e:
                problems.append(RowProblem(n, col, e.code, dict(e.params)))
                return ""

        name = cell("name", NAME_LIMIT)
        if not name and not any(pr.row == n and pr.column == "name" for pr in problems):
            problems.append(RowProblem(n, "name", "value_empty"))
        price = 0
        try:
            price = parse_won(cell("price"))
        except AmountError as e:
            code = {"decimal": "value_decimal", "negative": "value_negative",
                    "empty": "value_empty", "too_large": "value_too_large"}.get(e.code, "value_not_number")
            problems.append(RowProblem(n, "price", code, {"value": cell("price")}))
        tax_text = cell("tax").lower()
        tax = _TAX.get(tax_text, None) if tax_text else "taxable"
        if tax is None:
            problems.append(RowProblem(n, "tax", "value_tax", {"value": cell("tax")}))
        ent_text = cell("enterprise", NAME_LIMIT)
        said = _enterprise_cells(n, cell, problems)
        enterprise_id = None
        if ent_text:
            enterprise_id = enterprises.get(ent_text) or enterprises.get(ent_text.replace("-", ""))
            if enterprise_id is not None and enterprise_id in known:
                current = known[enterprise_id]
                for key, column in _AGREE:  # the till's enterprise stays as it is
                    if key in said and said[key] != current[key] \
                            and (enterprise_id, key) not in noted:
                        noted.add((enterprise_id, key))
                        notes.append(RowProblem(n, column, "note_enterprise_kept", {
                            "name": current["name"], "value": _shown(key, said[key]),
                            "current": _shown(key, current[key])}))
            elif enterprise_id is None and bizno_rules.is_valid(ent_text):
                # a registration number the till does not know: no name to create it under
                problems.append(RowProblem(n, "enterprise", "value_unknown_enterprise",
                                           {"value": ent_text}))
            elif enterprise_id is None:
                ent = new.get(ent_text)
                for key, column in _AGREE:
                    if ent and key in said and getattr(ent, key) not in (None, said[key]):
                        problems.append(RowProblem(n, column, "value_enterprise_conflict", {
                            "name": ent_text, "value": _shown(key, said[key]),
                            "other": ent.rows[key],
                            "other_value": _shown(key, getattr(ent, key))}))
                enterprise_id = ("new", ent_text)
        elif only_enterprise:
            enterprise_id = only_enterprise
        elif not any(pr.row == n and pr.column == "enterprise" for pr in problems):
            problems.append(RowProblem(n, "enterprise", "value_empty"))
        stock = None
        if cell("stock"):
            try:
                stock = parse_won(cell("stock"), allow_negative=True)
            except AmountError:
                problems.append(RowProblem(n, "stock", "value_not_number",
                                           {"value": cell("stock")}))
            else:
                from pos.money import MAX_STOCK

                if not 0 <= stock <= MAX_STOCK:  # a count of goods
                    problems.append(RowProblem(n, "stock", "value_out_of_range",
                                               {"value": cell("stock"), "max": MAX_STOCK}))
                    stock = None
        active = True
        if cell("active"):
            active = _BOOL.get(cell("active").lower())
            if active is None:
                problems.append(RowProblem(n, "active", "value_bool", {"value": cell("active")}))
        barcodes = [b.strip() for b in cell("barcode").replace(";", "|").split("|") if b.strip()]
        try:
            _check_barcodes(barcodes)
        except DomainError as e:
            problems.append(RowProblem(n, "barcode", e.code, e.params))
            barcodes = []
        if len(problems) == bad and isinstance(enterprise_id, tuple):
            # only a row that imports describes the enterprise it creates
            ent = new.setdefault(ent_text, _NewEnterprise(ent_text, n))
            for key, _column in _AGREE:
                if key in said and getattr(ent, key) is None:
                    setattr(ent, key, said[key])
                    ent.rows[key] = n
            if said.get("representative") and not ent.representative:
                ent.representative = said["representative"]
        if len(problems) == bad:
            parsed.append(_Row(n, cell("sku", 64) or None, barcodes, name, price, tax,
                               enterprise_id, cell("category", 60) or None, stock,
                               bool(active)))
    return parsed


def import_catalog(uow: UnitOfWork, path: Path | str, *, skip_invalid: bool = False,
                   max_bytes: int = MAX_BYTES) -> ImportResult:
    """Validate the whole file, then add or update its products in the caller's transaction.
    A person's catalog edit: it needs the `catalog` permission and goes into the audit log."""
    from pos.services.staff import need

    need(uow, "catalog", subject=Path(path).name[:100])
    rows = read_rows(Path(path), max_bytes=max_bytes)
    if not rows:
        raise ImportFileError("file_empty")
    header_cols, missing = _header_map(rows[0][1])
    result = ImportResult()
    if missing:
        result.problems = [RowProblem(rows[0][0], col, "col_missing") for col in missing]
        return result

    enterprises: dict[str, str] = {}
    ent_rows = uow.conn.execute(select(t.enterprises.c.id, t.enterprises.c.name,
                                       t.enterprises.c.bizno, t.enterprises.c.tax_status,
                                       t.enterprises.c.commission_bp)).all()
    known = {e.id: e._asdict() for e in ent_rows}
    new: dict[str, _NewEnterprise] = {}
    for e in ent_rows:
        enterprises[e.name] = e.id
        if e.bizno:
            enterprises[e.bizno] = e.id
            enterprises[e.bizno.replace("-", "")] = e.id
    only = ent_rows[0].id if len(ent_rows) == 1 else None
    parsed = _parse(rows, header_cols, enterprises, only, result.problems, known, new,
                    result.notes)

    by_sku = dict(uow.conn.execute(select(t.products.c.sku, t.products.c.id)
                                   .where(t.products.c.sku.is_not(None))).all())
    by_barcode = dict(uow.conn.execute(select(t.barcodes.c.barcode, t.barcodes.c.product_id)).all())
    by_name = {(r.enterprise_id, r.name): r.id for r in uow.conn.execute(
        select(t.products.c.id, t.products.c.enterprise_id, t.products.c.name).where(
            t.products.c.merged_into.is_(None), t.products.c.removed.is_(False)))}
    id_to_name = {pid: name for (_, name), pid in by_name.items()}

    seen_barcode: dict[str, int] = {}
    seen_sku: dict[str, int] = {}
    good: list[tuple[_Row, str | None]] = []
    bad_rows = {p.row for p in result.problems}
    for r in parsed:
        problems_before = len(result.problems)
        if r.sku:
            if r.sku in seen_sku:
                result.problems.append(RowProblem(r.row, "sku", "value_duplicate_sku",
                                                  {"value": r.sku, "other": seen_sku[r.sku]}))
            seen_sku.setdefault(r.sku, r.row)
        target = by_sku.get(r.sku) if r.sku else None
        if target is None:
            target = next((by_barcode[b] for b in r.barcodes if b in by_barcode), None)
        if target is None:
            target = by_name.get((r.enterprise_id, r.name))
        for b in r.barcodes:
            if b in seen_barcode:
                result.problems.append(RowProblem(r.row, "barcode", "value_duplicate_barcode",
                                                  {"value": b, "other": seen_barcode[b]}))
            seen_barcode.setdefault(b, r.row)
            owner = by_barcode.get(b)
            if owner is not None and owner != target:
                result.problems.append(RowProblem(r.row, "barcode", "value_barcode_taken",
                                                  {"value": b, "other": id_to_name.get(owner, owner)}))
        if len(result.problems) == problems_before and r.row not in bad_rows:
            good.append((r, target))
    result.problems.sort(key=lambda p: (p.row, p.column))
    if result.problems and not skip_invalid:
        return result
    bad_rows = {p.row for p in result.problems}
    _apply(uow, [(r, tgt) for r, tgt in good if r.row not in bad_rows], result, new)
    result.applied = True
    from pos import audit

    audit.record(uow, "catalog_edit", Path(path).name[:100], {
        "what": "import", "added": result.added, "updated": result.updated,
        "enterprises": len(result.created), "skipped": len({p.row for p in result.problems})})
    return result


def _create_enterprises(uow: UnitOfWork, rows, new: dict[str, _NewEnterprise],
                        result: ImportResult) -> None:
    """Add the new enterprises the imported rows belong to, in the order the file names them,
    and point those rows at them."""
    wanted = {r.enterprise_id[1] for r, _target in rows if isinstance(r.enterprise_id, tuple)}
    ids = {}
    for ent in sorted((new[name] for name in wanted), key=lambda e: e.row):
        ids[ent.name] = add_enterprise(
            uow, name=ent.name, bizno=ent.bizno, representative=ent.representative,
            tax_status=ent.tax_status or "general", commission_bp=ent.commission_bp or 0)
        result.created.append(ent.name)
    for r, _target in rows:
        if isinstance(r.enterprise_id, tuple):
            r.enterprise_id = ids[r.enterprise_id[1]]


def _apply(uow: UnitOfWork, rows: list[tuple[_Row, str | None]], result: ImportResult,
           new: dict[str, _NewEnterprise] | None = None) -> None:
    _create_enterprises(uow, rows, new or {}, result)
    now = uow.clock.now().isoformat()
    categories: dict[str, str] = {}
    inserts, barcode_rows, touched, counts = [], [], [], []
    versions = dict(uow.conn.execute(select(t.products.c.id, t.products.c.version)).all())
    for r, target in rows:
        cat_id = None
        if r.category:
            cat_id = categories.get(r.category) or add_category(uow, name=r.category)
            categories[r.category] = cat_id
        values = {"sku": r.sku, "name": r.name, "price": r.price, "tax_class": r.tax,
                  "enterprise_id": r.enterprise_id, "category_id": cat_id,
                  "active": r.active, "updated_at": now}
        if target:
            uow.conn.execute(t.products.update().where(t.products.c.id == target)
                             .values(**values, version=versions.get(target, 1) + 1))
            result.updated += 1
            pid = target
            if r.barcodes:
                touched.append(pid)
        else:
            pid = uow.new_id()
            inserts.append({"id": pid, "version": 1, **values})
            result.added += 1
        barcode_rows += [{"barcode": b, "product_id": pid} for b in r.barcodes]
        if r.stock is not None:
            counts.append((pid, r.stock))
    if inserts:
        uow.conn.execute(t.products.insert(), inserts)
    for i in range(0, len(touched), 500):
        uow.conn.execute(t.barcodes.delete().where(t.barcodes.c.product_id.in_(touched[i:i + 500])))
    if barcode_rows:
        uow.conn.execute(t.barcodes.insert(), barcode_rows)
    _announce(uow, rows, inserts, categories)
    from pos.services.stock import record_stock

    current = dict(uow.conn.execute(select(t.products.c.id, t.products.c.stock)).all())
    for pid, stock in counts:  # a stock column is a count of each product: a movement each
        if current.get(pid) != stock:
            record_stock(uow, product_id=pid, kind="counted", qty=stock, alone=False)


def _announce(uow: UnitOfWork, rows, inserts, categories) -> None:
    """Every imported product goes to the outbox for sync, built from what was just written."""
    from pos.services.catalog import product_changed, product_message

    from pos.services.catalog import _product_query, _with_barcodes

    ents = {e["id"]: e for e in (dict(r) for r in uow.conn.execute(select(t.enterprises)).mappings())}
    new_ids = iter(row["id"] for row in inserts)
    ids = [target or next(new_ids) for _r, target in rows]
    messages = []
    for k in range(0, len(ids), 500):
        chunk = _with_barcodes(uow, uow.conn.execute(
            _product_query().where(t.products.c.id.in_(ids[k:k + 500]))).mappings())
        messages += [product_message(p, ents[p["enterprise_id"]]) for p in chunk]
    product_changed(uow, messages=messages)


def export_catalog(uow: UnitOfWork, path: Path | str) -> int:
    """Write every product, with what its enterprise needs to be created elsewhere, to CSV
    (UTF-8 with BOM, so Excel shows Hangul) or XLSX; the file imports back unchanged, on this
    till or a fresh one. Returns the number of products written."""
    from pos.services.catalog import list_products

    path = Path(path)
    from pos.services.catalog import list_enterprises

    ents = {e["id"]: e for e in list_enterprises(uow)}

    def commission(bp: int):
        return "" if not bp else bp // 100 if bp % 100 == 0 else bp / 100

    rows = []
    for p in list_products(uow):
        e = ents[p["enterprise_id"]]
        rows.append([p["sku"] or "", "|".join(p["barcodes"]), p["name"], p["price"],
                     p["tax_class"], p["enterprise_name"], p["category_name"] or "",
                     "" if p["stock"] is None else p["stock"], 1 if p["active"] else 0,
                     e["bizno"] or "", e["tax_status"], e["representative"] or "",
                     commission(e["commission_bp"])])
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "catalog"
        ws.append(list(EXPORT_COLUMNS))
        for r in rows:
            ws.append(r)
            for c in ws[ws.max_row]:  # text, never a formula (openpyxl reads "=…" as one)
                if isinstance(c.value, str) and c.value.startswith("="):
                    c.data_type = "s"
        wb.save(path)
    else:
        from pos.export import SafeWriter

        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            w = SafeWriter(fh)
            w.writerow(EXPORT_COLUMNS)
            w.writerows(rows)
    return len(rows)
