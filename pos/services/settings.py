"""Settings of the till, stored as JSON values by key."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, select

from pos import events, tables as t
from pos.domain import ChangePolicy, DEFAULT_METHODS, MethodKind, PaymentMethod
from pos.store import UnitOfWork


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
    stored = get_setting(uow, "payment_methods")
    if stored is None:
        return {m.code: m for m in DEFAULT_METHODS}
    return {
        m["code"]: PaymentMethod(m["code"], MethodKind(m["kind"]), m["label_ko"], m["label_en"],
                                 ChangePolicy(m.get("change_policy", "none")),
                                 bool(m.get("active", True)))
        for m in stored
    }


def set_payment_methods(uow: UnitOfWork, methods: list[PaymentMethod]) -> None:
    codes = [m.code for m in methods]
    if len(set(codes)) != len(codes) or not all(c and c.isidentifier() for c in codes):
        raise ValueError("payment method codes must be unique identifiers")
    set_setting(uow, "payment_methods", [
        {"code": m.code, "kind": str(m.kind), "label_ko": m.label_ko, "label_en": m.label_en,
         "change_policy": str(m.change_policy), "active": m.active}
        for m in methods
    ])
