"""Korean rules a market-booth till follows, each with its source: cash receipts (현금영수증),
voucher change (온누리상품권, 지역사랑상품권) and what a simplified taxpayer (간이과세자) may issue.

These come from public tax guidance, not from the statutes (the research notes rate each one:
H several consistent sources or an official ruling quoted, M one or two secondary sources,
V verify with the law, the NTS or a tax accountant). A rule that varies by year, local
government or trade is a setting (`Rules`, kept in the till's `rules` setting) with the
default below; none of them is a constant written somewhere else.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, replace

from pos.bizno import is_valid as bizno_valid
from pos.domain import DomainError


# --- cash receipts (현금영수증) ------------------------------------------------------------------

# 의무발행업종 (mandatory-issue trades) must issue a cash receipt for a cash transaction of
# ₩100,000 or more, VAT included, even when the customer does not ask (20 % 가산세 otherwise);
# from 2026 the trades include 기념품 판매점 (souvenir shops). [H] taxtimes.co.kr/news/article.
# html?no=242706; m.newspic.kr/summary.html?nid=2025121912153681392
MANDATORY_MIN = 100_000

# A customer who gives no number: the seller issues to the NTS self-issue number 010-000-1234
# (자진발급) within 5 days of the payment; the customer can claim it later on 홈택스.
# [M] ai.bznav.com/contents/567655; ggudol.com/1613
SELF_ISSUE_NUMBER = "0100001234"
ISSUE_DAYS = 5

# The kinds of payment a cash receipt is for: cash and bank transfers (계좌이체) are "cash" in
# the law (현금영수증 가맹점 must issue when a customer paying cash or by transfer asks). [M]
# taxtimes (above). A QR or mobile payment settles as a card or as a transfer depending on the
# service: the stall adds "qr" when its service is account-based (제로페이, 계좌 간편결제).
CASH_LIKE_KINDS = ("cash", "transfer")

PURPOSES = ("deduction", "proof")  # 소득공제 (a person), 지출증빙 (a business)
IDENTITY_KINDS = ("phone", "bizno", "card", "self")


# --- vouchers -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class VoucherRule:
    """When a voucher tender worth more than what is due gets change in cash: when at least
    `min_percent` % of its face value is used; a voucher whose face value (of one note) is
    `small_face_max` or less needs `small_min_percent` % instead. `change=False`: never any
    change (the voucher is taken at face value)."""

    min_percent: int = 60
    small_face_max: int = 0  # 0: no separate rule for small notes
    small_min_percent: int = 80
    change: bool = True

    def percent_for(self, face_value: int) -> int:
        if self.small_face_max and 0 < face_value <= self.small_face_max:
            return self.small_min_percent
        return self.min_percent

    def allows_change(self, used: int, tendered: int, face_value: int) -> bool:
        """Change for a tender of `tendered` won in notes of `face_value` of which `used` paid
        the sale."""
        if not self.change:
            return False
        return used * 100 >= tendered * self.percent_for(face_value or tendered)


# 온누리상품권 paper vouchers (지류): cash change when 60 % or more of the face value is used
# ("액면금액 중 60% 이상을 구매하면 현금으로 잔액을 돌려받을 수 있다", citing 소상공인시장진흥공단).
# [H] ajunews.com/view/20190121153525408. Some blogs say 80 % for small notes (V): a setting.
ONNURI = VoucherRule(min_percent=60)
# 지역사랑상품권: commonly 80 % for ₩10,000 notes and 60 % for larger ones (정책주간지 공감, quoted at
# forlater.tistory.com/259); rules vary by local government, e.g. 사천 mobile: 60 %, or 80 % when
# the balance is ₩10,000 or less (mobile.newsis.com/view_amp.html?ar_id=NISX20230222_0002201696).
# [M/V]: a setting per voucher type.
LOCAL = VoucherRule(min_percent=60, small_face_max=10_000, small_min_percent=80)


# --- simplified taxpayers (간이과세자) -------------------------------------------------------------

# A business may be a simplified taxpayer with annual sales under ₩104,000,000 (from 2024-07-01);
# under ₩48,000,000 it cannot issue a 세금계산서 (tax invoice), only receipts, card slips and cash
# receipts; from ₩48,000,000 it must issue them. [M] elderberry.solderingman.com/2025/09/
# simplified-taxpayer-2024.html; eventmoa.kr/?p=6593 (one blog says 5,800만 for the VAT-payment
# exemption, which conflicts: V)
SIMPLIFIED_MAX = 104_000_000
SIMPLIFIED_INVOICE_MIN = 48_000_000


# --- who is the seller (a joint stall) ----------------------------------------------------------

# One card merchant must not process another merchant's sales (여신전문금융업법 §19; 법제처 08-0205);
# the exception is a consignment sale (위·수탁), where the consignee may issue the card slip in its
# own name (NTS 서면3팀-2652, 2007-09-20) but a cash receipt on behalf of consignors only for its
# commission (NTS 사전-2018-법령해석법인-0796). [H/V, M/V] So a stall is one of two models:
# - "enterprise": each enterprise is its own seller (its own card terminal or the stall's, its own
#   cash receipts for its part of a sale);
# - "consignment": the stall's operator sells in its own name under consignment contracts and
#   issues the cash receipts (one per sale); the per-enterprise ledger proves the consignment.
SELLER_MODELS = ("enterprise", "consignment")


@dataclass(frozen=True)
class Rules:
    """The rules as this till applies them: the defaults above, changed by the `rules`
    setting (a JSON object of these fields; voucher rules by payment method code)."""

    mandatory_min: int = MANDATORY_MIN
    issue_days: int = ISSUE_DAYS
    cash_like_kinds: tuple[str, ...] = CASH_LIKE_KINDS
    vouchers: dict[str, VoucherRule] = field(default_factory=lambda: {
        "onnuri": ONNURI, "local_voucher": LOCAL})
    simplified_max: int = SIMPLIFIED_MAX
    simplified_invoice_min: int = SIMPLIFIED_INVOICE_MIN
    seller_model: str = "enterprise"

    def voucher_rule(self, method_code: str) -> VoucherRule:
        """A voucher's change rule; a voucher type without one follows the 온누리 rule."""
        return self.vouchers.get(method_code, ONNURI)

    def plain(self) -> dict:
        out = asdict(self)
        out["cash_like_kinds"] = list(self.cash_like_kinds)
        return out


