"""`jangteo print …`: test page, a receipt by number, and a preview PNG from the bytes."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from printing.profiles import PRESETS


def add_commands(sub, h) -> None:
    """`h(key)` is a help text from the message catalogue (context "cli")."""
    pr = sub.add_parser("print", help=h("print_help"))
    actions = pr.add_subparsers(dest="print_command", metavar="ACTION", required=True)
    profiles = sorted(PRESETS)

    test = actions.add_parser("test", help=h("print_test_help"))
    test.add_argument("--printer", default=None, help=h("printer_help"))
    test.add_argument("--profile", choices=profiles, default=None, help=h("profile_help"))

    receipt = actions.add_parser("receipt", help=h("print_receipt_help"))
    receipt.add_argument("receipt_no")
    receipt.add_argument("--printer", default=None)
    receipt.add_argument("--profile", choices=profiles, default=None)

    preview = actions.add_parser("preview", help=h("print_preview_help"))
    preview.add_argument("receipt_no")
    preview.add_argument("--png", type=Path, required=True)
    preview.add_argument("--profile", choices=profiles, default=None)


    rep = sub.add_parser("report", help=h("report_help"))
    kinds = rep.add_subparsers(dest="report_command", metavar="KIND", required=True)
    for name, help_text in (("x", h("report_x_help")), ("z", h("report_z_help"))):
        r = kinds.add_parser(name, help=help_text)
        r.add_argument("--shift", default=None, help=h("report_shift_help"))
        r.add_argument("--pdf", type=Path, default=None)
        r.add_argument("--print", dest="do_print", action="store_true",
                       help=h("report_print_help"))
        r.add_argument("--printer", default=None)
        r.add_argument("--profile", choices=profiles, default=None)
    st = kinds.add_parser("settlement", help=h("report_settlement_help"))
    st.add_argument("--shift", default=None, help=h("report_shift_help"))
    st.add_argument("--pdf", type=Path, required=True)
    st.add_argument("--csv", type=Path, default=None)
    vat = kinds.add_parser("vat", help=h("report_vat_help"))
    vat.add_argument("--enterprise", default=None, help=h("report_vat_enterprise_help"))
    vat.add_argument("--from", dest="day_from", required=True, metavar="YYYY-MM-DD",
                     type=date.fromisoformat, help=h("day_from_help"))
    vat.add_argument("--to", dest="day_to", required=True, metavar="YYYY-MM-DD",
                     type=date.fromisoformat, help=h("day_to_help"))
    vat.add_argument("--pdf", type=Path, default=None)
    vat.add_argument("--csv", type=Path, default=None)
    day = kinds.add_parser("day", help=h("report_day_help"))
    day.add_argument("--date", required=True, help="YYYY-MM-DD")
    day.add_argument("--pdf", type=Path, required=True)
    day.add_argument("--csv", type=Path, default=None)


def after_sale(store, doc, lang: str) -> None:
    """`jangteo sell` has committed a sale with its print jobs: send them now, once each (no
    worker runs beside the command line). A printer that cannot take them leaves them in the
    queue for the till's next start, and the vendor is told why."""
    import sys

    from pos.cli import say
    from pos.i18n import error_text
    from printing import queue as pq

    with store.unit_of_work(write=False) as uow:
        mine = [j["id"] for j in pq.jobs_for(uow, doc.id) if j["status"] in pq.WAITING]
    if not mine:
        return
    # Only this sale's jobs, each once, and not past the first that the printer did not take:
    # earlier receipts waiting in the queue are the till's to print, and a stalled printer must
    # not keep the command (and the data folder's lock) for long.
    # its thread is never started (run_once here), and a printer that stops taking data is
    # given up on 5 s after it paused: the receipt then waits in the till's queue, or is
    # marked cut off
    worker = pq.PrintWorker(store, timeout=5, patience=5)
    for _ in mine:
        before = worker.sent
        if not worker.run_once(only=mine) or worker.sent == before:
            break
    with store.unit_of_work(write=False) as uow:
        mine = pq.jobs_for(uow, doc.id)
    for j in mine:
        what = say("job_drawer", lang) if j["kind"] == "drawer" else say("job_receipt", lang)
        if j["status"] == pq.DONE:
            print(say("job_printed", lang, job=what))
            continue
        if j["last_error"] is None:
            continue  # never tried (one before it was not taken): it waits, as said below
        reason = error_text(pq.PrinterError(j["last_error"] or "printer_error",
                                            target=j["printer_url"], detail=""), lang)
        print(say("job_not_printed", lang, job=what, reason=reason), file=sys.stderr)
    if any(j["status"] in pq.WAITING for j in mine):
        print(say("jobs_wait_in_queue", lang), file=sys.stderr)


def handlers(open_store) -> dict:
    return {"print": lambda args, lang: _run(args, lang, open_store),
            "report": lambda args, lang: _report(args, lang, open_store)}


