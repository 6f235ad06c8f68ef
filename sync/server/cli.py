"""`jangteo-server`: run the organizer's server and administer events, stalls and devices."""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
from pathlib import Path

DEFAULT_DB = "sqlite:///jangteo-server.db"


def _loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="jangteo-server",
                                 description="The organizer's server for Jangteo tills.")
    ap.add_argument("--db", default=DEFAULT_DB,
                    help="database URL (default: a SQLite file here; "
                         "postgresql+psycopg://user@host/db for real use)")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8700)
    serve.add_argument("--tls-cert", type=Path, default=None)
    serve.add_argument("--tls-key", type=Path, default=None)
    serve.add_argument("--insecure-http", action="store_true",
                       help="allow plain HTTP on a non-loopback address (tokens travel in clear)")
    serve.add_argument("--workers", type=int, default=1,
                       help="server processes (on PostgreSQL; one device's pushes still go "
                            "one at a time)")
    ev = sub.add_parser("event", help="market events")
    ev.add_argument("action", choices=["create", "list"])
    ev.add_argument("--name")
    st = sub.add_parser("stall", help="stalls of an event")
    st.add_argument("action", choices=["create"])
    st.add_argument("--event", required=True)
    st.add_argument("--name", required=True)
    en = sub.add_parser("enterprise", help="enterprises of an event")
    en.add_argument("action", choices=["add"])
    en.add_argument("--event", required=True)
    en.add_argument("--name", required=True)
    en.add_argument("--bizno", default=None)
    dc = sub.add_parser("device-code", help="a one-time enrollment code for a stall's till")
    dc.add_argument("--stall", required=True)
    dc.add_argument("--hours", type=float, default=72)
    ot = sub.add_parser("organizer-token", help="an access token for the organizer's API")
    ot.add_argument("--name", default="organizer")
    tt = sub.add_parser("totals", help="an event's totals per enterprise, device and day")
    tt.add_argument("event")
    tt.add_argument("--json", action="store_true")
    al = sub.add_parser("alerts", help="events a till sent again with different content")
    al.add_argument("event")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    from sync.server import service
    from sync.server.db import make_engine, migrate

    engine = make_engine(args.db)
    migrate(engine)
    try:
        with engine.begin() as conn:
            if args.command == "event":
                if args.action == "create":
                    print(service.create_event(conn, name=args.name or "장터"))
                else:
                    from sqlalchemy import select

                    from sync.server import tables as t

                    for row in conn.execute(select(t.events)).mappings():
                        print(f"{row['id']}\t{row['name']}")
            elif args.command == "stall":
                event = service.find_event(conn, args.event)
                print(service.create_stall(conn, event_id=event["id"], name=args.name))
            elif args.command == "enterprise":
                event = service.find_event(conn, args.event)
                print(service.add_enterprise(conn, event_id=event["id"], name=args.name,
                                             bizno=args.bizno))
            elif args.command == "device-code":
                stall = service.find_stall(conn, args.stall)
                print(service.device_code(conn, stall_id=stall["id"], valid_hours=args.hours))
            elif args.command == "organizer-token":
                print(service.organizer_token(conn, name=args.name))
            elif args.command == "alerts":
                found = service.alerts(conn, event_id=service.find_event(conn, args.event)["id"])
                for a in found:
                    print(f"{a['created_at']}\t{a['stall']} {a['device_code']}\tseq {a['seq']}"
                          f"\t{a['reason']}")
                if not found:
                    print("no alerts")
            elif args.command == "totals":
                totals = service.totals(conn, event_id=service.find_event(conn, args.event)["id"])
                if args.json:
                    print(json.dumps(totals, ensure_ascii=False, indent=2))
                else:
                    print(f"net {totals['net']:,} won · {totals['enterprises']} enterprises")
                    for row in totals["by_enterprise"]:
                        print(f"  {row['enterprise']}\t{row['net']:,}")
                    for row in totals["by_device"]:
                        print(f"  {row['stall']} {row['device']}\t{row['net']:,}\t"
                              f"{row['documents']} documents, acked {row['acked_seq']}")
                    for row in totals["by_day"]:
                        print(f"  {row['day']}\t{row['net']:,}")
    except service.Refused as e:
        print(e.reason, file=sys.stderr)
        return 1
    return 0


def migrate_once(url: str) -> None:
    from sync.server.db import make_engine, migrate

    engine = make_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()


def _serve(args) -> int:
    import uvicorn

    from sync.server import app as app_module

    tls = bool(args.tls_cert and args.tls_key)
    if not _loopback(args.host) and not tls and not args.insecure_http:
        print(f"Refusing plain HTTP on {args.host}: device tokens would travel unencrypted. "
              "Give --tls-cert and --tls-key, put the server behind a TLS proxy on 127.0.0.1, "
              "or pass --insecure-http if you really mean it.", file=sys.stderr)
        return 2
    migrate_once(args.db)  # before the workers start, so they never race to migrate
    os.environ[app_module.DB_ENV] = args.db
    uvicorn.run("sync.server.app:from_environment", factory=True, host=args.host,
                port=args.port, workers=max(1, args.workers), log_level="info",
                ssl_certfile=str(args.tls_cert) if tls else None,
                ssl_keyfile=str(args.tls_key) if tls else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
