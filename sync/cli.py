"""`jangteo sync enroll URL CODE [--catalog take|merge] | catalog take|merge | now | status |
settlement [--date DAY] --pdf FILE [--csv FILE]`."""

from __future__ import annotations


def add_commands(sub, h) -> None:
    """`h(key)` is a help text from the message catalogue (context "cli")."""
    s = sub.add_parser("sync", help=h("sync_help"))
    actions = s.add_subparsers(dest="sync_command", metavar="ACTION", required=True)
    e = actions.add_parser("enroll", help=h("sync_enroll_help"))
    e.add_argument("url")
    e.add_argument("code")
    e.add_argument("--catalog", choices=["take", "merge"], default=None,
                   help=h("sync_enroll_catalog_help"))
    c = actions.add_parser("catalog", help=h("sync_catalog_help"))
    c.add_argument("choice", choices=["take", "merge"])
    actions.add_parser("now", help=h("sync_now_help"))
    actions.add_parser("status", help=h("sync_status_help"))
    st = actions.add_parser("settlement", help=h("sync_settlement_help"))
    st.add_argument("--date", default=None, help="YYYY-MM-DD (default: today's business day)")
    st.add_argument("--pdf", required=True)
    st.add_argument("--csv", default=None)


    for kind, helps in (("refund", h("refund_help")), ("void", h("void_help"))):
        r = sub.add_parser(kind, help=helps)  # another till's receipt of the stall too
        r.add_argument("receipt_no")
        if kind == "refund":
            r.add_argument("--line", action="append", required=True, metavar="LINE=QTY",
                           help=h("refund_line_help"))
            r.add_argument("--method", default="cash", help=h("refund_method_help"))
        r.add_argument("--till", default=None, help=h("return_till_help"))
        r.add_argument("--reason", default="")


def handlers(open_store) -> dict:
    return {"sync": lambda args, lang: _run(args, lang, open_store),
            "refund": lambda args, lang: _give_back(args, lang, open_store),
            "void": lambda args, lang: _give_back(args, lang, open_store)}


def _give_back(args, lang: str, open_store) -> int:
    """`jangteo refund|void RECEIPT`: the till's own receipt or another till's of the stall,
    read from the server and held there first when the till is enrolled (`sync.returns`)."""
    import sys

    from pos.cli import say
    from pos.i18n import error_text
    from sync import returns

    quantities = {}
    for item in getattr(args, "line", None) or []:
        no, sep, qty = item.partition("=")
        if not sep or not no.strip().isdigit() or not qty.strip().isdigit() \
                or len(no) > 6 or len(qty) > 6:
            print(say("refund_line_bad", lang, value=item[:40]), file=sys.stderr)
            return 2
        quantities[int(no)] = quantities.get(int(no), 0) + int(qty)
    with open_store(args) as store:
        found = returns.look_up(store, args.receipt_no)
        own = [found.own] if found.own is not None else []
        candidates = [(store.device["code"], x) for x in own] + [
            (x.device_code, x) for x in found.others]
        if args.till:
            candidates = [c for c in candidates if c[0] == args.till.strip().upper()]
        if not candidates:
            if found.error is not None and not found.asked:
                print(error_text(found.error, lang), file=sys.stderr)
            print(say("return_not_found", lang, value=found.number), file=sys.stderr)
            return 1
        if len(candidates) > 1:
            print(say("return_pick_till", lang, tills=", ".join(c for c, _x in candidates)),
                  file=sys.stderr)
            return 2
        sale = candidates[0][1]
        if getattr(sale, "kind", "sale") != "sale":
            print(say("return_not_a_sale", lang, value=sale.receipt_no), file=sys.stderr)
            return 1
        back = returns.give_back(store, kind=args.command, sale_id=sale.id,
                                 quantities=quantities, method=getattr(args, "method", None),
                                 reason=args.reason, lookup=found)
    print(say("return_done", lang, receipt=back.receipt_no, original=sale.receipt_no,
              total=back.totals.total))
    if not found.asked and found.error is not None:
        print(say("return_unchecked", lang), file=sys.stderr)
    return 0


