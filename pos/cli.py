"""The `jangteo` command: `jangteo [--data-dir DIR] [--lang LANG] COMMAND …`.

Every command opens the data directory through `pos.store.Store` (lock, integrity check,
migrations) and calls the same services as the GUI. Its sentences, help texts and argparse's
own words come from the message catalogue (`pos.i18n`, contexts "cli" and "argparse").
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from pos import __version__
from pos.errors import CodedError
from pos.i18n import detect_lang, error_text, languages, tr

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_STORE = 0, 1, 2, 3
# `jangteo check` looks at the documents of this many newest business days (`--all`: every one)
CHECK_DAYS = 7


def say(key: str, lang: str, /, **params) -> str:
    """A sentence of the command line, from the message catalogue (context "cli")."""
    return tr(key, lang, context="cli", **params)


def _lang_from_argv(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def _argparse_language(lang: str) -> None:
    """argparse's own words (headings, "usage", its error messages) in the run's language.

    argparse looks them up through its module-level `_` when it builds and prints, so the CLI
    swaps that function for the catalogue (one language per process). The catalogue keys them
    by argparse's own English text (context "argparse"); a text it lacks stays argparse's own.
    """
    argparse._ = lambda text: tr(text, lang, context="argparse")


def build_parser(lang: str, extensions=()) -> argparse.ArgumentParser:
    """The parser; `extensions` (modules with `add_commands(sub, h)`) add the commands of the
    layers above `pos` (printing), which `pos` itself must not import. `h(key)` is a help text
    from the catalogue."""
    def h(key: str) -> str:
        return say(key, lang)

    _argparse_language(lang)
    p = argparse.ArgumentParser(prog="jangteo", description=h("cli_description"))
    p.add_argument("--version", action="version", version=f"jangteo {__version__}",
                   help=h("version_help"))
    p.add_argument("--data-dir", type=Path, default=None, help=h("data_dir_help"))
    p.add_argument("--lang", choices=languages(), default=None, help=h("lang_help"))
    from pos import cli_staff

    cli_staff.add_options(p, h)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    cli_staff.add_commands(sub, h)
    from pos import cli_cash_receipts

    cli_cash_receipts.add_commands(sub, h)

    demo = sub.add_parser("demo", help=h("demo_help"))
    demo.add_argument("--sales", type=int, default=300, help=h("demo_sales_help"))
    demo.add_argument("--seed", type=int, default=1, help=h("demo_seed_help"))
    demo.add_argument("--date", type=date.fromisoformat, default=None, help=h("demo_date_help"))

    cat = sub.add_parser("catalog", help=h("catalog_help"))
    cat_sub = cat.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)
    imp = cat_sub.add_parser("import", help=h("catalog_import_help"))
    imp.add_argument("file", type=Path)
    imp.add_argument("--skip-invalid", action="store_true", help=h("skip_invalid_help"))
    exp = cat_sub.add_parser("export", help=h("catalog_export_help"))
    exp.add_argument("file", type=Path)

    ent = sub.add_parser("enterprise", help=h("enterprise_help"))
    ent_sub = ent.add_subparsers(dest="enterprise_command", metavar="ACTION", required=True)
    ent_sub.add_parser("list", help=h("enterprise_list_help"))
    add = ent_sub.add_parser("add", help=h("enterprise_add_help"))
    add.add_argument("--name", required=True, help=h("enterprise_name_help"))
    add.add_argument("--bizno", default=None, help=h("bizno_help"))
    add.add_argument("--representative", default="", help=h("representative_help"))
    add.add_argument("--address", default="", help=h("address_help"))
    add.add_argument("--phone", default="", help=h("phone_help"))
    add.add_argument("--tax-status", default="general",
                     choices=["general", "simplified", "exempt"], help=h("tax_status_help"))
    add.add_argument("--commission", type=str, default="0", help=h("commission_help"))
    add.add_argument("--cash-receipt-mandatory", action="store_true",
                     help=h("cash_receipt_mandatory_help"))
    add.add_argument("--card-terminal", choices=["stall", "own"], default="stall",
                     help=h("card_terminal_help"))

    sales = sub.add_parser("sales", help=h("sales_help"))
    sales_sub = sales.add_subparsers(dest="sales_command", metavar="ACTION", required=True)
    sexp = sales_sub.add_parser("export", help=h("sales_export_help"))
    sexp.add_argument("file", type=Path)
    sexp.add_argument("--from", dest="day_from", type=date.fromisoformat, default=None,
                      help=h("day_from_help"))
    sexp.add_argument("--to", dest="day_to", type=date.fromisoformat, default=None,
                      help=h("day_to_help"))
    sexp.add_argument("--by", choices=["line", "receipt"], default="line",
                      help=h("sales_by_help"))

    shift = sub.add_parser("shift", help=h("shift_help"))
    shift_sub = shift.add_subparsers(dest="shift_command", metavar="ACTION", required=True)
    so = shift_sub.add_parser("open", help=h("shift_open_help"))
    so.add_argument("--float", dest="float_amount", type=int, default=None,
                    help=h("shift_float_help"))
    so.add_argument("--count", default=None, help=h("shift_open_count_help"))
    sc = shift_sub.add_parser("close", help=h("shift_close_help"))
    sc.add_argument("--count", default=None, help=h("shift_close_count_help"))
    sc.add_argument("--counted", type=int, default=None, help=h("shift_counted_help"))
    sc.add_argument("--reason", default=None, help=h("shift_close_reason_help"))
    cash = shift_sub.add_parser("cash", help=h("cash_help"))
    direction = cash.add_mutually_exclusive_group(required=True)
    direction.add_argument("--in", dest="cash_in", type=int, help=h("cash_in_help"))
    direction.add_argument("--out", dest="cash_out", type=int, help=h("cash_out_help"))
    cash.add_argument("--reason", required=True, help=h("cash_reason_help"))
    shift_sub.add_parser("status", help=h("shift_status_help"))

    stock = sub.add_parser("stock", help=h("stock_help"))
    stock_sub = stock.add_subparsers(dest="stock_command", metavar="ACTION", required=True)
    for action, helps in (("receive", h("stock_receive_help")), ("count", h("stock_count_help")),
                          ("return", h("stock_return_help"))):
        sp = stock_sub.add_parser(action, help=helps)
        sp.add_argument("product", metavar="PRODUCT", help=h("stock_product_help"))
        sp.add_argument("qty", type=_plain_count, metavar="QTY")
        sp.add_argument("--reason", default="", help=h("stock_reason_help"))
    sl = stock_sub.add_parser("list", help=h("stock_list_help"))
    sl.add_argument("--enterprise", default=None)

    chk = sub.add_parser("check", help=h("check_help"),
                         description=say("check_description", lang, days=CHECK_DAYS))
    chk.add_argument("--all", dest="check_all", action="store_true", help=h("check_all_help"))

    bk = sub.add_parser("backup", help=h("backup_help"))
    bk_sub = bk.add_subparsers(dest="backup_command", metavar="ACTION", required=True)
    bk_sub.add_parser("list", help=h("backup_list_help"))
    restore = sub.add_parser("restore", help=h("restore_help"))
    restore.add_argument("backup", nargs="?", default=None, metavar="BACKUP",
                         help=h("restore_backup_help"))

    sell = sub.add_parser("sell", help=h("sell_help"))
    sell.add_argument("--item", action="append", required=True, metavar="SKU_OR_BARCODE[:QTY]",
                      help=h("sell_item_help"))
    sell.add_argument("--pay", action="append", required=True, metavar="METHOD[:AMOUNT][@ENTERPRISE]",
                      help=h("sell_pay_help"))
    sell.add_argument("--approval", default=None, help=h("sell_approval_help"))
    sell.add_argument("--no-receipt", action="store_true", help=h("sell_no_receipt_help"))
    sell.add_argument("--cash-receipt", default=None, metavar="NUMBER",
                      help=h("sell_cash_receipt_help"))
    sell.add_argument("--purpose", choices=["deduction", "proof"], default=None,
                      help=h("sell_purpose_help"))
    for extension in extensions:
        extension.add_commands(sub, h)
    return p


READ_ONLY_FALLBACK = ("folder_read_only", "already_running", "start_disk_full")


def _open(args, *, write: bool = True):
    """The data folder as a store. A command that only reads (`write=False`) still works on a
    read-only folder and beside a running till: it opens the file read-only. What the store
    found at this start (receipts it lacks, a clock behind) is said on stderr."""
    from pos.logfile import setup_logging
    from pos.store import Store, StoreError, default_data_dir

    data_dir = args.data_dir or default_data_dir()
    store = None
    if not write:  # never takes the till's lock: a sale or the window is not refused meanwhile
        try:
            store = Store(data_dir, read_only=True)
        except StoreError as e:
            if e.code not in ("no_store_here", "needs_upgrade"):
                raise
    if store is None:  # a new folder, or data to upgrade first
        try:
            store = Store(data_dir)
        except StoreError as e:
            if write or e.code not in READ_ONLY_FALLBACK:
                raise
            store = Store(data_dir, read_only=True)
    if not store.read_only:
        try:
            setup_logging(store.data_dir)
        except OSError:
            pass  # an unwritable logs folder must not stop the command
    lang = detect_lang(getattr(args, "lang", None))
    for note in store.notes:
        print(error_text(note, lang), file=sys.stderr)
    if write and not store.read_only:
        from pos import cli_staff

        try:
            cli_staff.sign_in(store, args, lang)
        except BaseException:
            store.close()
            raise
    return store


def _cmd_none(args, lang: str, parser) -> int:
    """No command where the till's window cannot open (no screen): say that a screen is needed
    and how the command line is used, touch no data (it had loaded the demo catalog into
    whatever folder it was given and exited 0, as if the till had started)."""
    print(say("needs_screen", lang), file=sys.stderr)
    print(file=sys.stderr)
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _cmd_demo(args, lang: str) -> int:
    from pos.demo import run_demo

    with _open(args) as store:
        done = run_demo(store, sales=args.sales, seed=args.seed, day=args.date)
    # three counts, each with its own plural form, in one sentence
    print(say("demo_done", lang, path=store.data_dir,
              sales=say("demo_sales", lang, count=done["sales"]),
              refunds=say("demo_refunds", lang, count=done["refunds"]),
              voids=say("demo_voids", lang, count=done["voids"])))
    return EXIT_OK


def _cmd_catalog(args, lang: str) -> int:
    from pos.catalog_io import export_catalog, import_catalog

    with _open(args, write=args.catalog_command != "export") as store:
        with store.unit_of_work(write=args.catalog_command != "export") as uow:
            if args.catalog_command == "export":
                n = export_catalog(uow, args.file)
                print(say("catalog_exported", lang, count=n, path=args.file))
                return EXIT_OK
            result = import_catalog(uow, args.file, skip_invalid=args.skip_invalid)
            if result.applied:
                uow.commit()
    print(result.summary(lang), file=sys.stdout if result.applied else sys.stderr)
    return EXIT_OK if result.applied else EXIT_PROBLEMS


def _cmd_enterprise(args, lang: str) -> int:
    from decimal import Decimal, InvalidOperation

    from pos.services import add_enterprise, list_enterprises

    with _open(args, write=args.enterprise_command != "list") as store:
        with store.unit_of_work(write=args.enterprise_command != "list") as uow:
            if args.enterprise_command == "list":
                for e in list_enterprises(uow):
                    print(f"{e['name']}\t{e['bizno'] or '-'}\t{e['tax_status']}\t"
                          f"{e['commission_bp'] / 100:g}%\t{e['representative']}"
                          + ("\t" + say("enterprise_mandatory_mark", lang)
                             if e["cash_receipt_mandatory"] else ""))
                return EXIT_OK
            try:
                bp = int(Decimal(args.commission) * 100)
            except InvalidOperation:
                bp = -1
            from pos import audit
            from pos.services.staff import need

            need(uow, "catalog", subject=args.name[:100])
            add_enterprise(uow, name=args.name, bizno=args.bizno,
                           representative=args.representative, address=args.address,
                           phone=args.phone, tax_status=args.tax_status, commission_bp=bp,
                           cash_receipt_mandatory=args.cash_receipt_mandatory,
                           card_terminal=args.card_terminal)
            audit.record(uow, "catalog_edit", args.name[:100], {"what": "enterprise",
                                                                 "new": True})
            uow.commit()
    print(say("enterprise_added", lang, name=args.name))
    return EXIT_OK


def _cmd_sales(args, lang: str) -> int:
    from pos.export import export_sales

    with _open(args, write=False) as store:
        with store.unit_of_work(write=False) as uow:
            n = export_sales(uow, args.file, by=args.by,
                             day_from=args.day_from.isoformat() if args.day_from else None,
                             day_to=args.day_to.isoformat() if args.day_to else None)
    print(say("sales_exported", lang, count=n, path=args.file))
    return EXIT_OK


def parse_counts(text: str) -> dict[int, int]:
    """`50000=3,10000=12` → {50000: 3, 10000: 12}."""
    counts = {}
    for part in text.split(","):
        if not part.strip():
            continue
        denom, _, n = part.partition("=")
        from pos.domain import DomainError
        from pos.settlement import DENOMINATIONS

        try:
            counts[int(denom.strip().replace("원", ""))] = int(n)
        except ValueError:
            raise DomainError("count_invalid", detail=part) from None
        if int(denom.strip().replace("원", "")) not in DENOMINATIONS or int(n) < 0:
            raise DomainError("count_invalid", detail=part)  # not a Korean note or coin
    return counts


def _cmd_stock(args, lang: str) -> int:
    """`jangteo stock receive|count|return PRODUCT QTY` and `stock list`: goods received from
    an enterprise, counted, returned to it (movements, synced); what each product has."""
    from pos import services as svc
    from pos.domain import DomainError
    from pos.services.stock import record_stock

    kinds = {"receive": "received", "count": "counted", "return": "returned"}
    with _open(args, write=args.stock_command != "list") as store:
        with store.unit_of_work(write=args.stock_command != "list") as uow:
            if args.stock_command == "list":
                enterprise = None
                if args.enterprise:
                    found = svc.find_enterprise(uow, ref=args.enterprise)
                    if found is None:
                        raise DomainError("enterprise_unknown", value=args.enterprise)
                    enterprise = found["id"]
                for p in svc.list_products(uow, enterprise_id=enterprise):
                    if p["stock"] is not None:
                        print(say("stock_line", lang, name=p["name"], enterprise=p["enterprise_name"],
                                  qty=p["stock"]) + ("  " + say("stock_sold_out", lang)
                                                     if p["stock"] <= 0 else ""))
                return EXIT_OK
            product = _product_named(uow, args.product)
            moved = record_stock(uow, product_id=product["id"], kind=kinds[args.stock_command],
                                 qty=args.qty, reason=args.reason)
            uow.commit()
    print(say("stock_recorded", lang, name=product["name"], change=moved["change"],
              qty=moved["stock"]))
    return EXIT_OK


def _plain_count(text: str) -> int:
    """A count as typed: ASCII digits only (int() also takes "１２", "1_000" and "+5")."""
    import argparse

    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise argparse.ArgumentTypeError(text[:20])
    return int(text)


def _product_named(uow, ref: str) -> dict:
    """A product by SKU or barcode, else by its exact name (one product of that name)."""
    from pos import services as svc
    from pos.domain import DomainError

    try:
        return svc.product_by_code(uow, code=ref)
    except DomainError as e:
        if e.code != "product_unknown":
            raise
    named = [p for p in svc.list_products(uow) if p["name"] == ref.strip()]
    if len(named) != 1:
        raise DomainError("product_unknown", value=ref[:100])
    return named[0]


def _cmd_shift(args, lang: str) -> int:
    from pos import services as svc

    with _open(args, write=args.shift_command != "status") as store:
        with store.unit_of_work(write=args.shift_command != "status") as uow:
            if args.shift_command == "open":
                counts = parse_counts(args.count) if args.count else None
                shift = svc.open_shift(uow, float_amount=args.float_amount, counts=counts)
                uow.commit()
                print(say("shift_opened", lang, number=shift["number"],
                          amount=shift["float_amount"]))
                if shift.get("clock_note"):
                    code, params = shift["clock_note"]
                    print(error_text(CodedError(code, **params), lang), file=sys.stderr)
                return EXIT_OK
            if args.shift_command == "cash":
                kind, amount = ("in", args.cash_in) if args.cash_in is not None else ("out", args.cash_out)
                svc.move_cash(uow, kind=kind, amount=amount, reason=args.reason)
                uow.commit()
                print(say("cash_recorded", lang))
                return EXIT_OK
            if args.shift_command == "close":
                counts = parse_counts(args.count) if args.count else None
                open_now = svc.current_shift(uow)
                if open_now is not None and not (args.reason or "").strip():
                    from pos.settlement import count_total

                    total = count_total(counts) if counts is not None else args.counted
                    expected = svc.expected_cash(uow, shift_id=open_now["id"])
                    if total is not None and total != expected:  # a difference says why
                        print(say("shift_close_reason_needed", lang,
                                  difference=total - expected), file=sys.stderr)
                        return EXIT_USAGE
                result = svc.close_shift(uow, counts=counts, counted=args.counted,
                                         reason=args.reason)
                uow.commit()
                shift, figures = result
                c = figures.cash
                print(say("shift_closed", lang, number=shift["number"], net=figures.net,
                          expected=c.expected, counted=c.counted, difference=c.difference))
                if result.backup_error is not None:
                    # the close is done and recorded (exit 0: a script must not close again);
                    # only the backup copy is missing, and the sentence says so
                    print(tr("shift_closed_backup_failed", lang,
                             problem=error_text(result.backup_error, lang)), file=sys.stderr)
                return EXIT_OK
            shift = svc.current_shift(uow)
            if shift is None:
                print(say("no_shift_open", lang))
                return EXIT_OK
            f = svc.shift_settlement(uow, shift_id=shift["id"])
    print(say("shift_figures", lang, number=shift["number"], count=f.receipt_count, net=f.net,
              expected=f.cash.expected))
    return EXIT_OK


def _sell_items(values: list[str]):
    from pos.domain import DomainError

    parsed = []
    for value in values:
        code, _, qty = value.rpartition(":") if ":" in value else (value, "", "1")
        code, qty = code.strip(), qty.strip()
        try:
            code.encode("utf-8")  # a byte the terminal could not decode arrives as a surrogate
        except UnicodeEncodeError:
            code = ""
        if not code or len(code) > 200 or any(ord(ch) < 32 or ord(ch) == 127 for ch in code) \
                or not (qty.isascii() and qty.isdigit() and len(qty) <= 4) or int(qty) < 1:
            raise DomainError("sell_item_invalid",
                              value=value[:80].encode("utf-8", "replace").decode("utf-8"))
        parsed.append((code, int(qty)))
    return parsed


def _sell_tenders(values: list[str], total: int, approval: str | None, methods: dict,
                  terminal=lambda name: None, parts: dict | None = None):
    """Tenders from `METHOD[:AMOUNT][@ENTERPRISE]`; a payment without an amount pays what is
    still due; `@ENTERPRISE` (a card): taken on that enterprise's own terminal, found by
    `terminal` (name or id to id, None when unknown), by default its part of the sale
    (`parts`: {enterprise id: won}) not yet taken on it."""
    parts = parts or {}
    from pos.domain import DomainError, MethodKind, Tender
    from pos.money import parse_won

    tenders, due = [], total
    for value in values:
        head, at, where = value.partition("@")
        enterprise = None
        if at:
            enterprise = terminal(where.strip())
            if enterprise is None:
                raise DomainError("terminal_unknown", name=where.strip()[:40] or "?")
        method, sep, amount = head.partition(":")
        method = method.strip()
        face = count = None
        try:
            if sep and "x" in amount.lower():  # vouchers: FACExCOUNT (10000x3)
                face_text, _, count_text = amount.lower().partition("x")
                count_text = count_text.strip()
                if not (count_text.isascii() and count_text.isdigit()):
                    raise ValueError(amount)
                face, count = parse_won(face_text), int(count_text)
                if not 1 <= count <= 1000 or face <= 0:
                    raise ValueError(amount)
                paid = face * count
            elif enterprise is not None and not sep:
                left = parts.get(enterprise, 0) - sum(x.amount for x in tenders
                                                      if x.terminal == enterprise)
                paid = min(due, left)
                if paid <= 0:
                    raise DomainError("terminal_part_taken", name=where.strip()[:40])
            else:
                paid = parse_won(amount) if sep else max(due, 0)
        except ValueError:
            raise DomainError("sell_pay_invalid", value=value[:80]) from None
        if not method or paid < 0:
            raise DomainError("sell_pay_invalid", value=value[:80])
        if method not in methods:
            raise DomainError("method_unknown", method=method[:40])
        card = methods[method].kind == MethodKind.CARD
        tenders.append(Tender(method, paid, approval_no=approval if card else None,
                              face_value=face, count=count, terminal=enterprise))
        due -= paid
    return tenders


def _cmd_sell(args, lang: str, extensions=()) -> int:
    """The same use case as paying at the till: the sale, its outbox event and its print jobs
    in one transaction; a printer that is set up prints the receipt."""
    from pos import services as svc

    items_wanted = _sell_items(args.item)
    with _open(args) as store:
        with store.unit_of_work() as uow:
            if svc.current_shift(uow) is None:
                # as the till asks: a sale outside a shift is in no cash count or Z report
                print(say("sell_no_shift", lang), file=sys.stderr)
                return EXIT_PROBLEMS
            items = [svc.SaleItem(svc.product_by_code(uow, code=code)["id"], qty)
                     for code, qty in items_wanted]
            quoted = svc.quote_sale(uow, items=items)
            total = quoted.totals.total
            parts: dict[str, int] = {}
            for ln in quoted.lines:
                parts[ln.enterprise_id] = parts.get(ln.enterprise_id, 0) + ln.amount
            tenders = _sell_tenders(args.pay, total, args.approval, svc.payment_methods(uow),
                                    lambda ref: (svc.find_enterprise(uow, ref=ref)
                                                 or {}).get("id") if ref else None, parts)
            from pos.services.cash_receipts import Ask

            ask = Ask(args.cash_receipt, args.purpose) if args.cash_receipt is not None else None
            doc = svc.record_sale(uow, items=items, tenders=tenders,
                                  receipt_requested=not args.no_receipt, cash_receipt=ask)
            uow.commit()
        if doc.change:
            print(say("sale_recorded_change", lang, receipt_no=doc.receipt_no,
                      total=doc.totals.total, change=doc.change))
        else:
            print(say("sale_recorded", lang, receipt_no=doc.receipt_no, total=doc.totals.total))
        if doc.clock_note:
            code, params = doc.clock_note
            print(error_text(CodedError(code, **params), lang), file=sys.stderr)
        from pos import cli_cash_receipts

        cli_cash_receipts.say_made(doc.cash_receipts, lang)
        if args.cash_receipt is not None and not doc.cash_receipts:
            print(say("cash_receipt_none_for_sale", lang), file=sys.stderr)
        for extension in extensions:
            if hasattr(extension, "after_sale"):
                extension.after_sale(store, doc, lang)
    return EXIT_OK


def _cmd_check(args, lang: str) -> int:
    from pos.services.check import check

    with _open(args, write=False) as store:
        with store.unit_of_work(write=False) as uow:
            result = check(uow, days=None if args.check_all else CHECK_DAYS)
            from pos import audit

            entries = audit.count(uow)
    problems, count = result.problems, result.documents
    if result.everything:  # what was checked, on stdout whatever was found
        print(say("check_scope_all", lang))
    else:
        print(say("check_scope_recent", lang, days=CHECK_DAYS, first=result.first_day,
                  last=result.last_day))
    chain_broken = any(pr.code.startswith("audit_") for pr in problems)
    if entries and not chain_broken:
        print(say("check_audit_ok", lang, count=entries))
    if not problems:
        print(say("check_ok", lang, count=count))
        return EXIT_OK
    print(say("check_problems", lang, count=len(problems)), file=sys.stderr)
    for pr in problems:  # the rule in the user's words; subject and detail as the data says
        label = say(CHECK_RULES[pr.code], lang) + " " if pr.code in CHECK_RULES else ""
        print(f"  {label}[{pr.code}] {pr.subject}: {pr.detail}", file=sys.stderr)
    return EXIT_PROBLEMS


# each rule of `jangteo check` by its name in the catalogue
CHECK_RULES = {
    "integrity": "check_rule_integrity",
    "foreign_keys": "check_rule_foreign_keys",
    "lines_total": "check_rule_lines_total",
    "line_arithmetic": "check_rule_line_arithmetic",
    "payments_total": "check_rule_payments_total",
    "vat_split": "check_rule_vat_split",
    "cash_receipts_within_cash": "check_rule_cash_receipts_within_cash",
    "refund_within_sold": "check_rule_refund_within_sold",
    "return_points_to_sale": "check_rule_return_points_to_sale",
    "seq_gapless": "check_rule_seq_gapless",
    "document_in_outbox": "check_rule_document_in_outbox",
    "receipt_numbers": "check_rule_receipt_numbers",
    "document_has_lines": "check_rule_document_has_lines",
    "receipts_missing": "check_rule_receipts_missing",
    "events_missing": "check_rule_events_missing",
    "audit_edited": "check_rule_audit_edited",
    "audit_chain": "check_rule_audit_chain",
    "audit_unsent": "check_rule_audit_unsent",
}


def _backup_kind(b, lang: str) -> str:
    if b.kind == "close":
        return say("backup_kind_close", lang, number=b.number)
    if b.kind == "migration":
        return say("backup_kind_migration", lang, revision=b.revision)
    return b.label


def _cmd_backup(args, lang: str) -> int:
    """`jangteo backup list`: needs no lock, so it works while the till runs."""
    from pos.backups import find_backup, list_backups
    from pos.store import BACKUP_DIR, StoreError, default_data_dir

    data_dir = args.data_dir or default_data_dir()
    folder = data_dir / BACKUP_DIR
    found = list_backups(folder)
    if not found:
        print(say("backup_list_empty", lang, path=folder))
        return EXIT_OK
    try:
        default = find_backup(data_dir).path
    except StoreError:
        default = None
    print(say("backup_list_heading", lang, path=folder))
    for b in found:
        mark = say("backup_list_default", lang) if b.path == default else ""
        print(say("backup_list_row", lang, when=f"{b.when:%Y-%m-%d %H:%M:%S}",
                  kind=_backup_kind(b, lang), size=b.size / 1e6, name=b.name, mark=mark))
    return EXIT_OK


def _manager_for_restore(args, lang: str, data_dir) -> None:
    """With staff accounts on, a restore (it takes the staff, their PINs and the audit log back
    to the backup's) is a manager's: `--staff` a manager, or `--approver` one."""
    from pos.domain import DomainError
    from pos.i18n import Phrase
    from pos.services import staff
    from pos.store import Store, StoreError

    try:
        store = Store(data_dir)
    except StoreError:
        return  # a file that cannot be opened is what restore is for
    with store:
        from pos import cli_staff

        cli_staff.sign_in(store, args, lang)
        with store.unit_of_work() as uow:
            if not staff.accounts_on(uow):
                return
            for person in (store.actor, store.approver):
                if person is not None and person.manager:
                    return
            if store.actor is None:
                raise DomainError("sign_in_needed")
            raise DomainError("needs_approval", right=Phrase("right_staff"),
                              name=store.actor.name)


def _audit_restore(data_dir, done) -> None:
    """The restore goes into the restored file's audit log (and to the server with it): what
    came back, and how many receipts the replaced file had that the backup lacks. A store that
    cannot be opened now says so at the till's next start; the restore itself stands."""
    import logging

    from pos import audit
    from pos.store import Store, StoreError

    try:
        with Store(data_dir) as store, store.unit_of_work() as uow:
            audit.record(uow, "restore", done.backup.path.name,
                         {"kept": str(done.kept or ""), "lacking": done.lacking or 0})
            uow.commit()
    except (StoreError, OSError) as e:
        logging.getLogger("jangteo.cli").warning("restore not put in the audit log: %s", e)


def _cmd_restore(args, lang: str) -> int:
    """`jangteo restore [BACKUP]`: asks nothing; refuses while the till has the folder open."""
    from pos.backups import restore
    from pos.store import default_data_dir

    data_dir = args.data_dir or default_data_dir()
    _manager_for_restore(args, lang, data_dir)
    done = restore(data_dir, args.backup)
    _audit_restore(data_dir, done)
    print(say("restore_done", lang, backup=done.backup.path, kind=_backup_kind(done.backup, lang),
              path=done.data_file))
    if done.kept is None:
        print(say("restore_nothing_replaced", lang))
        return EXIT_OK
    print(say("restore_kept", lang, path=done.kept))
    if done.unreadable:
        print(say("restore_replaced_unreadable", lang, path=done.kept))
    elif done.lacking:
        print(say("restore_lacking", lang, count=done.lacking, receipt_no=done.newest_lacking,
                  path=done.kept))
    else:
        print(say("restore_none_lacking", lang))
    return EXIT_OK


def main(argv: list[str] | None = None, extensions=()) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    lang = detect_lang(_lang_from_argv(argv))
    parser = build_parser(lang, extensions)
    args = parser.parse_args(argv)
    lang = detect_lang(args.lang)
    from pos.catalog_io import ImportFileError
    from pos.demo import DemoNotEmpty
    from pos.domain import DomainError
    from pos.store import StoreError

    try:
        if args.command is None:
            return _cmd_none(args, lang, parser)
        handlers = {"demo": _cmd_demo, "catalog": _cmd_catalog, "enterprise": _cmd_enterprise,
                    "sales": _cmd_sales, "check": _cmd_check, "shift": _cmd_shift,
                    "sell": lambda a, lg: _cmd_sell(a, lg, extensions),
                    "backup": _cmd_backup, "restore": _cmd_restore, "stock": _cmd_stock}
        from pos import cli_cash_receipts, cli_staff

        for extension in (cli_staff, cli_cash_receipts, *extensions):
            handlers.update(extension.handlers(_open))
        return handlers[args.command](args, lang)
    except StoreError as e:
        print(error_text(e, lang), file=sys.stderr)
        return EXIT_STORE
    except DemoNotEmpty:
        print(say("demo_not_empty", lang), file=sys.stderr)
        return EXIT_PROBLEMS
    except (DomainError, ImportFileError) as e:
        print(error_text(e, lang), file=sys.stderr)
        if getattr(e, "code", None) == "needs_approval":
            print(say("approver_hint", lang), file=sys.stderr)
        return EXIT_PROBLEMS
    except CodedError as e:  # e.g. a printer error: the sentence, not a traceback
        print(error_text(e, lang), file=sys.stderr)
        return EXIT_PROBLEMS
    except OSError as e:  # a file the command was told to write or read (an export, a PDF)
        print(say("file_failed", lang, path=e.filename or "", reason=os_reason(e, lang)),
              file=sys.stderr)
        return EXIT_PROBLEMS


_REASONS = {"ENOSPC": "reason_disk_full", "EDQUOT": "reason_disk_full",
            "ENOENT": "reason_no_folder", "EISDIR": "reason_is_folder",
            "ENOTDIR": "reason_no_folder", "EACCES": "reason_no_permission",
            "EPERM": "reason_no_permission", "EROFS": "reason_read_only",
            "ENAMETOOLONG": "reason_name_too_long", "EIO": "reason_io"}


def os_reason(error: OSError, lang: str) -> str:
    """Why a file could not be used, in the user's words (not the C library's English)."""
    import errno

    key = _REASONS.get(errno.errorcode.get(error.errno or 0, ""))
    return say(key, lang) if key else (error.strerror or str(error))


if __name__ == "__main__":
    sys.exit(main())