def _pick_shift(uow, kind: str, wanted: str | None) -> dict:
    """The shift `--shift` names (`pos.services.pick_shift`: last, current/open, a number);
    without it, x: the open shift; z: the last closed one (the last with its kept report);
    settlement: the newest one. A Z report is only of a closed shift."""
    from pos import services as svc
    from pos.domain import DomainError

    default = {"x": "current", "z": "closed"}.get(kind, "last")
    shift = svc.pick_shift(uow, wanted, default=default)
    if kind == "z" and shift["status"] != "closed":
        raise DomainError("shift_not_closed", value=shift["number"])
    return shift


def _report(args, lang: str, open_store) -> int:
    from datetime import date

    from pos import services as svc
    from printing.reports import layout_shift_report, settlement_csv

    kind = args.report_command
    if kind == "vat":
        return _report_vat(args, lang, open_store)
    with open_store(args) as store:
        with store.unit_of_work(write=False) as uow:
            labels = {m.code: m.label(lang) for m in svc.payment_methods(uow).values()}
            methods = list(labels)
            store_identity = {**svc.till_settings(uow).store, "till": store.device["code"]}
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
                # reportlab only for a PDF: importing it is half of a plain `report x`
                from printing.pdf import settlement_pdf, shift_report_pdf

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
                settlement_csv(args.csv, figures, enterprises=enterprises, methods=methods, lang=lang,
                               method_labels=labels)
                written.append(str(args.csv))
            if getattr(args, "do_print", False):
                from printing.render import measure_for, render
                from printing.transport import send

                setup = _setup(uow, args)
                items = layout_shift_report(figures, kind=kind,
                                            columns=measure_for(setup.profile),
                                            lang=lang, store=store_identity, shift=shift,
                                            method_labels=labels, printed_at=now)
                send(setup.url, render(items, setup.profile), timeout=5, patience=5,
                     ask=setup.profile.status)
                written.append(setup.url)
    from pos.cli import say

    if written:
        print(say("report_written", lang, net=figures.net, files=", ".join(written)))
    elif kind in ("x", "z"):  # on the terminal, as the paper would say it
        from printing.layout import Row, Rule, width

        columns = 42
        for item in layout_shift_report(figures, kind=kind, columns=columns, lang=lang,
                                        store=store_identity, shift=shift,
                                        method_labels=labels, printed_at=now):
            if isinstance(item, Row):
                print(item.text(columns).rstrip())
            elif isinstance(item, Rule):
                print(item.char * (columns // max(1, width(item.char))))
    else:
        print(say("report_net", lang, net=figures.net))
    return 0


def _report_vat(args, lang: str, open_store) -> int:
    """`jangteo report vat --from --to [--enterprise X] [--pdf] [--csv]`: the figures of each
    enterprise's VAT return (`pos.vat`); on the terminal without a file."""
    from pos import services as svc
    from pos.cli import say
    from pos.domain import DomainError
    from pos.services import cash_receipts
    from pos.vat import vat_csv, vat_figures

    day_from, day_to = args.day_from.isoformat(), args.day_to.isoformat()
    if args.pdf is not None and args.csv is not None and \
            args.pdf.resolve() == args.csv.resolve():
        raise DomainError("files_the_same", path=str(args.pdf)[:200])
    with open_store(args, write=False) as store, store.unit_of_work(write=False) as uow:
        rows = vat_figures(uow, day_from=day_from, day_to=day_to, enterprise=args.enterprise)
        identity = svc.till_settings(uow).store
        rules = cash_receipts.rules(uow)
        now = store.clock.now()
    written = []
    if args.pdf:
        from printing.pdf import vat_pdf

        vat_pdf(args.pdf, rows, lang=lang, store=identity, rules=rules, printed_at=now)
        written.append(str(args.pdf))
    if args.csv:
        vat_csv(args.csv, rows)
        written.append(str(args.csv))
    for f in rows:
        print(say("vat_line", lang, enterprise=f.name, taxable=f.taxable_total,
                  exempt=f.exempt_total, card=f.card, issued=f.cash_receipts_issued,
                  other=f.other_cash, vouchers=f.vouchers))
        if f.receipts_waiting_count:
            print(say("vat_waiting", lang, enterprise=f.name, count=f.receipts_waiting_count,
                      amount=f.cash_receipts_waiting), file=sys.stderr)
    if not rows:
        print(say("vat_none", lang, day_from=day_from, day_to=day_to))
    if written:
        print(say("vat_written", lang, files=", ".join(written)))
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
    from pos.cli import say

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
        print(say("preview_written", lang, path=args.png, count=len(data),
                  profile=setup.profile.label(lang)))
        return 0
    send(setup.url, data, timeout=5, patience=5, ask=setup.profile.status)
    print(say("printed", lang, url=setup.url, count=len(data), profile=setup.profile.label(lang)))
    return 0
