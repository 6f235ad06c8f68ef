"""`jangteo staff …` and `jangteo audit`, and who acts on the command line when the till uses
staff accounts: `--staff NAME` signs that person in for the command (their PIN from the
environment variable `JANGTEO_PIN`, else asked on the terminal), `--approver NAME` lets a
manager approve what the person may not do (`JANGTEO_APPROVER_PIN`). A new PIN
(`staff add`, `staff reset-pin`) comes from `JANGTEO_NEW_PIN`, else is asked twice."""

from __future__ import annotations

import getpass
import os
import sys
from datetime import date

from pos.domain import DomainError


def add_options(parser, h) -> None:
    parser.add_argument("--staff", default=None, metavar="NAME", help=h("staff_option_help"))
    parser.add_argument("--approver", default=None, metavar="NAME",
                        help=h("approver_option_help"))


def add_commands(sub, h) -> None:
    st = sub.add_parser("staff", help=h("staff_help"))
    actions = st.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    actions.add_parser("list", help=h("staff_list_help"))
    add = actions.add_parser("add", help=h("staff_add_help"))
    add.add_argument("name")
    add.add_argument("--role", choices=["manager", "cashier"], default="cashier",
                     help=h("staff_role_help"))
    add.add_argument("--enterprise", default=None, help=h("staff_enterprise_help"))
    for name, help_text in (("disable", h("staff_disable_help")),
                            ("enable", h("staff_enable_help")),
                            ("reset-pin", h("staff_reset_pin_help"))):
        a = actions.add_parser(name, help=help_text)
        a.add_argument("name")
    acc = actions.add_parser("accounts", help=h("staff_accounts_help"))
    acc.add_argument("state", choices=["on", "off"])
    au = sub.add_parser("audit", help=h("audit_help"))
    au.add_argument("--from", dest="since", default=None, metavar="YYYY-MM-DD",
                    type=date.fromisoformat, help=h("audit_from_help"))
    au.add_argument("--to", dest="until", default=None, metavar="YYYY-MM-DD",
                    type=date.fromisoformat, help=h("audit_to_help"))
    au.add_argument("--staff", dest="audit_staff", default=None, metavar="NAME",
                    help=h("audit_staff_help"))


def read_pin(env: str, prompt: str, *, twice: str | None = None) -> str:
    """A PIN from the environment variable `env`, else typed on the terminal (not shown);
    `DomainError("pin_needed")` when there is neither (a script without the variable)."""
    value = os.environ.get(env)
    if value is not None:
        return value.strip()
    if not sys.stdin or not sys.stdin.isatty():
        raise DomainError("pin_needed", variable=env)
    pin = getpass.getpass(prompt)
    if twice is not None and getpass.getpass(twice) != pin:
        raise DomainError("pin_mismatch")
    return pin


def sign_in(store, args, lang: str) -> None:
    """With staff accounts on, sign in `--staff` (and hold `--approver`) for this command."""
    from pos.cli import say
    from pos.services import staff

    name, approver = getattr(args, "staff", None), getattr(args, "approver", None)
    if not name and not approver:
        return
    with store.unit_of_work() as uow:
        if not staff.accounts_on(uow):
            return
    for ref, env, target in ((name, "JANGTEO_PIN", "actor"),
                             (approver, "JANGTEO_APPROVER_PIN", "approver")):
        if not ref:
            continue
        with store.unit_of_work() as uow:
            person = staff.find_staff(uow, ref)
        pin = read_pin(env, say("pin_prompt", lang, name=person.name))
        with store.unit_of_work() as uow:
            result = staff.check_pin(uow, staff_id=person.id, pin=pin)
            if result.staff is not None and target == "actor":
                staff.sign_in(uow, result.staff)
            uow.commit()
        if result.staff is None:
            raise DomainError("pin_wait" if result.wait else "pin_wrong", name=person.name,
                              seconds=result.wait)
        if target == "approver":
            if not result.staff.manager:
                raise DomainError("approver_not_manager", name=person.name)
            store.approver = result.staff


def handlers(open_store) -> dict:
    return {"staff": lambda args, lang: _staff(args, lang, open_store),
            "audit": lambda args, lang: _audit(args, lang, open_store)}


def _role(role: str, lang: str) -> str:
    from pos.i18n import tr

    return tr(f"role_{role}", lang)


def _staff(args, lang: str, open_store) -> int:
    from pos.cli import EXIT_OK, say
    from pos.services import find_enterprise, staff

    action = args.staff_command
    if action == "list":
        with open_store(args, write=False) as store, store.unit_of_work(write=False) as uow:
            people = staff.list_staff(uow)
            on = staff.accounts_on(uow)
        print(say("accounts_are_on", lang) if on else say("accounts_are_off", lang))
        if not people:
            print(say("staff_none", lang))
        for person in people:
            state = "" if person.active else " " + say("staff_disabled_mark", lang)
            print(f"  {person.name}\t{_role(person.role, lang)}{state}")
        return EXIT_OK
    with open_store(args) as store:
        with store.unit_of_work() as uow:
            if action == "add":
                enterprise_id = None
                if args.enterprise:
                    found = find_enterprise(uow, ref=args.enterprise)
                    if found is None:
                        raise DomainError("enterprise_unknown", value=args.enterprise)
                    enterprise_id = found["id"]
                first = not staff.list_staff(uow)
            elif action != "accounts":
                person = staff.find_staff(uow, args.name)
        pin = None
        if action in ("add", "reset-pin"):
            who = args.name if action == "add" else person.name
            pin = read_pin("JANGTEO_NEW_PIN", say("new_pin_prompt", lang, name=who),
                           twice=say("new_pin_again_prompt", lang))
        with store.unit_of_work() as uow:
            if action == "add":
                made = staff.add_staff(uow, name=args.name, role=args.role, pin=pin,
                                       enterprise_id=enterprise_id)
                message = say("staff_added", lang, name=made.name, role=_role(made.role, lang))
                if first:
                    message += "\n" + say("staff_first_is_manager", lang)
            elif action in ("disable", "enable"):
                staff.update_staff(uow, staff_id=person.id, active=action == "enable")
                message = (say("staff_enabled", lang, name=person.name) if action == "enable"
                           else say("staff_disabled", lang, name=person.name))
            elif action == "reset-pin":
                staff.reset_pin(uow, staff_id=person.id, pin=pin)
                message = say("staff_pin_reset", lang, name=person.name)
            else:
                staff.set_accounts(uow, args.state == "on")
                message = (say("accounts_now_on", lang) if args.state == "on"
                           else say("accounts_now_off", lang))
            uow.commit()
    print(message)
    return EXIT_OK


def _audit(args, lang: str, open_store) -> int:
    from pos import audit
    from pos.cli import EXIT_OK, say
    from pos.i18n import tr

    from pos.services import staff

    if args.since and args.until and args.since > args.until:
        raise DomainError("period_reversed", day_from=args.since.isoformat(),
                          day_to=args.until.isoformat())
    with open_store(args, write=False) as store, store.unit_of_work(write=False) as uow:
        name = staff.find_staff(uow, args.audit_staff).name if args.audit_staff else None
        found = audit.entries(uow, since=args.since and args.since.isoformat(),
                              until=args.until and args.until.isoformat(), staff=name)
    if not found:
        print(say("audit_none", lang))
    for e in found:
        who = e.staff_name or "-"
        detail = audit.describe(e, lang)
        what = tr(f"audit_{e.action}", lang)
        print(f"{e.n:>5}  {e.at[:19].replace('T', ' ')}  {who}  {what}  {e.subject}"
              + (f"  ({detail})" if detail else ""))
    return EXIT_OK
