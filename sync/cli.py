"""`jangteo sync enroll URL CODE | now | status`."""

from __future__ import annotations


def add_commands(sub, h) -> None:
    s = sub.add_parser("sync", help=h("주최측 서버로 판매 보내기", "send sales to the organizer's server"))
    actions = s.add_subparsers(dest="sync_command", metavar="ACTION", required=True)
    e = actions.add_parser("enroll", help=h("등록 코드로 이 기기를 서버에 등록", "enroll this till with a code"))
    e.add_argument("url")
    e.add_argument("code")
    actions.add_parser("now", help=h("지금 보내기", "send now"))
    actions.add_parser("status", help=h("보낸 것과 남은 것", "what was sent and what waits"))


def handlers(open_store) -> dict:
    return {"sync": lambda args, lang: _run(args, lang, open_store)}


def _run(args, lang: str, open_store) -> int:
    from pos.i18n import error_text
    from sync.client import SyncError, enroll, server_status, sync_now, sync_state

    ko = lang == "ko"
    with open_store(args) as store:
        if args.sync_command == "enroll":
            info = enroll(store, url=args.url, code=args.code)
            print(f"등록했습니다: {info['event']} / {info['stall']}" if ko else
                  f"Enrolled: {info['event']} / {info['stall']}")
            return 0
        if args.sync_command == "now":
            n = sync_now(store)
            state = sync_state(store)
            print(f"{n}건을 보냈습니다. 남은 것 {state.waiting}건." if ko else
                  f"Sent {n} events; {state.waiting} waiting.")
            return 0
        state = sync_state(store)
        if not state.configured:
            print("등록되지 않았습니다." if ko else "Not enrolled.")
            return 0
        print(f"기기 seq {state.last_seq}, 확인받은 seq {state.acked_seq}, 남은 것 {state.waiting}"
              if ko else f"device seq {state.last_seq}, acked {state.acked_seq}, "
                         f"waiting {state.waiting}")
        try:
            server = server_status(store, timeout=5)
        except SyncError as e:
            print(error_text(e, lang))
            return 1
    print(f"서버: {server.event_name} / {server.stall_name}, 서버가 가진 seq {server.acked_seq}"
          if ko else f"server: {server.event_name} / {server.stall_name}, "
                     f"server has seq {server.acked_seq}")
    return 0
