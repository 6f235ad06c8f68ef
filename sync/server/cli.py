"""`jangteo-server`: run the organizer's server and administer events, stalls and devices."""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
from pathlib import Path

def _loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _lang_from_argv(argv: list[str]) -> str | None:
    for k, arg in enumerate(argv):
        if arg == "--lang" and k + 1 < len(argv):
            return argv[k + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def say(key: str, lang: str, /, **params) -> str:
    """A sentence of the organizer's command line, from the message catalogue (context
    "server")."""
    from pos.i18n import tr

    return tr(key, lang, context="server", **params)


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    from pos.cli import _argparse_language
    from pos.i18n import languages
    from sync.server.db import DATA_DIR_ENV, DB_FILE, default_data_dir

    def h(key: str) -> str:
        return say(key, lang)

    _argparse_language(lang)
    ap = argparse.ArgumentParser(prog="jangteo-server", description=h("server_description"))
    where = str(default_data_dir() / DB_FILE).replace("%", "%%")  # argparse formats help with %
    ap.add_argument("--db", default=None, metavar="URL",
                    help=say("db_help", lang, path=where, env=DATA_DIR_ENV))
    ap.add_argument("--lang", choices=languages(), default=None, help=h("lang_help"))
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help=h("serve_help"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8700)
    serve.add_argument("--tls-cert", type=Path, default=None)
    serve.add_argument("--tls-key", type=Path, default=None)
    serve.add_argument("--insecure-http", action="store_true", help=h("insecure_http_help"))
    serve.add_argument("--workers", type=int, default=1, help=h("workers_help"))
    ev = sub.add_parser("event", help=h("event_help"))
    ev.add_argument("action", choices=["create", "list"])
    ev.add_argument("--name")
    ev.add_argument("--json", action="store_true", help=h("event_json_help"))
    ev.add_argument("--quiet", action="store_true", help=h("event_quiet_help"))
    st = sub.add_parser("stall", help=h("stall_help"))
    st.add_argument("action", choices=["create"])
    st.add_argument("--event", required=True)
    st.add_argument("--name", required=True)
    en = sub.add_parser("enterprise", help=h("enterprise_help"))
    en.add_argument("action", choices=["add"])
    en.add_argument("--event", required=True)
    en.add_argument("--name", required=True)
    en.add_argument("--bizno", default=None)
    dc = sub.add_parser("device-code", help=h("device_code_help"))
    dc.add_argument("--stall", required=True)
    dc.add_argument("--event", default=None)
    dc.add_argument("--till", default=None, metavar="DEVICE_CODE", help=h("device_code_till_help"))
    dv = sub.add_parser("device", help=h("device_help"))
    dv.add_argument("action", choices=["revoke", "cancel-code"])
    dv.add_argument("ref", metavar="DEVICE_OR_CODE")
    dv.add_argument("--stall", default=None)
    dv.add_argument("--event", default=None)
    dc.add_argument("--hours", type=float, default=72)
    ot = sub.add_parser("organizer-token", help=h("organizer_token_help"))
    ot.add_argument("--name", default="organizer")
    tt = sub.add_parser("totals", help=h("totals_help"))
    tt.add_argument("event")
    tt.add_argument("--json", action="store_true")
    al = sub.add_parser("alerts", help=h("alerts_help"))
    al.add_argument("event")
    al.add_argument("--resolve", type=int, default=None, metavar="ALERT_ID",
                    help=h("alerts_resolve_help"))
    sf = sub.add_parser("staff", help=h("staff_help"))
    sf.add_argument("stall", metavar="STALL")
    sf.add_argument("--event", default=None)
    au = sub.add_parser("audit", help=h("audit_help"))
    au.add_argument("stall", metavar="STALL")
    au.add_argument("--event", default=None)
    au.add_argument("--from", dest="since", default=None, metavar="YYYY-MM-DD",
                    help=h("audit_from_help"))
    au.add_argument("--to", dest="until", default=None, metavar="YYYY-MM-DD",
                    help=h("audit_to_help"))
    au.add_argument("--staff", dest="staff_name", default=None, metavar="NAME",
                    help=h("audit_staff_help"))
    og = sub.add_parser("org", help=h("org_help"))
    og.add_argument("action", choices=["add", "list"])
    og.add_argument("name", nargs="?", metavar="NAME")
    us = sub.add_parser("user", help=h("user_help"))
    us.add_argument("action", choices=["add", "password", "list"])
    us.add_argument("email", nargs="?", metavar="EMAIL")
    us.add_argument("--org", default=None, metavar="ORGANIZATION", help=h("user_org_help"))
    us.add_argument("--role", choices=["admin", "staff", "viewer", "enterprise"],
                    default="staff", help=h("user_role_help"))
    us.add_argument("--enterprise", default=None, metavar="NAME",
                    help=h("user_enterprise_help"))
    us.add_argument("--password-stdin", action="store_true", help=h("user_password_stdin_help"))
    vt = sub.add_parser("vat", help=h("vat_help"))
    vt.add_argument("event", metavar="EVENT")
    vt.add_argument("--from", dest="since", required=True, metavar="YYYY-MM-DD")
    vt.add_argument("--to", dest="until", required=True, metavar="YYYY-MM-DD")
    vt.add_argument("--pdf", type=Path, default=None, help=h("vat_pdf_help"))
    vt.add_argument("--csv", type=Path, default=None, help=h("vat_csv_help"))
    return ap


def main(argv: list[str] | None = None) -> int:
    from pos.i18n import detect_lang

    argv = list(sys.argv[1:] if argv is None else argv)
    lang = detect_lang(_lang_from_argv(argv))
    args = build_parser(lang).parse_args(argv)
    if args.db is None:
        made = _default_db(lang)
        if made is None:
            return 1
        args.db = made
    if args.command == "serve":
        return _serve(args, lang)
    from sync.server import service
    from sync.server.db import make_engine, migrate

    engine = make_engine(args.db)
    migrate(engine)
    try:
        with engine.begin() as conn:
            if args.command == "event":
                if args.action == "create":
                    name = (args.name or "장터").strip()
                    made = service.create_event(conn, name=name)
                    if args.json:
                        print(json.dumps({"id": made, "name": name}, ensure_ascii=False))
                    elif args.quiet:  # for a script: the id alone
                        print(made)
                    else:
                        print(say("event_created", lang, name=name, id=made,
                                  prog=_prog(argv), event=_arg(name)))
                else:
                    for row in service.list_events(conn):
                        print(f"{row['id']}\t{row['name']}")
            elif args.command == "stall":
                event = service.find_event(conn, args.event)
                print(service.create_stall(conn, event_id=event["id"], name=args.name))
            elif args.command == "enterprise":
                event = service.find_event(conn, args.event)
                print(service.add_enterprise(conn, event_id=event["id"], name=args.name,
                                             bizno=args.bizno))
            elif args.command == "device-code":
                stall = _stall(service, conn, args)
                print(service.device_code(conn, stall_id=stall["id"], valid_hours=args.hours,
                                          till=args.till))
            elif args.command == "device" and args.action == "cancel-code":
                service.cancel_code(conn, code=args.ref)
                print(say("code_cancelled", lang))
            elif args.command == "device":
                if not args.stall:
                    print(say("stall_needed", lang), file=sys.stderr)
                    return 2
                gone = service.revoke_device(conn, stall_id=_stall(service, conn, args)["id"],
                                             ref=args.ref)
                print(say("device_revoked", lang, id=gone["id"], code=gone["device_code"],
                          at=gone["revoked_at"]))
            elif args.command == "organizer-token":
                print(service.organizer_token(conn, name=args.name))
            elif args.command == "alerts":
                event_id = service.find_event(conn, args.event)["id"]
                if args.resolve is not None:
                    done = service.resolve_alert(conn, event_id=event_id,
                                                 alert_id=args.resolve, by="cli")
                    print(say("alert_resolved", lang, id=done["id"], at=done["resolved_at"]))
                    return 0
                found = service.alerts(conn, event_id=event_id)
                for a in found:
                    copies = f" ×{a['times']}" if a["times"] > 1 else ""
                    state = say("alert_state_resolved", lang, at=a["resolved_at"]) \
                        if a["resolved_at"] else say("alert_state_open", lang)
                    print(f"{a['id']}\t{a['created_at']}\t{a['stall']} {a['device_code']}"
                          f"\tseq {a['seq']}\t{a['reason']}{copies}\t{state}")
                if not found:
                    print(say("no_alerts", lang))
            elif args.command == "staff":
                _print_staff(service.stall_staff(conn, stall_id=_stall(service, conn, args)["id"]),
                             lang)
            elif args.command == "audit":
                _print_audit(service.audit_entries(
                    conn, stall_id=_stall(service, conn, args)["id"], since=args.since,
                    until=args.until, staff=args.staff_name), lang)
            elif args.command == "vat":
                return _vat(service, conn, args, lang)
            elif args.command in ("org", "user"):
                return _accounts(conn, args, lang)
            elif args.command == "totals":
                totals = service.totals(conn, event_id=service.find_event(conn, args.event)["id"])
                if args.json:
                    print(json.dumps(totals, ensure_ascii=False, indent=2))
                else:
                    _print_totals(totals, lang)
    except service.Refused as e:
        print(e.reason, file=sys.stderr)
        return 1
    return 0


def _password(args, lang: str) -> str | None:
    """The new password: read from stdin (--password-stdin, one line), else asked twice on
    the terminal; None (said why) when there is none."""
    import getpass

    if args.password_stdin:  # bytes that are not UTF-8 are kept, and refused by name
        raw = sys.stdin.buffer.readline() if hasattr(sys.stdin, "buffer") else \
            sys.stdin.readline().encode("utf-8", "surrogateescape")
        return raw.decode("utf-8", "surrogateescape").rstrip("\r\n")
    if not sys.stdin.isatty():
        print(say("user_password_how", lang), file=sys.stderr)
        return None
    first = getpass.getpass(say("user_password_prompt", lang))
    if getpass.getpass(say("user_password_again", lang)) != first:
        print(say("user_password_differ", lang), file=sys.stderr)
        return None
    return first


def _accounts(conn, args, lang: str) -> int:
    """`jangteo-server org add|list`, `user add|password|list`: the organizations and the
    people who sign in to the organizer's console (`sync.server.accounts`)."""
    from sync.server import accounts

    if args.command == "org":
        if args.action == "list":
            for org in accounts.organizations(conn):
                print(f"{org['id']}\t{org['name']}")
            return 0
        if not args.name:
            print(say("org_name_needed", lang), file=sys.stderr)
            return 2
        accounts.add_organization(conn, name=args.name)
        print(say("org_added", lang, name=" ".join(args.name.split())))
        return 0
    if args.action == "list":
        if not args.org:
            print(say("user_org_needed", lang), file=sys.stderr)
            return 2
        org = accounts.organization_by_name(conn, args.org)
        for u in accounts.users_of(conn, org["id"]):
            extra = f"\t{u['enterprise_name']}" if u["enterprise_name"] else ""
            print(f"{u['email']}\t{u['role']}{extra}")
        return 0
    if not args.email:
        print(say("user_email_needed", lang), file=sys.stderr)
        return 2
    if args.action == "add" and not args.org:
        print(say("user_org_needed", lang), file=sys.stderr)
        return 2
    password = _password(args, lang)
    if password is None:
        return 2
    if args.action == "add":
        accounts.add_user(conn, email=args.email, organization=args.org, role=args.role,
                          password=password, enterprise=args.enterprise)
        print(say("user_added", lang, email=accounts.clean_email(args.email), role=args.role,
                  org=" ".join(args.org.split())))
    else:
        accounts.set_password(conn, email=args.email, password=password)
        print(say("user_password_set", lang, email=accounts.clean_email(args.email)))
    return 0


def _vat(service, conn, args, lang: str) -> int:
    """`jangteo-server vat EVENT --from --to [--pdf] [--csv]`: every enterprise's VAT return
    figures across the event's tills, on the terminal and in the till's PDF and CSV forms."""
    from pos.cli import os_reason
    from pos.vat import vat_csv

    files = [f for f in (args.pdf, args.csv) if f is not None]
    if any(not f.name for f in files):
        print(say("vat_file_failed", lang, path=str(files[0]), reason="?"), file=sys.stderr)
        return 1
    if args.pdf is not None and args.csv is not None and \
            args.pdf.resolve() == args.csv.resolve():
        print(say("vat_same_file", lang, path=args.pdf), file=sys.stderr)
        return 1
    event = service.find_event(conn, args.event)
    rows = service.event_vat(conn, event_id=event["id"], since=args.since, until=args.until)
    for f in rows:
        print(say("vat_row", lang, enterprise=f.name, net=f.net, taxable=f.taxable_total,
                  exempt=f.exempt_total, card=f.card, issued=f.cash_receipts_issued,
                  waiting=f.cash_receipts_waiting, other=f.other_cash, vouchers=f.vouchers))
    if not rows:
        print(say("vat_nothing", lang, event=event["name"]))
    for path, write in ((args.csv, lambda p: vat_csv(p, rows)),
                        (args.pdf, lambda p: _vat_pdf(p, rows, lang, event["name"]))):
        if path is None:
            continue
        try:
            write(path)
        except OSError as e:
            print(say("vat_file_failed", lang, path=path, reason=os_reason(e, lang)),
                  file=sys.stderr)
            return 1
        print(say("vat_written", lang, path=path))
    return 0


def _vat_pdf(path, rows, lang: str, event_name: str) -> None:
    from printing.pdf import vat_pdf

    vat_pdf(path, rows, lang=lang, store={"name": event_name})


def _default_db(lang: str) -> str | None:
    """The SQLite file in the server's data folder, the folder made if need be (None, and the
    reason said, when it cannot be)."""
    from pos.cli import os_reason
    from sync.server.db import default_data_dir, default_url

    folder = default_data_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(say("data_dir_failed", lang, path=folder, reason=os_reason(e, lang)),
              file=sys.stderr)
        return None
    return default_url()


def _prog(argv: list[str]) -> str:
    """`jangteo-server` as the organizer ran it, with the database it was given, for the next
    command to type."""
    for k, arg in enumerate(argv):
        if arg == "--db" and k + 1 < len(argv):
            return f"jangteo-server --db {_arg(argv[k + 1])}"
        if arg.startswith("--db="):
            return f"jangteo-server --db {_arg(arg.split('=', 1)[1])}"
    return "jangteo-server"


def _arg(text: str) -> str:
    """A command-line argument as typed into any shell (double quotes work in cmd, PowerShell
    and a POSIX shell alike for a name with spaces)."""
    if text and all(c.isalnum() or c in "-_.:/@" for c in text):
        return text
    return '"' + text.replace('"', '\\"') + '"'


def _stall(service, conn, args) -> dict:
    event = service.find_event(conn, args.event)["id"] if args.event else None
    return service.find_stall(conn, args.stall, event_id=event)


def _print_totals(totals: dict, lang: str) -> None:
    from pos.money import format_amount

    print(say("totals_net", lang, net=totals["net"], count=totals["enterprises"]))
    print(say("totals_by_enterprise", lang))
    for row in totals["by_enterprise"]:
        print(f"  {row['enterprise']}\t{format_amount(row['net'])}")
    print(say("totals_by_device", lang))
    for row in totals["by_device"]:
        print(f"  {row['stall']} {row['device']}\t{format_amount(row['net'])}\t" +
              say("totals_device_documents", lang, count=row["documents"],
                  acked=row["acked_seq"]))
    print(say("totals_by_day", lang))
    for row in totals["by_day"]:
        print(f"  {row['day']}\t{format_amount(row['net'])}")


def _print_staff(people: list[dict], lang: str) -> None:
    from pos.i18n import tr

    if not people:
        print(say("staff_none", lang))
    for person in people:
        state = "" if person["active"] else "\t" + say("staff_disabled", lang)
        print(f"{person['device_code']}\t{person['name']}\t{tr('role_' + person['role'], lang)}"
              f"\t{person['enterprise_name'] or '-'}{state}")


def _print_audit(entries: list[dict], lang: str) -> None:
    from pos.i18n import tr

    if not entries:
        print(say("audit_none", lang))
    for e in entries:
        detail = ", ".join(f"{k}={v}" for k, v in sorted(e["details"].items()))
        print(f"{e['device_code']} {e['n']:>5}  {e['at'][:19].replace('T', ' ')}  "
              f"{e['staff_name'] or '-'}  {tr('audit_' + e['action'], lang)}  {e['subject']}"
              + (f"  ({detail})" if detail else ""))
        if e["problem"]:
            print("  " + say("audit_problem", lang, reason=e["problem"]))


def migrate_once(url: str) -> None:
    from sync.server.db import make_engine, migrate

    engine = make_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()


def _serve(args, lang: str = "en") -> int:
    import uvicorn

    from sync.server import app as app_module

    tls = bool(args.tls_cert and args.tls_key)
    if not _loopback(args.host) and not tls and not args.insecure_http:
        print(say("plain_http_refused", lang, host=args.host), file=sys.stderr)
        return 2
    from sync.server.db import where

    migrate_once(args.db)  # before the workers start, so they never race to migrate
    print(say("serve_database", lang, where=where(args.db)), flush=True)
    os.environ[app_module.DB_ENV] = args.db
    uvicorn.run("sync.server.app:from_environment", factory=True, host=args.host,
                port=args.port, workers=max(1, args.workers), log_level="info",
                ssl_certfile=str(args.tls_cert) if tls else None,
                ssl_keyfile=str(args.tls_key) if tls else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
