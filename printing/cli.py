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


    rep = sub.add_parser("report", help=h("X·Z·일일 보고서와 업체별 정산서",
                                          "X, Z and day reports; settlement per enterprise"))
    kinds = rep.add_subparsers(dest="report_command", metavar="KIND", required=True)
    for name, ko, en in (("x", "지금 교대의 중간 보고서 (마감 없이)", "the open shift's figures, without closing"),
                         ("z", "마감한 교대의 Z 보고서 (다시 출력)", "a closed shift's Z report (reprint)")):
        r = kinds.add_parser(name, help=h(ko, en))
        r.add_argument("--shift", default=None, help=h("교대 번호 또는 last", "shift number or last"))
        r.add_argument("--pdf", type=Path, default=None)
        r.add_argument("--print", dest="do_print", action="store_true",
                       help=h("영수증 프린터로 출력", "print on the receipt printer"))
        r.add_argument("--printer", default=None)
        r.add_argument("--profile", choices=profiles, default=None)
    st = kinds.add_parser("settlement", help=h("업체별 정산서 (PDF·CSV)", "settlement per enterprise (PDF, CSV)"))
    st.add_argument("--shift", default=None)
    st.add_argument("--pdf", type=Path, required=True)
    st.add_argument("--csv", type=Path, default=None)
    day = kinds.add_parser("day", help=h("하루의 모든 교대", "all shifts of a day"))
    day.add_argument("--date", required=True, help="YYYY-MM-DD")
    day.add_argument("--pdf", type=Path, required=True)
    day.add_argument("--csv", type=Path, default=None)


def after_sale(store, doc, lang: str) -> None:
    """`jangteo sell` has committed a sale with its print jobs: send them now, once each (no
    worker runs beside the command line). A printer that cannot take them leaves them in the
    queue for the till's next start, and the vendor is told why."""
    import sys

    from pos.i18n import error_text
    from printing import queue as pq

    with store.unit_of_work(write=False) as uow:
        if not any(j["status"] in pq.WAITING for j in pq.jobs_for(uow, doc.id)):
            return
    worker = pq.PrintWorker(store, timeout=10)  # its thread is never started: run_once here
    while worker.run_once():  # each due job once; a failed one waits for its next try
        pass
    with store.unit_of_work(write=False) as uow:
        mine = pq.jobs_for(uow, doc.id)
    ko = lang == "ko"
    for j in mine:
        what = ("돈통" if ko else "cash drawer") if j["kind"] == "drawer" else \
            ("영수증" if ko else "receipt")
        if j["status"] == pq.DONE:
            print(f"{what}: " + ("인쇄했습니다" if ko else "printed"))
            continue
        reason = error_text(pq.PrinterError(j["last_error"] or "printer_error",
                                            target=j["printer_url"], detail=""), lang)
        print(f"{what}: {reason}", file=sys.stderr)
    if any(j["status"] in pq.WAITING for j in mine):
        print("인쇄 작업은 대기열에 남아 다음에 장터를 열 때 인쇄됩니다." if ko else
              "The print jobs wait in the queue and print when the till next starts.",
              file=sys.stderr)


def handlers(open_store) -> dict:
    return {"print": lambda args, lang: _run(args, lang, open_store),
            "report": lambda args, lang: _report(args, lang, open_store)}


def _pick_shift(uow, kind: str, wanted: str | None) -> dict:
    """x: the open shift; z: the last closed one; settlement: the last one; or the one asked."""
    from pos import services as svc
    from pos.domain import DomainError

    if wanted not in (None, "last"):
        shift = svc.get_shift(uow, shift_id=wanted)
    elif kind == "x":
        shift = svc.current_shift(uow)
        if shift is None:
            raise DomainError("shift_not_open")
    elif kind == "z":
        closed = [s for s in svc.list_shifts(uow) if s["status"] == "closed"]
        if not closed:
            raise DomainError("shift_unknown", value="last")
        shift = svc.get_shift(uow, shift_id=closed[0]["id"])
    else:
        shift = svc.get_shift(uow)
    if kind == "z" and shift["status"] != "closed":
        raise DomainError("shift_not_closed", value=shift["number"])
    return shift


def _report(args, lang: str, open_store) -> int:
    from datetime import date

    from pos import services as svc
    from printing.pdf import settlement_pdf, shift_report_pdf
    from printing.reports import layout_shift_report, settlement_csv

    kind = args.report_command
    with open_store(args) as store:
        with store.unit_of_work(write=False) as uow:
            labels = {m.code: m.label(lang) for m in svc.payment_methods(uow).values()}
            methods = list(labels)
            store_identity = svc.till_settings(uow).store
            enterprises = {e["id"]: e for e in svc.list_enterprises(uow)}
            shift = None
            if kind == "day":
                day = date.fromisoformat(args.date).isoformat()
                figures = svc.day_settlement(uow, day=day)
            else:
                day = None
                shift = _pick_shift(uow, kind, args.shift)
                figures = svc.shift_settlement(uow, shift_id=shift["id"])
            now = store.clock.now()
            written = []
            if kind in ("settlement", "day") or getattr(args, "pdf", None):
                if kind == "settlement":
                    settlement_pdf(args.pdf, figures, enterprises=enterprises, lang=lang,
                                   store=store_identity, shift=shift, method_labels=labels,
                                   printed_at=now)
                else:
                    shift_report_pdf(args.pdf, figures, kind=kind if kind != "settlement" else "z",
                                     lang=lang, store=store_identity, shift=shift, day=day,
                                     method_labels=labels, printed_at=now)
                written.append(str(args.pdf))
            if getattr(args, "csv", None):
                settlement_csv(args.csv, figures, enterprises=enterprises, methods=methods, lang=lang)
                written.append(str(args.csv))
            if getattr(args, "do_print", False):
                from printing.render import render
                from printing.transport import send

                setup = _setup(uow, args)
                items = layout_shift_report(figures, kind=kind, columns=setup.profile.columns,
                                            lang=lang, store=store_identity, shift=shift,
                                            method_labels=labels, printed_at=now)
                send(setup.url, render(items, setup.profile))
                written.append(setup.url)
    from pos.money import format_won

    print(("순매출 " if lang == "ko" else "Net ") + format_won(figures.net, lang) +
          (f" → {', '.join(written)}" if written else ""))
    return 0


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
