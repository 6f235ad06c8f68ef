"""Settings of the till: one typed record (`TillSettings`), stored as JSON values by key.

Code reads `till_settings(uow).receipt_mode`, never a key with its default repeated at the call
site; `save_settings(uow, receipt_mode="always", …)` checks each value before it is stored.
Payment methods and the sync client's own state have their own functions.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from sqlalchemy import bindparam, select

from pos import events, tables as t
from pos.domain import ChangePolicy, DEFAULT_METHODS, DomainError, MethodKind, PaymentMethod
from pos.store import UnitOfWork


log = logging.getLogger("jangteo.settings")

_GET = select(t.settings.c.value).where(t.settings.c.key == bindparam("key"))


def get_setting(uow: UnitOfWork, key: str, default: Any = None) -> Any:
    raw = uow.conn.execute(_GET, {"key": key}).scalar()
    return default if raw is None else json.loads(raw)


def set_setting(uow: UnitOfWork, key: str, value: Any) -> None:
    uow.store.cache.clear()
    uow.settings_changed = True
    uow.on_commit(uow.store.cache.clear)
    uow.note(events.SETTINGS)
    raw = json.dumps(value, ensure_ascii=False)
    updated = uow.conn.execute(t.settings.update().where(t.settings.c.key == key)
                               .values(value=raw)).rowcount
    if not updated:
        uow.conn.execute(t.settings.insert().values(key=key, value=raw))


def payment_methods(uow: UnitOfWork) -> dict[str, PaymentMethod]:
    """The configured payment methods by code, in display order (defaults until changed).
    Kept in the store's cache between transactions; changing a setting clears it."""
    cached = uow.store.cache.get("payment_methods")
    if cached is not None:
        return cached
    methods = _load_methods(uow)
    if not getattr(uow, "settings_changed", False):
        uow.store.cache["payment_methods"] = methods
    return methods


def _load_methods(uow: UnitOfWork) -> dict[str, PaymentMethod]:
    try:
        stored = get_setting(uow, "payment_methods")
    except ValueError:
        stored = None
    methods = {}
    for m in stored if isinstance(stored, list) else []:
        try:
            methods[m["code"]] = PaymentMethod(
                m["code"], MethodKind(m["kind"]), str(m["label_ko"]), str(m["label_en"]),
                ChangePolicy(m.get("change_policy", "none")), bool(m.get("active", True)))
        except (KeyError, TypeError, ValueError):  # written by another version, or by hand
            log.warning("payment method %r cannot be used; left out", m)
    return methods or {m.code: m for m in DEFAULT_METHODS}


def set_payment_methods(uow: UnitOfWork, methods: list[PaymentMethod]) -> None:
    codes = [m.code for m in methods]
    if len(set(codes)) != len(codes) or not all(c and c.isidentifier() for c in codes):
        raise ValueError("payment method codes must be unique identifiers")
    set_setting(uow, "payment_methods", [
        {"code": m.code, "kind": str(m.kind), "label_ko": m.label_ko, "label_en": m.label_en,
         "change_policy": str(m.change_policy), "active": m.active}
        for m in methods
    ])


RECEIPT_MODES = ("always", "ask", "never")
LOCK_MINUTES_MAX = 240
STORE_FIELDS = ("name", "bizno", "representative", "address", "phone")


@dataclass(frozen=True)
class PrinterSettings:
    url: str = ""  # empty: no printer set up
    profile: str = ""  # a printing profile key; the printing layer checks it
    drawer: bool = True  # open the cash drawer for cash
    overrides: dict = field(default_factory=dict)  # dots, columns, renderer

    @property
    def profile_key(self) -> str:  # what a print job records (`pos.print_jobs.Target`)
        return self.profile


@dataclass(frozen=True)
class TillSettings:
    store: dict = field(default_factory=dict)  # the stall's identity on receipts: STORE_FIELDS
    language: str | None = None  # the window's language; None: the system's
    receipt_mode: str = "ask"  # print a receipt after paying: always / ask / never
    receipt_language: str = "ko"
    receipt_footer: str = ""
    receipt_qr: str = ""
    receipt_logo: str = ""  # a file in the data folder (printing.receipt.keep_logo)
    receipt_group_by_enterprise: bool = True
    scan_error_sound: bool = True  # a sound when a scanned code is not a product
    lock_minutes: int = 0  # staff accounts on: lock the till after this many idle minutes (0: never)
    # Korean rules as this stall applies them, changed from their defaults (pos.korea_rules.Rules:
    # the seller model, voucher change, the cash receipt threshold and deadline)
    rules: dict = field(default_factory=dict)
    printer: PrinterSettings = field(default_factory=PrinterSettings)


_KEYS = [f.name for f in fields(TillSettings)]


