"""`jangteo cash-receipts list|add|mark-issued|export`: the cash receipt (현금영수증) requests
the till keeps until each enterprise issues them (`pos.services.cash_receipts`)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path


def add_commands(sub, h) -> None:
    cr = sub.add_parser("cash-receipts", help=h("cash_receipts_help"))
    actions = cr.add_subparsers(dest="cash_receipts_command", metavar="ACTION", required=True)
    ls = actions.add_parser("list", help=h("cash_receipts_list_help"))
    ls.add_argument("--enterprise", default=None, help=h("cash_receipts_enterprise_help"))
    ls.add_argument("--state", choices=["to_issue", "issued", "cancelled"], default=None,
                    help=h("cash_receipts_state_help"))
    for parser in (ls,):
        _period(parser, h)
    add = actions.add_parser("add", help=h("cash_receipts_add_help"))
    add.add_argument("receipt_no", metavar="RECEIPT_NO")
    add.add_argument("number", metavar="NUMBER", help=h("sell_cash_receipt_help"))
    add.add_argument("--purpose", choices=["deduction", "proof"], default=None,
                     help=h("sell_purpose_help"))
    mark = actions.add_parser("mark-issued", help=h("cash_receipts_mark_help"))
    mark.add_argument("request", metavar="ID", help=h("cash_receipts_id_help"))
    mark.add_argument("approval_no", metavar="APPROVAL_NO")
    exp = actions.add_parser("export", help=h("cash_receipts_export_help"))
    exp.add_argument("folder", type=_folder, metavar="FOLDER")
    exp.add_argument("--all", dest="every_state", action="store_true",
                     help=h("cash_receipts_export_all_help"))
    _period(exp, h)


def _folder(text: str) -> Path:
    """A folder to write into, named (an empty argument had written into the current one)."""
    import argparse

    if not text.strip():
        raise argparse.ArgumentTypeError("FOLDER")
    return Path(text)


def _period(parser, h) -> None:
    parser.add_argument("--from", dest="day_from", type=date.fromisoformat, default=None,
                        metavar="YYYY-MM-DD", help=h("day_from_help"))
    parser.add_argument("--to", dest="day_to", type=date.fromisoformat, default=None,
                        metavar="YYYY-MM-DD", help=h("day_to_help"))


def handlers(open_store) -> dict:
    return {"cash-receipts": lambda args, lang: _run(args, lang, open_store)}


def say_made(made, lang: str) -> None:
    """What a sale's or a return's requests are, one line each (after `sell`, `add`)."""
    from pos.cli import say
    from pos.services import cash_receipts as cr

    for r in made:
        params = dict(id=cr.short_id(r.id), enterprise=r.enterprise_name, amount=r.amount,
                      number=r.masked, due=r.due_day)
        if r.kind == "cancel":
            print(say("cash_receipt_cancel_made", lang, **params))
        elif r.voluntary:
            print(say("cash_receipt_self_made", lang, **params))
        else:
            print(say("cash_receipt_made", lang, **params))


def _line(r, today: str, lang: str) -> str:
    from pos.cli import say
    from pos.services import cash_receipts as cr
    from pos.money import format_amount

    state = {"to_issue": say("cash_receipt_state_to_issue", lang),
             "issued": say("cash_receipt_state_issued", lang),
             "cancelled": say("cash_receipt_state_cancelled", lang)}[r.state]
    if r.state == "to_issue" and r.due_day < today:
        state += " " + say("cash_receipt_overdue", lang)
    elif r.state == "to_issue" and r.due_day <= _plus(today, 1):
        state += " " + say("cash_receipt_due_soon", lang)
    purpose = (say("cash_receipt_purpose_proof", lang) if r.purpose == "proof"
               else say("cash_receipt_purpose_deduction", lang))
    kind = say("cash_receipt_kind_cancel", lang) + " " if r.kind == "cancel" else ""
    approval = f"  #{r.approval_no}" if r.approval_no else ""
    return (f"{cr.short_id(r.id)}  {r.business_day}  {r.receipt_no}  {r.enterprise_name}  "
            f"{kind}{format_amount(r.amount)}  {r.masked} ({purpose})  ~{r.due_day}  "
            f"{state}{approval}")


def _plus(day: str, days: int) -> str:
    from datetime import timedelta

    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def _run(args, lang: str, open_store) -> int:
    from pos.cli import EXIT_OK, say
    from pos.domain import DomainError
    from pos.services import cash_receipts as cr

    action = args.cash_receipts_command
    day_from = getattr(args, "day_from", None)
    day_to = getattr(args, "day_to", None)
    if day_from and day_to and day_from > day_to:
        raise DomainError("period_reversed", day_from=day_from.isoformat(),
                          day_to=day_to.isoformat())
    day_from = day_from.isoformat() if day_from else None
    day_to = day_to.isoformat() if day_to else None
    if action == "list":
        with open_store(args, write=False) as store, store.unit_of_work(write=False) as uow:
            found = cr.list_requests(uow, enterprise=args.enterprise, state=args.state,
                                     day_from=day_from, day_to=day_to)
            today = uow.clock.now().date().isoformat()
        if not found:
            print(say("cash_receipts_none", lang))
        for r in found:
            print(_line(r, today, lang))
        waiting = [r for r in found if r.state == "to_issue"]
        if waiting:
            print(say("cash_receipts_waiting", lang, count=len(waiting),
                      amount=sum(r.amount if r.kind == "issue" else -r.amount
                                 for r in waiting),
                      due=min(r.due_day for r in waiting)))
        return EXIT_OK
    if action == "export":
        with open_store(args, write=False) as store, store.unit_of_work(write=False) as uow:
            written = cr.export(uow, args.folder, state=None if args.every_state else "to_issue",
                                day_from=day_from, day_to=day_to)
        if not written:
            print(say("cash_receipts_none", lang))
        for path, count in written:
            print(say("cash_receipts_exported", lang, count=count, path=path))
        return EXIT_OK
    with open_store(args) as store, store.unit_of_work() as uow:
        if action == "add":
            made = cr.request_later(uow, receipt_no=args.receipt_no,
                                    ask=cr.Ask(args.number, args.purpose))
        else:
            made = [cr.mark_issued(uow, ref=args.request, approval_no=args.approval_no)]
        uow.commit()
    if action == "add":
        say_made(made, lang)
    else:
        r = made[0]
        print(say("cash_receipt_marked", lang, id=cr.short_id(r.id), approval=r.approval_no,
                  receipt_no=r.receipt_no, amount=r.amount))
    if not made:
        print(say("cash_receipts_none", lang), file=sys.stderr)
    return EXIT_OK