_MONEY_MAX = 10**12


def _int(value, low: int, high: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DomainError("setting_invalid", name=f"rules.{name}")
    return value


def rules_from(stored) -> Rules:
    """The rules from the `rules` setting: each field checked, an unknown one refused
    (`DomainError('setting_invalid')`). None or {}: the defaults."""
    if stored is None:
        return Rules()
    if not isinstance(stored, dict):
        raise DomainError("setting_invalid", name="rules")
    names = {f.name for f in fields(Rules)}
    for key in stored:
        if key not in names:
            raise DomainError("setting_invalid", name=f"rules.{str(key)[:30]}")
    changes: dict = {}
    for key in ("mandatory_min", "simplified_max", "simplified_invoice_min"):
        if key in stored:
            changes[key] = _int(stored[key], 0, _MONEY_MAX, key)
    if "issue_days" in stored:
        changes["issue_days"] = _int(stored["issue_days"], 0, 365, "issue_days")
    if "cash_like_kinds" in stored:
        kinds = stored["cash_like_kinds"]
        allowed = ("cash", "transfer", "qr", "voucher", "token")
        if not isinstance(kinds, list) or not all(k in allowed for k in kinds):
            raise DomainError("setting_invalid", name="rules.cash_like_kinds")
        changes["cash_like_kinds"] = tuple(dict.fromkeys(kinds))
    if "seller_model" in stored:
        if stored["seller_model"] not in SELLER_MODELS:
            raise DomainError("setting_invalid", name="rules.seller_model")
        changes["seller_model"] = stored["seller_model"]
    if "vouchers" in stored:
        given = stored["vouchers"]
        if not isinstance(given, dict) or len(given) > 50:
            raise DomainError("setting_invalid", name="rules.vouchers")
        vouchers = dict(Rules().vouchers)
        for code, spec in given.items():
            if not isinstance(code, str) or not code.isidentifier() or len(code) > 32 \
                    or not isinstance(spec, dict) \
                    or set(spec) - {f.name for f in fields(VoucherRule)}:
                raise DomainError("setting_invalid", name="rules.vouchers")
            where = f"vouchers.{code}"
            change = spec.get("change", True)
            if not isinstance(change, bool):
                raise DomainError("setting_invalid", name=f"rules.{where}.change")
            vouchers[code] = VoucherRule(
                min_percent=_int(spec.get("min_percent", 60), 0, 100, f"{where}.min_percent"),
                small_face_max=_int(spec.get("small_face_max", 0), 0, _MONEY_MAX,
                                    f"{where}.small_face_max"),
                small_min_percent=_int(spec.get("small_min_percent", 80), 0, 100,
                                       f"{where}.small_min_percent"),
                change=change)
        changes["vouchers"] = vouchers
    return replace(Rules(), **changes)


# --- a cash receipt's identity ------------------------------------------------------------------

_SEPARATORS = re.compile(r"[ \-.]")  # as people write them: 010-1234-5678, 010 1234 5678
_MOBILE = re.compile(r"^01[016789]\d{7,8}$")


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a cash receipt is issued to: a mobile number, a business registration number (for
    지출증빙), a cash receipt card's number, or the NTS self-issue number (`self`)."""

    kind: str
    number: str  # digits only

    @property
    def default_purpose(self) -> str:
        return "proof" if self.kind == "bizno" else "deduction"

    def masked(self) -> str:
        """As shown on screen and paper: enough to recognise, not enough to use
        (`010-****-1234`, `123-**-*7890`, `9410-****-****-1234`); the self-issue number as
        it is."""
        n = self.number
        if self.kind == "self":
            return "010-000-1234"
        if self.kind == "phone":
            middle = n[3:-4]
            return f"{n[:3]}-{'*' * len(middle)}-{n[-4:]}"
        if self.kind == "bizno":
            return f"{n[:3]}-**-*{n[-4:]}"
        groups = [n[i:i + 4] for i in range(0, len(n), 4)]
        return "-".join(g if k in (0, len(groups) - 1) else "*" * len(g)
                        for k, g in enumerate(groups))

    def formatted(self) -> str:
        """In full, as typed into the issuing service (the export)."""
        n = self.number
        if self.kind in ("phone", "self"):
            return f"{n[:3]}-{n[3:-4]}-{n[-4:]}"
        if self.kind == "bizno":
            return f"{n[:3]}-{n[3:5]}-{n[5:]}"
        # a card's number in groups of four: a spreadsheet keeps it as text, not as a number
        # rounded past 15 digits
        return "-".join(n[i:i + 4] for i in range(0, len(n), 4))


SELF_ISSUE = Identity("self", SELF_ISSUE_NUMBER)


def parse_identity(text) -> Identity:
    """A number as the customer gives it (hyphens, spaces and dots allowed): a mobile number
    (01X, 10 or 11 digits), a business registration number (10 digits, check digit right), a
    cash receipt card's number (13 to 19 digits), or 010-000-1234 for a self-issue. Anything
    else raises `DomainError('cash_receipt_number_invalid')`."""
    if not isinstance(text, str) or len(text) > 40:
        raise DomainError("cash_receipt_number_invalid", value="".join(
            ch if ch.isprintable() else "\ufffd" for ch in str(text)[:40]))
    digits = _SEPARATORS.sub("", text.strip())
    shown = "".join(ch if ch.isprintable() else "\ufffd" for ch in text.strip()[:40])
    if not digits.isascii() or not digits.isdigit():
        raise DomainError("cash_receipt_number_invalid", value=shown)
    if digits == SELF_ISSUE_NUMBER:
        return SELF_ISSUE
    if digits.startswith("01"):
        if _MOBILE.match(digits) and not (digits.startswith("010") and len(digits) != 11):
            return Identity("phone", digits)
        raise DomainError("cash_receipt_number_invalid", value=shown)
    if len(digits) == 10:
        if bizno_valid(digits):
            return Identity("bizno", digits)
        raise DomainError("cash_receipt_number_invalid", value=shown)
    if 13 <= len(digits) <= 19:
        return Identity("card", digits)
    raise DomainError("cash_receipt_number_invalid", value=shown)


def identity_of(kind: str, number: str) -> Identity:
    """A stored identity back (no checks: it was checked when it was taken)."""
    return Identity(kind, number)