def till_settings(uow: UnitOfWork) -> TillSettings:
    """Every till setting in one record (one query, kept in the store's cache between
    transactions; writing a setting clears it)."""
    cached = uow.store.cache.get("till_settings")
    if cached is not None:
        return cached
    stored = {}
    for key, raw in uow.conn.execute(select(t.settings.c.key, t.settings.c.value)
                                     .where(t.settings.c.key.in_(_KEYS))):
        try:
            stored[key] = json.loads(raw)
        except ValueError:
            log.warning("setting %s is not JSON; using its default", key)
    record = TillSettings(**{k: v for k, v in stored.items() if k != "printer" and _fits(k, v)},
                          printer=_printer_from(stored.get("printer")))
    if not getattr(uow, "settings_changed", False):
        uow.store.cache["till_settings"] = record
    return record


_TYPES = {"store": dict, "language": str, "receipt_mode": str, "receipt_language": str,
          "receipt_footer": str, "receipt_qr": str, "receipt_logo": str,
          "receipt_group_by_enterprise": bool, "scan_error_sound": bool, "lock_minutes": int,
          "rules": dict}


def _fits(key: str, value: Any) -> bool:
    """A stored value of the right kind; anything else (written by another version, or by
    hand) is left out, and the setting's default stands, rather than failing every receipt."""
    kind = _TYPES[key]
    ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
    if ok and key == "store":
        ok = all(isinstance(v, str) for v in value.values())
    if ok and key == "receipt_mode":
        ok = value in RECEIPT_MODES
    if ok and key == "lock_minutes":
        ok = 0 <= value <= LOCK_MINUTES_MAX
    if ok and key == "rules":
        from pos.korea_rules import rules_from

        try:
            rules_from(value)
        except DomainError:
            ok = False
    if not ok and value is not None:
        log.warning("setting %s has a value of the wrong kind; using its default", key)
    return ok


def _printer_from(value: Any) -> PrinterSettings:
    if not isinstance(value, dict):
        return PrinterSettings()
    url, profile = value.get("url", ""), value.get("profile", "")
    drawer, overrides = value.get("drawer", True), value.get("overrides", {})
    return PrinterSettings(url if isinstance(url, str) else "",
                           profile if isinstance(profile, str) else "",
                           drawer if isinstance(drawer, bool) else True,
                           overrides if isinstance(overrides, dict) else {})


def _clean_text(value: Any, *, name: str, limit: int, lines: bool = False) -> str:
    if not isinstance(value, str):
        raise DomainError("setting_invalid", name=name)
    value = value.strip()
    bad = [ch for ch in value if ord(ch) < 32 and not (lines and ch == "\n")]
    if bad or len(value) > limit or "\x7f" in value:
        raise DomainError("setting_invalid", name=name)
    return value


def save_settings(uow: UnitOfWork, **changes: Any) -> TillSettings:
    """Check and store some settings; returns the record as it now is. An unknown name or a
    value that cannot be right raises `DomainError('setting_invalid')` and stores nothing."""
    current = till_settings(uow)
    checked: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in _KEYS:
            raise DomainError("setting_invalid", name=str(name)[:40])
        if name == "receipt_mode" and value not in RECEIPT_MODES:
            raise DomainError("setting_invalid", name=name)
        if name in ("language", "receipt_language") and value is not None:
            from pos.i18n import languages

            if value not in languages():
                raise DomainError("setting_invalid", name=name)
        if name in ("receipt_footer",):
            value = _clean_text(value, name=name, limit=500, lines=True)
        if name in ("receipt_qr", "receipt_logo"):
            value = _clean_text(value or "", name=name, limit=1000)
        if name in ("receipt_group_by_enterprise", "scan_error_sound") and \
                not isinstance(value, bool):
            raise DomainError("setting_invalid", name=name)
        if name == "lock_minutes" and (isinstance(value, bool) or not isinstance(value, int)
                                       or not 0 <= value <= LOCK_MINUTES_MAX):
            raise DomainError("setting_invalid", name=name)
        if name == "rules":
            from pos.korea_rules import rules_from

            rules_from(value)  # refuses what is not a rule, naming it
            value = dict(value or {})  # None: back to the defaults
        if name == "store":
            if not isinstance(value, dict) or set(value) - set(STORE_FIELDS):
                raise DomainError("setting_invalid", name=name)
            value = {k: _clean_text(v or "", name=f"store.{k}", limit=200)
                     for k, v in value.items()}
        if name == "printer":
            if isinstance(value, dict):
                value = PrinterSettings(**value)
            if not isinstance(value, PrinterSettings):
                raise DomainError("setting_invalid", name=name)
            value = replace(value, url=_clean_text(value.url, name="printer.url", limit=500))
        checked[name] = value
    for name, value in checked.items():
        set_setting(uow, name, asdict(value) if isinstance(value, PrinterSettings) else value)
    return replace(current, **checked)
