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


def _lang_from_argv(argv: list[str]) -> str | None:
    for k, arg in enumerate(argv):
        if arg == "--lang" and k + 1 < len(argv):
            return argv[k + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    from pos.cli import _argparse_language

    def h(ko: str, en: str) -> str:
        return ko if lang == "ko" else en

    _argparse_language(lang)
    ap = argparse.ArgumentParser(prog="jangteo-server", description=h(
        "장터 판매 기기들의 주최측 서버입니다.", "The organizer's server for Jangteo tills."))
    ap.add_argument("--db", default=DEFAULT_DB, help=h(
        "데이터베이스 URL (기본: 이 폴더의 SQLite 파일; 실제 운영은 "
        "postgresql+psycopg://user@host/db)",
        "database URL (default: a SQLite file here; postgresql+psycopg://user@host/db for "
        "real use)"))
    ap.add_argument("--lang", choices=["ko", "en"], default=None,
                    help=h("표시 언어", "language of messages"))
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help=h("HTTP API를 실행합니다", "run the HTTP API"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8700)
    serve.add_argument("--tls-cert", type=Path, default=None)
    serve.add_argument("--tls-key", type=Path, default=None)
    serve.add_argument("--insecure-http", action="store_true", help=h(
        "루프백이 아닌 주소에서도 평문 HTTP 허용 (토큰이 암호화되지 않고 전송됨)",
        "allow plain HTTP on a non-loopback address (tokens travel in clear)"))
    serve.add_argument("--workers", type=int, default=1, help=h(
        "서버 프로세스 수 (PostgreSQL에서; 한 기기의 전송은 여전히 하나씩)",
        "server processes (on PostgreSQL; one device's pushes still go one at a time)"))
    ev = sub.add_parser("event", help=h("행사", "market events"))
    ev.add_argument("action", choices=["create", "list"])
    ev.add_argument("--name")
    st = sub.add_parser("stall", help=h("행사의 판매장", "stalls of an event"))
    st.add_argument("action", choices=["create"])
    st.add_argument("--event", required=True)
    st.add_argument("--name", required=True)
    en = sub.add_parser("enterprise", help=h("행사의 입점 업체", "enterprises of an event"))
    en.add_argument("action", choices=["add"])
    en.add_argument("--event", required=True)
    en.add_argument("--name", required=True)
    en.add_argument("--bizno", default=None)
    dc = sub.add_parser("device-code", help=h("판매장 기기용 일회용 등록 코드",
                                              "a one-time enrollment code for a stall's till"))
    dc.add_argument("--stall", required=True)
    dc.add_argument("--hours", type=float, default=72)
    ot = sub.add_parser("organizer-token", help=h("주최측 API 접근 토큰",
                                                  "an access token for the organizer's API"))
    ot.add_argument("--name", default="organizer")
    tt = sub.add_parser("totals", help=h("행사 합계: 업체별, 기기별, 날짜별",
                                         "an event's totals per enterprise, device and day"))
    tt.add_argument("event")
    tt.add_argument("--json", action="store_true")
    al = sub.add_parser("alerts", help=h("기기가 내용을 바꿔 다시 보낸 이벤트",
                                         "events a till sent again with different content"))
    al.add_argument("event")
    return ap


def main(argv: list[str] | None = None) -> int:
    from pos.i18n import detect_lang

    argv = list(sys.argv[1:] if argv is None else argv)
    lang = detect_lang(_lang_from_argv(argv))
    args = build_parser(lang).parse_args(argv)
    ko = lang == "ko"
    if args.command == "serve":
        return _serve(args, ko)
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
                    print("경고 없음" if ko else "no alerts")
            elif args.command == "totals":
                totals = service.totals(conn, event_id=service.find_event(conn, args.event)["id"])
                if args.json:
                    print(json.dumps(totals, ensure_ascii=False, indent=2))
                else:
                    _print_totals(totals, ko)
    except service.Refused as e:
        print(e.reason, file=sys.stderr)
        return 1
    return 0


def _print_totals(totals: dict, ko: bool) -> None:
    print(f"순매출 {totals['net']:,}원 · 업체 {totals['enterprises']}곳" if ko else
          f"net {totals['net']:,} won · {totals['enterprises']} enterprises")
    print("업체별" if ko else "by enterprise")
    for row in totals["by_enterprise"]:
        print(f"  {row['enterprise']}\t{row['net']:,}")
    print("판매장·기기별" if ko else "by stall and device")
    for row in totals["by_device"]:
        print(f"  {row['stall']} {row['device']}\t{row['net']:,}\t" +
              (f"문서 {row['documents']}건, 확인 seq {row['acked_seq']}" if ko else
               f"{row['documents']} documents, acked {row['acked_seq']}"))
    print("날짜별" if ko else "by day")
    for row in totals["by_day"]:
        print(f"  {row['day']}\t{row['net']:,}")


def migrate_once(url: str) -> None:
    from sync.server.db import make_engine, migrate

    engine = make_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()


def _serve(args, ko: bool = False) -> int:
    import uvicorn

    from sync.server import app as app_module

    tls = bool(args.tls_cert and args.tls_key)
    if not _loopback(args.host) and not tls and not args.insecure_http:
        print(f"{args.host}에서 평문 HTTP는 거부합니다: 기기 토큰이 암호화되지 않고 전송됩니다. "
              "--tls-cert와 --tls-key를 주거나, 127.0.0.1에서 TLS 프록시 뒤에 두거나, 정말 "
              "원하면 --insecure-http를 주세요." if ko else
              f"Refusing plain HTTP on {args.host}: device tokens would travel unencrypted. "
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
