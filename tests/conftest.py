"""Shared fixtures: a real SQLite data directory per test and a small joint stall."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pos.clock import SteppingClock
from pos.store import Store

KST = timezone(timedelta(hours=9), "KST")
ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("JANGTEO_LANG", "ko")
# receipt marks (pos.marks) of stores made outside a test (module fixtures) go to a temporary
# folder; each test gets its own (`_state_dir`)
if "JANGTEO_STATE_DIR" not in os.environ:
    import tempfile

    os.environ["JANGTEO_STATE_DIR"] = tempfile.mkdtemp(prefix="jangteo-test-state-")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# the tests never touch a real credential store; tests/sync puts an in-memory one where needed
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    """Each test's own state folder (the receipt marks kept outside the data folder,
    `pos.marks`), so tests never write into the user's."""
    monkeypatch.setenv("JANGTEO_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture
def small_disk(tmp_path):
    """`make(size)` mounts a real tmpfs of that size (`tests.mounts.tmpfs`) for the test and
    returns its folder: a disk that fills up, or that `tests.mounts.remount` makes read-only."""
    from contextlib import ExitStack
    from itertools import count

    from tests.mounts import tmpfs

    numbers = count()
    with ExitStack() as stack:
        yield lambda size="4m": stack.enter_context(
            tmpfs(tmp_path / f"disk{next(numbers)}", size))


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(datetime(2026, 11, 21, 10, 0, tzinfo=KST), timedelta(seconds=1))


@pytest.fixture
def store(tmp_path, clock):
    s = Store(tmp_path / "data", clock=clock)
    yield s
    s.close()


@dataclass
class Stall:
    general: str  # enterprise ids
    simplified: str
    exempt: str
    soap: str  # product ids: 3,000 won taxable, barcode 8800000000017
    candle: str  # 12,000 won taxable
    rice: str  # 11,000 won exempt product of a general taxpayer
    brooch: str  # 13,000 won, simplified taxpayer
    eggs: str  # 7,000 won, exempt enterprise


@pytest.fixture
def stall(store) -> Stall:
    from pos import services as s

    with store.unit_of_work() as uow:
        general = s.add_enterprise(uow, name="모두의공방", bizno="220-81-62517",
                                   representative="김하늘", commission_bp=1000)
        simplified = s.add_enterprise(uow, name="손끝공방", tax_status="simplified",
                                      commission_bp=1500)
        exempt = s.add_enterprise(uow, name="늘푸른농장", tax_status="exempt")
        ids = Stall(
            general, simplified, exempt,
            soap=s.add_product(uow, name="수제비누", price=3000, enterprise_id=general,
                               barcodes=["8800000000017"], sku="SOAP"),
            candle=s.add_product(uow, name="향초", price=12000, enterprise_id=general,
                                 stock=10),
            rice=s.add_product(uow, name="무농약 쌀 2kg", price=11000, enterprise_id=general,
                               tax_class="exempt"),
            brooch=s.add_product(uow, name="자수 브로치", price=13000, enterprise_id=simplified),
            eggs=s.add_product(uow, name="유정란 10구", price=7000, enterprise_id=exempt),
        )
        uow.commit()
    return ids


def in_shift(uow, *, daily: bool = False) -> dict:
    """The open shift, opened with a float of 0 if there is none: every sale belongs to one.
    `daily`: a shift opened on an earlier day is closed first (counted as expected), as a
    vendor closes each market day, so that a day's sales go to that day."""
    from pos import services as svc

    shift = svc.current_shift(uow)
    if daily and shift is not None and \
            datetime.fromisoformat(shift["opened_at"]).date() < uow.clock.now().date():
        svc.close_shift(uow, counted=svc.expected_cash(uow, shift_id=shift["id"]))
        shift = None
    return shift or svc.open_shift(uow, float_amount=0)


def manager_and_cashier(store, *, signed_in: str | None = "cashier"):
    """김매니저 (manager, PIN 2468) and 이계산 (cashier, PIN 1357), staff accounts on; who is
    signed in after: "cashier", "manager" or None (nobody). Returns (manager, cashier)."""
    from pos.services import staff

    with store.unit_of_work() as uow:
        boss = staff.add_staff(uow, name="김매니저", role="manager", pin="2468")
        uow.commit()
    store.actor = boss  # the first person is a manager, who adds the rest
    with store.unit_of_work() as uow:
        clerk = staff.add_staff(uow, name="이계산", role="cashier", pin="1357")
        staff.set_accounts(uow, True)
        uow.commit()
    store.actor = {"cashier": clerk, "manager": boss, None: None}[signed_in]
    return boss, clerk
