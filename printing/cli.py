"""`jangteo print …`: test page, a receipt by number, and a preview PNG from the bytes."""

from __future__ import annotations

from pathlib import Path

from printing.profiles import PRESETS


def add_commands(sub, h) -> None:
    pr = sub.add_parser("print", help=h("영수증 인쇄·미리보기", "print and preview receipts"))
    actions = pr.add_subparsers(dest="print_command", metavar="ACTION", required=True)
    profiles = sorted(PRESETS)

    test = actions.add_parser("test", help=h("시험 인쇄 (한글 확인용)", "print a test page (checks Hangul)"))
    test.add_argument("--printer", default=None, help=h("프린터 주소 (예: tcp://192.168.0.50:9100)",
                                                         "printer URL (e.g. tcp://192.168.0.50:9100)"))
    test.add_argument("--profile", choices=profiles, default=None, help=h("프린터 종류", "printer profile"))

    receipt = actions.add_parser("receipt", help=h("영수증을 다시 인쇄합니다 (사본 표시)",
                                                   "print a receipt again (marked as a copy)"))
    receipt.add_argument("receipt_no")
    receipt.add_argument("--printer", default=None)
    receipt.add_argument("--profile", choices=profiles, default=None)

    preview = actions.add_parser("preview", help=h("보낼 바이트를 그대로 그림(PNG)으로 봅니다",
                                                   "the bytes that would be sent, as a PNG"))
    preview.add_argument("receipt_no")
    preview.add_argument("--png", type=Path, required=True)
    preview.add_argument("--profile", choices=profiles, default=None)


def handlers(open_store) -> dict:
    return {"print": lambda args, lang: _run(args, lang, open_store)}


def _setup(uow, args):
    from printing.profiles import profile as make_profile
    from printing.queue import PrinterSetup, printer_setup
    from printing.transport import PrinterError

    stored = printer_setup(uow)
    url = getattr(args, "printer", None) or (stored.url if stored else None)
    prof = (make_profile(args.profile) if args.profile
            else stored.profile if stored else make_profile(None))
    if url is None and args.print_command != "preview":
        raise PrinterError("printer_not_set")
    return PrinterSetup(url or "", prof)


def test_page(prof) -> bytes:
    from printing.layout import Barcode, Feed, QR, Row, Rule
    from printing.render import render

    cols = prof.columns
    items = [Row("장터 시험 인쇄", bold=True, double=True, align="center"),
             Row("JANGTEO TEST PRINT", align="center"), Rule("="),
             Row("한글: 가나다라마바사 김밥 수제비누"), Row("숫자", "1,234,567"),
             Row(f"{prof.name}"), Row(f"{prof.dots} dots", f"{cols} cols"), Rule(),
             Row("0123456789" * (cols // 10) + "0123456789"[:cols % 10]),
             Row("가나다라마바사아자차카타파하"[:cols // 2]), Feed(),
             QR("https://jangteo.example/test"), Barcode("A01-202611220001")]
    return render(items, prof, drawer=False)


def _run(args, lang: str, open_store) -> int:
    from printing.decode import preview
    from printing.queue import render_receipt
    from printing.transport import send

    from pos import services as svc

    with open_store(args) as store:
        with store.unit_of_work(write=False) as uow:
            setup = _setup(uow, args)
            if args.print_command == "test":
                data = test_page(setup.profile)
            else:
                doc = svc.get_document(uow, receipt_no=args.receipt_no)
                data = render_receipt(uow, setup.profile, document_id=doc.id,
                                      copy=args.print_command == "receipt")
    if args.print_command == "preview":
        preview(data, setup.profile).save(args.png)
        print(f"{args.png} ({len(data):,} bytes, {setup.profile.name})")
        return 0
    send(setup.url, data)
    print(("인쇄했습니다: " if lang == "ko" else "Printed: ") +
          f"{setup.url} ({len(data):,} bytes, {setup.profile.name})")
    return 0
