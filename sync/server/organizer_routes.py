"""What the organizer does: events, stalls and their devices, enterprises, enrolment codes,
products and settings for the tills, totals and alerts, the stalls' staff and audit logs. Every route needs an organizer token."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from sync import protocol as p
from sync.server import answers as a, service
from sync.server.deps import ORGANIZER, WITH_BODY, Organizer, Tx, problems

router = APIRouter(prefix="/api/v1", tags=["organizer"], dependencies=[Organizer],
                   responses=ORGANIZER)

FOUND = problems(404)
CHANGE = problems(404, *WITH_BODY)
STALL_CHANGE = problems(404, 409, *WITH_BODY)  # 409: a stall name two events use


@router.get("/events")
def events(conn: Tx) -> list[a.MarketEvent]:
    return service.list_events(conn)


@router.post("/events", status_code=201, responses=problems(409, *WITH_BODY))
def create_event(new: p.NewEvent, conn: Tx) -> a.MarketEvent:
    return service.find_event(conn, service.create_event(conn, name=new.name))


@router.get("/events/{event}/stalls", responses=FOUND)
def stalls(event: str, conn: Tx) -> list[a.Stall]:
    return service.list_stalls(conn, event_id=service.find_event(conn, event)["id"])


@router.post("/events/{event}/stalls", status_code=201, responses=problems(404, 409, *WITH_BODY))
def create_stall(event: str, new: p.NewStall, conn: Tx) -> a.Stall:
    found = service.find_event(conn, event)
    return service.find_stall(conn, service.create_stall(conn, event_id=found["id"],
                                                         name=new.name))


@router.post("/events/{event}/enterprises", status_code=201,
             responses=problems(404, 409, *WITH_BODY))
def add_enterprise(event: str, new: p.NewEnterprise, conn: Tx) -> a.Enterprise:
    found = service.find_event(conn, event)
    return service.get_enterprise(conn, service.add_enterprise(
        conn, event_id=found["id"], name=new.name, bizno=new.bizno))


@router.post("/stalls/{stall}/device-codes", status_code=201, responses=STALL_CHANGE)
def device_code(stall: str, new: p.NewDeviceCode, conn: Tx) -> a.DeviceCode:
    """A one-time enrollment code for a till of the stall (shown once; stored hashed)."""
    found = service.find_stall(conn, stall)
    return a.DeviceCode(code=service.device_code(conn, stall_id=found["id"],
                                                 valid_hours=new.valid_hours,
                                                 till=new.device_code),
                        stall=found["name"], valid_hours=new.valid_hours,
                        device_code=new.device_code)


@router.post("/device-codes/cancel", responses=problems(404, 409, *WITH_BODY))
def cancel_device_code(old: p.CancelDeviceCode, conn: Tx) -> a.Cancelled:
    """An enrollment code not used yet is cancelled: a till that tries it is refused (403
    `code_unusable`). The code goes in the body, not the address, to stay out of logs."""
    service.cancel_code(conn, code=old.code)
    return a.Cancelled(cancelled=True)


@router.post("/stalls/{stall}/devices/{device}/revoke", responses=problems(404, 409))
def revoke_device(stall: str, device: str, conn: Tx) -> a.Device:
    """The till (its id, or the device code of the stall's active till) can no longer sync:
    its token answers 401 `device_revoked`. What it sent stays; the same till enrolled again
    gets its device code back, and an enrollment code naming that code gives it to a new one."""
    found = service.find_stall(conn, stall)
    return a.Device(**service.revoke_device(conn, stall_id=found["id"], ref=device))


@router.put("/stalls/{stall}/products", responses=STALL_CHANGE)
def put_product(stall: str, product: p.ProductEdit, conn: Tx) -> a.ProductTaken:
    found = service.find_stall(conn, stall)
    stamped = p.ProductChange(**product.model_dump(),
                              hlc=service.server_stamp(conn, found["id"]))
    return a.ProductTaken(taken=service.put_product(conn, stall_id=found["id"], product=stamped,
                                                      origin="organizer"),
                          hlc=stamped.hlc)


@router.put("/events/{event}/settings", responses=CHANGE)
def put_settings(event: str, settings: p.TillSettings, conn: Tx) -> a.SettingsVersion:
    """Receipt texts and payment methods for every till of the event (they pull them)."""
    found = service.find_event(conn, event)
    return a.SettingsVersion(version=service.put_settings(conn, event_id=found["id"],
                                                          settings=settings))


@router.get("/events/{event}/totals", responses=FOUND)
def totals(event: str, conn: Tx) -> a.Totals:
    return service.totals(conn, event_id=service.find_event(conn, event)["id"])


@router.get("/events/{event}/vat", responses=problems(404, 422))
def vat(event: str, conn: Tx,
        since: Annotated[str, Query(alias="from", max_length=10, pattern=p.DAY,
                                    description="the first business day (YYYY-MM-DD)")],
        until: Annotated[str, Query(alias="to", max_length=10, pattern=p.DAY,
                                    description="the last business day (YYYY-MM-DD)")],
        ) -> list[a.VatRow]:
    """Each enterprise's VAT return figures for the period across every till of the event,
    refunds netted: taxable and exempt sales, card, cash receipts issued and still to issue,
    other cash, vouchers (as each till's `jangteo report vat` gives them for its own sales)."""
    rows = service.event_vat(conn, event_id=service.find_event(conn, event)["id"],
                             since=since, until=until)
    return [{"enterprise": f.name, "bizno": f.bizno, "tax_status": f.tax_status,
             "statuses": list(f.statuses),
             **{k: getattr(f, k) for k in (
                 "day_from", "day_to", "sales", "refunds", "net", "taxable_total",
                 "supply_value", "vat", "exempt_total", "card", "cash_receipts_issued",
                 "cash_receipts_waiting", "other_cash", "vouchers", "tokens")}} for f in rows]


@router.get("/events/{event}/alerts", responses=problems(404, 422))
def alerts(event: str, conn: Tx,
           after: Annotated[int, Query(ge=0, le=p.MAX_SEQ,
                                       description="the last alert id already seen")] = 0,
           limit: Annotated[int, Query(ge=1, le=1000)] = 500) -> list[a.Alert]:
    """What the organizer should look at, oldest first, a page at a time: events a device
    sent again with different content (one per device, seq and content, `times` counts the
    copies), voids and refunds waiting for their original or returning more than was sold,
    and pushes refused with 422 (one per device, seq and reason)."""
    return service.alerts(conn, event_id=service.find_event(conn, event)["id"], after=after,
                          limit=limit)


@router.post("/events/{event}/alerts/{alert_id}/resolve", responses=problems(404, 422))
def resolve_alert(event: str, alert_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
                  conn: Tx) -> a.Alert:
    """Mark an alert resolved (looked into); again, a no-op. It stays listed, with when."""
    return service.resolve_alert(conn, event_id=service.find_event(conn, event)["id"],
                                 alert_id=alert_id, by="api")


@router.get("/stalls/{stall}/staff", responses=problems(404, 409))
def staff(stall: str, conn: Tx) -> list[a.StaffMember]:
    """The people who sell at the stall's tills, by till and name, as each till last sent
    them. Never a PIN or anything made from one."""
    return service.stall_staff(conn, stall_id=service.find_stall(conn, stall)["id"])


@router.get("/stalls/{stall}/cash-receipts", responses=problems(404, 409, 422))
def cash_receipts(stall: str, conn: Tx,
                  since: Annotated[str | None, Query(alias="from", max_length=10, pattern=p.DAY,
                                                     description="the first business day")] = None,
                  until: Annotated[str | None, Query(alias="to", max_length=10, pattern=p.DAY,
                                                     description="the last business day")] = None,
                  state: Annotated[Literal["to_issue", "issued", "cancelled"] | None,
                                   Query(description="only requests in this state")] = None,
                  ) -> list[a.CashReceipt]:
    """The cash receipt (현금영수증) requests and cancellations of the stall's tills, as each
    till last sent them, by business day: who issues each, for how much, by when, and whether
    it was issued. The customer's number is masked."""
    return service.stall_cash_receipts(conn, stall_id=service.find_stall(conn, stall)["id"],
                                       since=since, until=until, state=state)


@router.get("/stalls/{stall}/audit", responses=problems(404, 409, 422))
def audit(stall: str, conn: Tx,
          since: Annotated[str | None, Query(alias="from", max_length=10, pattern=p.DAY,
                                             description="the first day (YYYY-MM-DD)")] = None,
          until: Annotated[str | None, Query(alias="to", max_length=10, pattern=p.DAY,
                                             description="the last day (YYYY-MM-DD)")] = None,
          staff: Annotated[str | None, Query(min_length=1, max_length=40, pattern=p.PLAIN,
                                             description="only this person's entries")] = None,
          after: Annotated[int, Query(ge=0, le=p.MAX_SEQ,
                                      description="the last entry id already seen")] = 0,
          limit: Annotated[int, Query(ge=1, le=1000)] = 500) -> list[a.AuditEntry]:
    """The audit logs of the stall's tills, in the order the server received them (each
    till's in its own order), a page at a time: of the days `from` to `to` (as each till
    dated the entry), of one person. An entry that breaks its till's hash chain is listed
    too, with its `problem` (and an alert)."""
    return service.audit_entries(conn, stall_id=service.find_stall(conn, stall)["id"],
                                 since=since, until=until, staff=staff, after=after,
                                 limit=limit)
