"""The organizer API's answers, typed: what `/docs` shows and what a client can rely on."""

from __future__ import annotations

from pydantic import BaseModel


class MarketEvent(BaseModel):  # not `Event`: that is the push body's event (protocol.Event)
    id: str
    name: str
    created_at: str


class Device(BaseModel):
    id: str
    device_code: str
    name: str
    last_seq: int
    enrolled_at: str
    revoked_at: str | None = None  # its token is refused (401 `device_revoked`)


class Stall(BaseModel):
    id: str
    event_id: str
    name: str
    created_at: str
    devices: list[Device] = []


class Enterprise(BaseModel):
    id: str
    event_id: str
    name: str
    bizno: str | None = None


class DeviceCode(BaseModel):
    code: str  # shown once; the server keeps only its hash
    stall: str
    valid_hours: float


class Cancelled(BaseModel):
    cancelled: bool


class ProductTaken(BaseModel):
    taken: bool  # False when a newer edit of the product was already there
    hlc: str


class SettingsVersion(BaseModel):
    version: int


class EnterpriseTotal(BaseModel):
    enterprise: str
    net: int
    qty: int


class DeviceTotal(BaseModel):
    stall: str
    device: str
    net: int
    documents: int
    acked_seq: int


class DayTotal(BaseModel):
    day: str
    net: int
    documents: int


class MethodTotal(BaseModel):
    method: str
    net: int


class Totals(BaseModel):
    event_id: str
    net: int
    enterprises: int
    by_enterprise: list[EnterpriseTotal]
    by_device: list[DeviceTotal]
    by_day: list[DayTotal]
    by_method: list[MethodTotal]


class Alert(BaseModel):
    id: int
    stall: str
    device_code: str
    seq: int
    event_id: str
    reason: str
    created_at: str  # the first copy
    last_at: str  # the newest copy
    times: int  # how many copies came
