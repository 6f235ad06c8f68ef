"""The `jangteo` command: `jangteo [--data-dir DIR] [--lang ko|en] COMMAND …`.

Every command opens the data directory through `pos.store.Store` (lock, integrity check,
migrations) and calls the same services as the GUI.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from pos import __version__
from pos.errors import CodedError
from pos.i18n import detect_lang, error_text

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_STORE = 0, 1, 2, 3


def _lang_from_argv(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


# argparse's own words (headings, "usage", its error messages) in Korean: argparse looks them up
# through its module-level `_` when it builds and prints, so the CLI swaps that function for the
# language of the run (one language per process).
ARGPARSE_KO = {
    "usage: ": "사용법: ",
    "positional arguments": "인자",
    "options": "옵션",
    "show this help message and exit": "이 도움말을 보이고 끝냅니다",
    "%(prog)s: error: %(message)s\n": "%(prog)s: 오류: %(message)s\n",
    "the following arguments are required: %s": "다음 인자가 필요합니다: %s",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "고를 수 없는 값: %(value)r (고를 수 있는 값: %(choices)s)",
    "invalid %(type)s value: %(value)r": "%(type)s 값이 잘못되었습니다: %(value)r",
    "unrecognized arguments: %s": "알 수 없는 인자: %s",
    "argument %(argument_name)s: %(message)s": "%(argument_name)s: %(message)s",
    "expected one argument": "값 하나가 필요합니다",
    "expected at least one argument": "값이 하나 이상 필요합니다",
    "ambiguous option: %(option)s could match %(matches)s":
        "모호한 옵션: %(option)s (%(matches)s 중 무엇인지 알 수 없습니다)",
    "one of the arguments %s is required": "%s 중 하나가 필요합니다",
    "not allowed with argument %s": "%s와 함께 쓸 수 없습니다",
}


def _argparse_language(lang: str) -> None:
    from gettext import gettext

    argparse._ = (lambda text: ARGPARSE_KO.get(text, gettext(text))) if lang == "ko" else gettext


def build_parser(lang: str, extensions=()) -> argparse.ArgumentParser:
    """The parser; `extensions` (modules with `add_commands(sub, h)`) add the commands of the
    layers above `pos` (printing), which `pos` itself must not import."""
    def h(ko: str, en: str) -> str:
        return ko if lang == "ko" else en

    _argparse_language(lang)
    p = argparse.ArgumentParser(
        prog="jangteo",
        description=h("장터: 장터·공동판매장을 위한 오프라인 우선 판매 관리(POS)",
                      "Jangteo: an offline-first point of sale for market booths and joint stalls"))
    p.add_argument("--version", action="version", version=f"jangteo {__version__}",
                   help=h("버전을 보이고 끝냅니다", "show the version and exit"))
    p.add_argument("--data-dir", type=Path, default=None,
                   help=h("데이터 폴더 (기본: 사용자 데이터 폴더, 또는 JANGTEO_DATA_DIR)",
                          "data folder (default: the user data folder, or JANGTEO_DATA_DIR)"))
    p.add_argument("--lang", choices=["ko", "en"], default=None,
                   help=h("표시 언어", "language of messages"))
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help=h("데모 공동판매장과 하루치 판매를 만듭니다",
                                         "fill the data folder with a demo joint stall and a "
                                         "market day of sales"))
    demo.add_argument("--sales", type=int, default=300, help=h("판매 건수", "number of sales"))
    demo.add_argument("--seed", type=int, default=1, help=h("난수 씨앗", "random seed"))
    demo.add_argument("--date", type=date.fromisoformat, default=None,
                      help=h("장날 (YYYY-MM-DD, 기본: 오늘)", "market day (YYYY-MM-DD, default today)"))

    cat = sub.add_parser("catalog", help=h("상품 목록 가져오기·내보내기",
                                           "import or export the product catalog"))
    cat_sub = cat.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)
    imp = cat_sub.add_parser("import", help=h("CSV/XLSX에서 상품을 가져옵니다",
                                              "import products from CSV or XLSX"))
    imp.add_argument("file", type=Path)
    imp.add_argument("--skip-invalid", action="store_true",
                     help=h("잘못된 행은 건너뛰고 나머지를 가져옵니다",
                            "import the valid rows and skip the invalid ones"))
    exp = cat_sub.add_parser("export", help=h("상품을 CSV/XLSX로 내보냅니다",
                                              "export products to CSV or XLSX"))
    exp.add_argument("file", type=Path)

    ent = sub.add_parser("enterprise", help=h("입점 업체 관리", "enterprises of the stall"))
    ent_sub = ent.add_subparsers(dest="enterprise_command", metavar="ACTION", required=True)
    ent_sub.add_parser("list", help=h("업체 목록", "list enterprises"))
    add = ent_sub.add_parser("add", help=h("업체 추가", "add an enterprise"))
    add.add_argument("--name", required=True, help=h("상호", "trade name"))
    add.add_argument("--bizno", default=None, help=h("사업자등록번호", "business registration number"))
    add.add_argument("--representative", default="", help=h("대표자", "representative"))
    add.add_argument("--address", default="", help=h("주소", "address"))
    add.add_argument("--phone", default="", help=h("전화번호", "phone"))
    add.add_argument("--tax-status", default="general",
                     choices=["general", "simplified", "exempt"],
                     help=h("일반과세자/간이과세자/면세사업자", "general / simplified / exempt"))
    add.add_argument("--commission", type=str, default="0",
                     help=h("판매 수수료율 %% (예: 12.5)", "commission rate in %% (e.g. 12.5)"))

    sales = sub.add_parser("sales", help=h("판매 내역", "sales"))
    sales_sub = sales.add_subparsers(dest="sales_command", metavar="ACTION", required=True)
    sexp = sales_sub.add_parser("export", help=h("판매 내역을 CSV로 내보냅니다 (엑셀용 UTF-8 BOM)",
                                                 "export sales to CSV (UTF-8 with BOM for Excel)"))
    sexp.add_argument("file", type=Path)
    sexp.add_argument("--from", dest="day_from", type=date.fromisoformat, default=None,
                      help=h("시작일 YYYY-MM-DD", "first day YYYY-MM-DD"))
    sexp.add_argument("--to", dest="day_to", type=date.fromisoformat, default=None,
                      help=h("종료일 YYYY-MM-DD", "last day YYYY-MM-DD"))
    sexp.add_argument("--by", choices=["line", "receipt"], default="line",
                      help=h("품목별 또는 영수증별", "one row per line or per receipt"))

    shift = sub.add_parser("shift", help=h("교대 열기·입출금·마감", "open, cash in/out, close a shift"))
    shift_sub = shift.add_subparsers(dest="shift_command", metavar="ACTION", required=True)
    so = shift_sub.add_parser("open", help=h("준비금으로 교대를 엽니다", "open a shift with a float"))
    so.add_argument("--float", dest="float_amount", type=int, default=None,
                    help=h("준비금 합계 (원)", "float as a total (won)"))
    so.add_argument("--count", default=None,
                    help=h("권종별 수량: 10000=5,1000=20", "count by denomination: 10000=5,1000=20"))
    sc = shift_sub.add_parser("close", help=h("현금을 세어 교대를 마감합니다 (Z 보고서)",
                                              "count the cash and close the shift (Z report)"))
    sc.add_argument("--count", default=None,
                    help=h("권종별 수량: 50000=3,10000=12,…", "count by denomination: 50000=3,…"))
    sc.add_argument("--counted", type=int, default=None, help=h("센 현금 합계", "counted total"))
    cash = shift_sub.add_parser("cash", help=h("현금 입금/출금", "cash in or out"))
    direction = cash.add_mutually_exclusive_group(required=True)
    direction.add_argument("--in", dest="cash_in", type=int, help=h("넣은 금액", "amount put in"))
    direction.add_argument("--out", dest="cash_out", type=int, help=h("꺼낸 금액", "amount taken out"))
    cash.add_argument("--reason", required=True, help=h("사유", "reason"))
    shift_sub.add_parser("status", help=h("지금 교대의 현황 (X)", "the open shift's figures (X)"))

    sub.add_parser("check", help=h("데이터 무결성과 판매 규칙을 점검합니다",
                                   "check the data file and the rules every sale must keep"))

    sell = sub.add_parser("sell", help=h("판매 한 건을 기록합니다 (화면의 결제와 같은 처리)",
                                         "record a sale, exactly as paying at the till does"))
    sell.add_argument("--item", action="append", required=True, metavar="SKU_OR_BARCODE[:QTY]",
                      help=h("상품코드나 바코드와 수량 (여러 번 쓸 수 있음)",
                             "a product's SKU or barcode and its quantity (repeatable)"))
    sell.add_argument("--pay", action="append", required=True, metavar="METHOD[:AMOUNT]",
                      help=h("결제수단과 받은 금액 (여러 번; 금액을 빼면 남은 금액)",
                             "payment method and amount tendered (repeatable; without an "
                             "amount it pays what is left)"))
    sell.add_argument("--approval", default=None,
                      help=h("카드 승인번호", "the card terminal's approval number"))
    sell.add_argument("--no-receipt", action="store_true",
                      help=h("영수증을 인쇄하지 않습니다", "do not print a receipt"))
    for extension in extensions:
        extension.add_commands(sub, h)
    return p


def _open(args):
    from pos.store import Store, default_data_dir

    return Store(args.data_dir or default_data_dir())


def _cmd_none(args, lang: str, parser) -> int:
    from pos.demo import load_demo_catalog
    from pos.services import list_products

    with _open(args) as store:
        added = load_demo_catalog(store)
        with store.unit_of_work(write=False) as uow:
            count = len(list_products(uow, active_only=True))
    ko = lang == "ko"
    print(("장터 데이터 폴더: " if ko else "Jangteo data folder: ") + str(store.data_dir))
    if added:
        print(f"처음 시작: 데모 상품 {added}개를 넣었습니다." if ko else
              f"First start: loaded the demo catalog ({added} products).")
    print(f"판매 중인 상품 {count}개." if ko else f"{count} products on sale.")
    print("판매 화면(GUI)은 다음 버전에 들어갑니다. 지금은 명령줄을 쓸 수 있습니다:" if ko else
          "The selling screen (GUI) arrives in the next version. Until then, use the commands:")
    print()
    parser.print_help()
    return EXIT_OK


def _cmd_demo(args, lang: str) -> int:
    from pos.demo import run_demo

    with _open(args) as store:
        done = run_demo(store, sales=args.sales, seed=args.seed, day=args.date)
    if lang == "ko":
        print(f"데모 완료: 판매 {done['sales']}건, 환불 {done['refunds']}건, 취소 {done['voids']}건"
              f" → {store.data_dir}")
    else:
        print(f"Demo ready: {done['sales']} sales, {done['refunds']} refunds, {done['voids']} voids"
              f" in {store.data_dir}")
    return EXIT_OK


def _cmd_catalog(args, lang: str) -> int:
    from pos.catalog_io import export_catalog, import_catalog

    with _open(args) as store:
        with store.unit_of_work() as uow:
            if args.catalog_command == "export":
                n = export_catalog(uow, args.file)
                print(f"상품 {n}개를 {args.file}에 저장했습니다." if lang == "ko" else
                      f"Wrote {n} products to {args.file}.")
                return EXIT_OK
            result = import_catalog(uow, args.file, skip_invalid=args.skip_invalid)
            if result.applied:
                uow.commit()
    print(result.summary(lang), file=sys.stdout if result.applied else sys.stderr)
    return EXIT_OK if result.applied else EXIT_PROBLEMS


def _cmd_enterprise(args, lang: str) -> int:
    from decimal import Decimal, InvalidOperation

    from pos.services import add_enterprise, list_enterprises

    with _open(args) as store:
        with store.unit_of_work() as uow:
            if args.enterprise_command == "list":
                for e in list_enterprises(uow):
                    print(f"{e['name']}\t{e['bizno'] or '-'}\t{e['tax_status']}\t"
                          f"{e['commission_bp'] / 100:g}%\t{e['representative']}")
                return EXIT_OK
            try:
                bp = int(Decimal(args.commission) * 100)
            except InvalidOperation:
                bp = -1
            add_enterprise(uow, name=args.name, bizno=args.bizno,
                           representative=args.representative, address=args.address,
                           phone=args.phone, tax_status=args.tax_status, commission_bp=bp)
            uow.commit()
    print(f"업체를 추가했습니다: {args.name}" if lang == "ko" else f"Added enterprise: {args.name}")
    return EXIT_OK


def _cmd_sales(args, lang: str) -> int:
    from pos.export import export_sales

    with _open(args) as store:
        with store.unit_of_work(write=False) as uow:
            n = export_sales(uow, args.file, by=args.by,
                             day_from=args.day_from.isoformat() if args.day_from else None,
                             day_to=args.day_to.isoformat() if args.day_to else None)
    print(f"{n}행을 {args.file}에 저장했습니다." if lang == "ko" else f"Wrote {n} rows to {args.file}.")
    return EXIT_OK


def parse_counts(text: str) -> dict[int, int]:
    """`50000=3,10000=12` → {50000: 3, 10000: 12}."""
    counts = {}
    for part in text.split(","):
        if not part.strip():
            continue
        denom, _, n = part.partition("=")
        try:
            counts[int(denom.strip().replace("원", ""))] = int(n)
        except ValueError:
            from pos.domain import DomainError

            raise DomainError("count_invalid", detail=part) from None
    return counts


def _cmd_shift(args, lang: str) -> int:
    from pos import services as svc
    from pos.money import format_won

    ko = lang == "ko"
    with _open(args) as store:
        with store.unit_of_work() as uow:
            if args.shift_command == "open":
                counts = parse_counts(args.count) if args.count else None
                shift = svc.open_shift(uow, float_amount=args.float_amount, counts=counts)
                uow.commit()
                print(f"교대 #{shift['number']}을 열었습니다. 준비금 {format_won(shift['float_amount'])}"
                      if ko else f"Shift #{shift['number']} open, float "
                      f"{format_won(shift['float_amount'], 'en')}")
                return EXIT_OK
            if args.shift_command == "cash":
                kind, amount = ("in", args.cash_in) if args.cash_in is not None else ("out", args.cash_out)
                svc.move_cash(uow, kind=kind, amount=amount, reason=args.reason)
                uow.commit()
                print("기록했습니다." if ko else "Recorded.")
                return EXIT_OK
            if args.shift_command == "close":
                counts = parse_counts(args.count) if args.count else None
                shift, figures = svc.close_shift(uow, counts=counts, counted=args.counted)
                uow.commit()
                c = figures.cash
                print(f"교대 #{shift['number']} 마감. 순매출 {format_won(figures.net)}, 예상 현금 "
                      f"{format_won(c.expected)}, 실제 {format_won(c.counted)}, 차액 "
                      f"{format_won(c.difference)}" if ko else
                      f"Shift #{shift['number']} closed. Net {format_won(figures.net, 'en')}, "
                      f"expected cash {format_won(c.expected, 'en')}, counted "
                      f"{format_won(c.counted, 'en')}, difference {format_won(c.difference, 'en')}")
                return EXIT_OK
            shift = svc.current_shift(uow)
            if shift is None:
                print("열린 교대가 없습니다." if ko else "No shift is open.")
                return EXIT_OK
            f = svc.shift_settlement(uow, shift_id=shift["id"])
    print(f"교대 #{shift['number']} · 영수증 {f.receipt_count}건 · 순매출 {format_won(f.net)} · "
          f"예상 현금 {format_won(f.cash.expected)}" if ko else
          f"Shift #{shift['number']} · {f.receipt_count} receipts · net "
          f"{format_won(f.net, 'en')} · expected cash {format_won(f.cash.expected, 'en')}")
    return EXIT_OK


def _sell_items(values: list[str]):
    from pos.domain import DomainError

    parsed = []
    for value in values:
        code, _, qty = value.rpartition(":") if ":" in value else (value, "", "1")
        code = code.strip()
        if not code or not qty.strip().isdigit() or not 1 <= int(qty) <= 9999 or \
                any(ord(ch) < 32 for ch in code):
            raise DomainError("sell_item_invalid", value=value[:80])
        parsed.append((code, int(qty)))
    return parsed


def _sell_tenders(values: list[str], total: int, approval: str | None, methods: dict):
    """Tenders from `METHOD[:AMOUNT]`; a payment without an amount pays what is still due."""
    from pos.domain import DomainError, MethodKind, Tender
    from pos.money import parse_won

    tenders, due = [], total
    for value in values:
        method, sep, amount = value.partition(":")
        method = method.strip()
        try:
            paid = parse_won(amount) if sep else max(due, 0)
        except ValueError:
            raise DomainError("sell_pay_invalid", value=value[:80]) from None
        if not method or paid < 0:
            raise DomainError("sell_pay_invalid", value=value[:80])
        if method not in methods:
            raise DomainError("method_unknown", method=method[:40])
        card = methods[method].kind == MethodKind.CARD
        tenders.append(Tender(method, paid, approval_no=approval if card else None))
        due -= paid
    return tenders


def _cmd_sell(args, lang: str, extensions=()) -> int:
    """The same use case as paying at the till: the sale, its outbox event and its print jobs
    in one transaction; a printer that is set up prints the receipt."""
    from pos import services as svc
    from pos.money import format_won

    items_wanted = _sell_items(args.item)
    with _open(args) as store:
        with store.unit_of_work() as uow:
            items = [svc.SaleItem(svc.product_by_code(uow, code=code)["id"], qty)
                     for code, qty in items_wanted]
            total = svc.quote_sale(uow, items=items).totals.total
            tenders = _sell_tenders(args.pay, total, args.approval, svc.payment_methods(uow))
            doc = svc.record_sale(uow, items=items, tenders=tenders,
                                  receipt_requested=not args.no_receipt)
            uow.commit()
        ko = lang == "ko"
        print(f"{doc.receipt_no}  {format_won(doc.totals.total, lang)}" +
              ((f"  거스름돈 {format_won(doc.change)}" if ko else
                f"  change {format_won(doc.change, lang)}") if doc.change else ""))
        for extension in extensions:
            if hasattr(extension, "after_sale"):
                extension.after_sale(store, doc, lang)
    return EXIT_OK


def _cmd_check(args, lang: str) -> int:
    from pos.services.check import run_checks

    with _open(args) as store:
        with store.unit_of_work(write=False) as uow:
            problems = run_checks(uow)
            count = uow.conn.exec_driver_sql("SELECT COUNT(*) FROM sales").scalar()
    if not problems:
        print(f"이상 없음: 문서 {count}건을 점검했습니다." if lang == "ko" else
              f"All good: {count} documents checked.")
        return EXIT_OK
    print(f"문제 {len(problems)}건을 찾았습니다:" if lang == "ko" else
          f"Found {len(problems)} problems:", file=sys.stderr)
    for pr in problems:
        print(f"  [{pr.code}] {pr.subject}: {pr.detail}", file=sys.stderr)
    return EXIT_PROBLEMS


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
                    "sell": lambda a, lg: _cmd_sell(a, lg, extensions)}
        for extension in extensions:
            handlers.update(extension.handlers(_open))
        return handlers[args.command](args, lang)
    except StoreError as e:
        print(error_text(e, lang), file=sys.stderr)
        return EXIT_STORE
    except DemoNotEmpty:
        print("이 데이터 폴더에는 이미 판매 기록이 있어 데모를 만들지 않습니다. 빈 폴더를 "
              "--data-dir로 지정해 주세요." if lang == "ko" else
              "This data folder already has sales; the demo needs an empty one (use --data-dir).",
              file=sys.stderr)
        return EXIT_PROBLEMS
    except (DomainError, ImportFileError) as e:
        print(error_text(e, lang), file=sys.stderr)
        return EXIT_PROBLEMS
    except CodedError as e:  # e.g. a printer error: the sentence, not a traceback
        print(error_text(e, lang), file=sys.stderr)
        return EXIT_PROBLEMS


if __name__ == "__main__":
    sys.exit(main())