def _run(args, lang: str, open_store) -> int:
    from pos.cli import say
    from pos.i18n import error_text
    from sync.client import (SyncError, blocked_error, enroll, join_catalog, pending_join,
                             server_status, sync_now, sync_state)

    with open_store(args) as store:
        if args.sync_command == "enroll":
            from pos import audit
            from pos.services.staff import need

            with store.unit_of_work() as uow:  # a settings change: a manager's, with accounts on
                need(uow, "settings", subject=args.url[:100])
                uow.commit()
            info = enroll(store, url=args.url, code=args.code)
            with store.unit_of_work() as uow:
                audit.record(uow, "settings_changed", "sync", {
                    "names": ["sync"], "reason": f"{info['event']} / {info['stall']}"})
                uow.commit()
            print(say("sync_enrolled", lang, event=info["event"], stall=info["stall"],
                      code=info["device_code"]))
            join = info.get("join")
            if join:
                print(say("sync_joined", lang, stall=join["stall_products"],
                          matched=join["matched"], own=join["own"]))
                for c in join["conflicts"]:
                    print(say("sync_join_conflict", lang, name=c["name"],
                              why=error_text(SyncError(c["why"], **c["params"]), lang)))
                if join["pending"] and args.catalog:
                    print(say("sync_catalog_done", lang, **join_catalog(store, args.catalog)))
                elif join["pending"]:
                    print(error_text(SyncError("sync_catalog_choice", count=join["own"]), lang))
            return 0
        if args.sync_command == "catalog":
            if pending_join(store) is None:
                print(say("sync_catalog_nothing", lang))
                return 0
            print(say("sync_catalog_done", lang, **join_catalog(store, args.choice)))
            return 0
        if args.sync_command == "settlement":
            return _stall_settlement(store, args, lang)
        if args.sync_command == "now":
            noticed = sync_state(store).notice_at
            n = sync_now(store)
            state = sync_state(store)
            print(say("sync_sent", lang, count=n, waiting=state.waiting))
            if state.notice is not None and state.notice_at != noticed:
                print(state.notice.text(lang))  # found out in this round
            return 0
        state = sync_state(store)
        if not state.configured:
            print(say("sync_not_enrolled", lang))
            return 0
        print(say("sync_device_state", lang, seq=state.last_seq, acked=state.acked_seq,
                  waiting=state.waiting))
        if state.notice is not None:
            print(f"{state.notice_at[:16].replace('T', ' ')}: {state.notice.text(lang)}")
        if state.blocked:
            print(error_text(blocked_error(state.blocked), lang))
        try:
            server = server_status(store, timeout=5)
        except SyncError as e:
            print(error_text(e, lang))
            return 1
    print(say("sync_server_state", lang, event=server.event_name, stall=server.stall_name,
              seq=server.acked_seq))
    return 0


def _stall_settlement(store, args, lang: str) -> int:
    """The stall's settlement of a day (every till, from the server) as PDF and CSV."""
    from datetime import date

    from pos import services as svc
    from pos.cli import say
    from printing.pdf import settlement_pdf
    from printing.reports import settlement_csv
    from sync.stall import stall_settlement

    if args.date is None:
        with store.unit_of_work(write=False) as uow:
            args.date = svc.receipt_outlook(uow)[0]
    try:
        day = date.fromisoformat(args.date).isoformat()
    except ValueError:
        print(say("sync_settlement_bad_date", lang, value=args.date[:40]))
        return 2
    made = stall_settlement(store, day=day)
    with store.unit_of_work(write=False) as uow:
        labels = {m.code: m.label(lang) for m in svc.payment_methods(uow).values()}
        identity = {**svc.till_settings(uow).store, "till": made.till_label(lang)}
        enterprises = {e["id"]: e for e in svc.list_enterprises(uow)}
    notes = made.till_notes(lang)
    settlement_pdf(args.pdf, made.settlement, enterprises=enterprises, lang=lang,
                   store=identity, day=day, method_labels=labels, notes=notes,
                   printed_at=store.clock.now())
    written = [str(args.pdf)]
    if args.csv:
        settlement_csv(args.csv, made.settlement, enterprises=enterprises,
                       methods=list(labels), lang=lang, method_labels=labels)
        written.append(str(args.csv))
    for line in notes:
        print(line)
    print(say("report_written", lang, net=made.settlement.net, files=", ".join(written)))
    return 0
