"""Messages a vendor reads, in Korean and English. Korean is the default on a Korean system.

Every `DomainError`, `StoreError` and import problem carries a `code`; `tr(code, lang, **params)`
turns it into a sentence. The GUI's own texts live with the GUI; these are the core's.
"""

from __future__ import annotations

import locale
import os

from pos.money import format_won

MESSAGES: dict[str, tuple[str, str]] = {
    # store
    "already_running": ("장터가 이미 이 데이터 폴더({path})를 쓰고 있습니다 (프로세스 {pid}). "
                        "다른 창을 먼저 닫아 주세요.",
                        "Jangteo is already running on this data folder ({path}) (process {pid}). "
                        "Close the other window first."),
    "corrupt": ("데이터 파일이 손상되었습니다: {path} ({detail}). 판매 기록을 지키기 위해 "
                "시작하지 않습니다. backups 폴더의 최근 백업으로 복원하거나 지원팀에 파일을 보내 주세요.",
                "The data file is damaged: {path} ({detail}). Jangteo will not start, to protect "
                "the sales in it. Restore the newest copy from the backups folder or send the file "
                "to support."),
    "read_only": ("데이터 파일에 쓸 수 없습니다(읽기 전용). 방금 작업은 저장되지 않았고 지금 화면의 "
                  "내용은 그대로 있습니다. 폴더 권한이나 USB 메모리의 잠금을 확인해 주세요.",
                  "The data file cannot be written (read-only). The last action was not saved and "
                  "what is on screen is kept. Check the folder's permissions or the USB stick's "
                  "lock switch."),
    "disk_full": ("디스크가 가득 찼습니다. 방금 작업은 저장되지 않았습니다. 공간을 비운 뒤 다시 "
                  "시도해 주세요.",
                  "The disk is full. The last action was not saved. Free some space and try again."),
    "locked": ("데이터 파일을 다른 작업이 쓰고 있습니다. 잠시 뒤 다시 시도해 주세요.",
               "The data file is busy with another task. Try again in a moment."),
    "io_error": ("데이터 파일을 읽거나 쓰는 중 디스크 오류가 났습니다.",
                 "A disk error happened while reading or writing the data file."),
    "data_dir_unusable": ("데이터 폴더를 만들거나 열 수 없습니다: {path} ({detail})",
                          "The data folder cannot be created or opened: {path} ({detail})"),
    # printers
    "printer_url_invalid": ("프린터 주소가 올바르지 않습니다: {url} (예: tcp://192.168.0.50:9100, "
                            "usb://04b8:0e15, serial:///dev/ttyUSB0?baud=9600)",
                            "Invalid printer address: {url} (e.g. tcp://192.168.0.50:9100, "
                            "usb://04b8:0e15, serial:///dev/ttyUSB0?baud=9600)"),
    "printer_off": ("프린터가 꺼져 있거나 연결되지 않았습니다 ({target}). 전원과 케이블을 확인해 주세요. "
                    "판매는 계속할 수 있고 영수증은 대기열에 남습니다.",
                    "The printer is off or not connected ({target}). Check its power and cable. "
                    "Selling goes on; the receipt waits in the queue."),
    "printer_unreachable": ("네트워크 프린터에 닿지 않습니다 ({target}). 같은 와이파이/네트워크인지, "
                            "IP 주소가 맞는지 확인해 주세요.",
                            "The network printer cannot be reached ({target}). Check that it is on "
                            "the same network and that the IP address is right."),
    "printer_dropped": ("인쇄 도중 프린터 연결이 끊겼습니다 ({target}). 일부만 인쇄되었을 수 있어 "
                        "다시 인쇄하면 '사본'으로 표시됩니다.",
                        "The printer connection dropped while printing ({target}). Part of the "
                        "receipt may have printed; printing it again marks it as a copy."),
    "printer_stalled": ("프린터가 응답하지 않습니다 ({target}). 용지가 떨어졌거나 덮개가 열려 있는지 "
                        "확인해 주세요.",
                        "The printer stopped responding ({target}). Check for paper out or an "
                        "open cover."),
    "printer_not_found": ("프린터를 찾을 수 없습니다 ({target}). USB 케이블을 다시 꽂거나 설정에서 "
                          "프린터를 다시 골라 주세요.",
                          "The printer was not found ({target}). Re-plug the USB cable or pick the "
                          "printer again in Settings."),
    "usb_permission": ("프린터({target})에 접근할 권한이 없습니다. 리눅스에서는 사용자를 lp 그룹에 "
                       "넣거나(sudo usermod -aG lp $USER, 다시 로그인) udev 규칙을 추가해 주세요.",
                       "No permission to use the printer ({target}). On Linux add your user to "
                       "the lp group (sudo usermod -aG lp $USER, then log in again) or add a udev "
                       "rule for the printer."),
    "libusb_missing": ("USB 프린터를 쓰려면 libusb가 필요합니다. 윈도우에서는 Zadig로 WinUSB 드라이버를 "
                       "설치하거나, 프린터 대기열(win32://프린터 이름)을 쓰세요.",
                       "USB printing needs libusb. On Windows install the WinUSB driver with "
                       "Zadig, or use the printer queue (win32://Printer Name) instead."),
    "cups_missing": ("CUPS(lp 명령)가 없습니다. 프린터를 usb:// 또는 tcp:// 로 지정해 주세요.",
                     "CUPS (the lp command) is not installed. Use a usb:// or tcp:// printer."),
    "platform_unsupported": ("{scheme}:// 프린터는 이 운영체제에서 쓸 수 없습니다.",
                             "{scheme}:// printers are not available on this system."),
    "printer_error": ("프린터 오류 ({target}): {detail}", "Printer error ({target}): {detail}"),
    "render_failed": ("영수증을 그릴 수 없어 이 인쇄 작업을 건너뛰었습니다 ({detail}). 다음 영수증은 "
                      "그대로 인쇄됩니다.",
                      "This receipt could not be drawn, so its print job was skipped ({detail}). "
                      "The next receipts print as usual."),
    "drawer_too_late": ("프린터가 늦게 연결되어 돈통 열기를 취소했습니다 (판매 후 2분 지남).",
                        "The cash drawer kick was cancelled: the printer came back more than two "
                        "minutes after the sale."),
    "printer_not_set": ("프린터가 설정되지 않았습니다. 설정에서 프린터를 고르거나 --printer 로 "
                        "지정해 주세요.",
                        "No printer is set up. Choose one in Settings or pass --printer."),
    # catalog
    "name_empty": ("이름이 비어 있습니다.", "The name is empty."),
    "tax_status_invalid": ("과세 유형이 올바르지 않습니다: {value} (general, simplified, exempt)",
                           "Unknown tax status: {value} (general, simplified, exempt)"),
    "commission_invalid": ("수수료율은 0~100% 사이여야 합니다.",
                           "The commission rate must be between 0 and 100 %."),
    "bizno_invalid": ("사업자등록번호가 올바르지 않습니다: {value} (검증 숫자가 맞지 않음)",
                      "Invalid business registration number: {value} (check digit does not match)"),
    "enterprise_exists": ("같은 이름의 업체가 이미 있습니다: {name}",
                          "An enterprise with this name already exists: {name}"),
    "enterprise_unknown": ("등록되지 않은 업체입니다: {value}", "Unknown enterprise: {value}"),
    "product_unknown": ("등록되지 않은 상품입니다: {value}", "Unknown product: {value}"),
    "product_inactive": ("판매 중이 아닌 상품입니다: {name}", "This product is not on sale: {name}"),
    "sell_item_invalid": ("상품은 상품코드나 바코드, 수량은 1~9999로 적어 주세요 (예: --item "
                          "8801234567890:2): {value}",
                          "Give a product as its SKU or barcode and a quantity of 1–9999 (e.g. "
                          "--item 8801234567890:2): {value}"),
    "sell_pay_invalid": ("결제는 결제수단과 금액으로 적어 주세요 (예: --pay cash:10000, 마지막 "
                         "결제는 금액을 빼면 남은 금액): {value}",
                         "Give a payment as method and amount (e.g. --pay cash:10000; the last "
                         "one without an amount pays what is left): {value}"),
    "price_invalid": ("가격은 원 단위 정수여야 합니다: {value}",
                      "The price must be a whole number of won: {value}"),
    "price_negative": ("가격은 0원 이상이어야 합니다: {name}",
                       "The price must not be negative: {name}"),
    "tax_class_invalid": ("과세 구분이 올바르지 않습니다: {value} (과세/면세)",
                          "Unknown tax class: {value} (taxable/exempt)"),
    "stock_invalid": ("재고는 정수여야 합니다: {value}", "The stock must be a whole number: {value}"),
    "barcode_duplicate": ("바코드가 중복되었습니다: {value}", "Duplicate barcode: {value}"),
    "barcode_taken": ("다른 상품이 이미 쓰는 바코드입니다: {value}",
                      "This barcode belongs to another product: {value}"),
    "sku_taken": ("다른 상품이 이미 쓰는 상품코드입니다: {value}",
                  "This SKU belongs to another product: {value}"),
    # selling
    "cart_empty": ("장바구니가 비어 있습니다.", "The cart is empty."),
    "qty_invalid": ("수량은 1 이상이어야 합니다: {name}", "The quantity must be at least 1: {name}"),
    "line_discount_invalid": ("할인이 상품 금액보다 클 수 없습니다: {name}",
                              "The discount cannot exceed the line's amount: {name}"),
    "discount_invalid": ("할인 값이 올바르지 않습니다: {value}", "Invalid discount: {value}"),
    "discount_too_large": ("할인({discount:won})이 합계({subtotal:won})보다 큽니다.",
                           "The discount ({discount:won}) exceeds the subtotal ({subtotal:won})."),
    "payment_missing": ("결제 수단을 넣어 주세요 (합계 {total:won}).",
                        "Add a payment (total {total:won})."),
    "method_unknown": ("사용할 수 없는 결제 수단입니다: {method}",
                       "This payment method is not available: {method}"),
    "tender_invalid": ("결제 금액은 0원보다 커야 합니다 ({method}).",
                       "The payment amount must be more than zero ({method})."),
    "tender_after_paid": ("이미 다 결제되었습니다. 추가 결제({method})는 필요 없습니다.",
                          "The sale is already paid; no further payment ({method}) is needed."),
    "tender_excess_not_last": ("받을 금액보다 많은 결제({method})는 마지막에만 넣을 수 있습니다.",
                               "A payment larger than what is due ({method}) must come last."),
    "voucher_under_60": ("상품권은 액면가의 60% 이상 사용해야 거스름돈을 드릴 수 있습니다 "
                         "({used:won} / {face:won}).",
                         "Change for a voucher is given only when at least 60 % of its face value "
                         "is used ({used:won} of {face:won})."),
    "overpay_not_allowed": ("{method} 결제는 받을 금액({due:won})을 넘을 수 없습니다.",
                            "A {method} payment cannot exceed what is due ({due:won})."),
    "payment_short": ("{short:won}이 부족합니다 (합계 {total:won}).",
                      "{short:won} is still due (total {total:won})."),
    "approval_too_long": ("승인번호가 너무 깁니다.", "The approval number is too long."),
    "sale_unknown": ("찾을 수 없는 영수증입니다: {value}", "No such receipt: {value}"),
    "not_a_sale": ("판매 영수증만 취소·환불할 수 있습니다: {value}",
                   "Only a sale can be voided or refunded: {value}"),
    "void_after_refund": ("이미 일부 환불된 판매는 전체 취소할 수 없습니다. 남은 품목을 환불해 주세요: {value}",
                          "A sale that was partly refunded cannot be voided; refund the remaining "
                          "lines instead: {value}"),
    "already_returned": ("이미 전부 취소·환불된 판매입니다: {value}",
                         "This sale was already voided or fully refunded: {value}"),
    "void_unbalanced": ("취소 금액이 결제와 맞지 않습니다: {value}",
                        "The void does not match the payments: {value}"),
    "refund_line_unknown": ("영수증에 없는 품목 번호입니다: {line_no}",
                            "No line {line_no} on this receipt."),
    "refund_too_much": ("{name}: 환불 가능한 수량은 {remaining}개입니다 (요청 {qty}개).",
                        "{name}: only {remaining} can be refunded ({qty} asked)."),
    "refund_nothing": ("환불할 품목을 골라 주세요.", "Choose what to refund."),
    # sync
    "sync_not_enrolled": ("이 기기는 아직 주최측 서버에 등록되지 않았습니다. 설정에서 서버 주소와 등록 코드를 "
                          "넣어 주세요.", "This till is not enrolled with the organizer's server yet. "
                          "Enter the server address and enrollment code in Settings."),
    "logo_missing": ("로고 그림 파일을 찾을 수 없습니다: {path}", "The logo picture was not found: {path}"),
    "logo_not_image": ("로고는 PNG, JPG 또는 BMP 그림이어야 합니다: {path}",
                       "The logo must be a PNG, JPG or BMP picture: {path}"),
    "sync_offline": ("서버에 연결할 수 없습니다 ({detail}). 판매는 계속되고, 연결되면 자동으로 보냅니다.",
                     "The server cannot be reached ({detail}). Selling goes on; sales are sent "
                     "when it is back."),
    "sync_refused": ("서버가 이 기기를 거부했습니다: {detail}. 등록 코드를 다시 받아 주세요.",
                     "The server refused this till: {detail}. Ask for a new enrollment code."),
    "sync_local_store": ("이 기기의 데이터 파일 문제로 보내지 못했습니다: {detail}",
                         "Could not send because of this till's data file: {detail}"),
    "sync_fault": ("동기화 중 프로그램 오류가 났습니다 ({detail}). 판매 기록은 안전하며 로그에 "
                   "남겼습니다; 계속되면 지원팀에 logs/jangteo.log 파일을 보내 주세요.",
                   "A program fault stopped syncing ({detail}). The sales are safe and the fault "
                   "is in the log; if it goes on, send logs/jangteo.log to support."),
    "sync_rejected": ("서버가 요청을 거절했습니다: {detail}", "The server rejected the request: {detail}"),
    "sync_server_error": ("서버 오류({status}). 잠시 뒤 다시 보냅니다.",
                          "Server error ({status}). Sending again shortly."),
    "sync_garbage": ("서버의 응답을 이해할 수 없습니다. 아무것도 완료로 표시하지 않았습니다.",
                     "The server's answer could not be understood; nothing was marked as sent."),
    "sync_mismatch": ("서버에 이미 다른 내용으로 기록된 이벤트가 {count}건 있습니다 ({detail}). 주최측에 "
                      "알려 주세요.", "{count} events differ from what the server already has "
                      "({detail}). Tell the organizer."),
    # shifts
    "shift_already_open": ("이미 열린 교대가 있습니다. 먼저 마감해 주세요.",
                           "A shift is already open; close it first."),
    "shift_not_open": ("열린 교대가 없습니다. 먼저 교대를 열어 주세요 (시재 입력).",
                       "No shift is open. Open one first (enter the float)."),
    "shift_not_closed": ("교대 #{value}은 아직 마감되지 않았습니다. X 보고서를 쓰거나 먼저 마감해 주세요.",
                         "Shift #{value} is not closed yet; use the X report or close it first."),
    "shift_unknown": ("찾을 수 없는 교대입니다: {value}", "No such shift: {value}"),
    "count_invalid": ("현금 수량이 올바르지 않습니다: {detail}", "The cash count is not valid: {detail}"),
    "cash_kind_invalid": ("입금/출금 구분이 올바르지 않습니다: {value}", "Cash in or out? {value}"),
    "reason_required": ("사유를 적어 주세요 (예: 거스름돈 보충, 포장재 구입).",
                        "Give a reason (e.g. change top-up, buying supplies)."),
    # import
    "import_invalid": ("파일에 잘못된 행이 {count}개 있어 아무것도 가져오지 않았습니다.",
                       "The file has {count} invalid rows; nothing was imported."),
    "import_done": ("상품 {added}개 추가, {updated}개 수정.",
                    "{added} products added, {updated} updated."),
    "import_skipped": ("잘못된 행 {count}개를 건너뛰었습니다.", "{count} invalid rows were skipped."),
    "row_problem": ("{row}행 '{column}' 열: {reason}", "Row {row}, column '{column}': {reason}"),
    "col_missing": ("필수 열이 없습니다", "required column is missing"),
    "col_count": ("열 개수가 머리글과 다릅니다 ({found}개, 머리글 {expected}개)",
                  "the number of columns differs from the header ({found} instead of {expected})"),
    "value_empty": ("값이 비어 있습니다", "the value is empty"),
    "value_decimal": ("소수점이 있는 가격은 쓸 수 없습니다: {value}",
                      "a price cannot have decimals: {value}"),
    "value_negative": ("음수는 쓸 수 없습니다: {value}", "negative values are not allowed: {value}"),
    "value_not_number": ("숫자가 아닙니다: {value}", "not a number: {value}"),
    "value_tax": ("과세/면세 중 하나여야 합니다: {value}", "must be taxable or exempt: {value}"),
    "value_bool": ("예/아니오(1/0) 중 하나여야 합니다: {value}", "must be yes or no (1/0): {value}"),
    "value_unknown_enterprise": ("등록되지 않은 업체입니다: {value}", "unknown enterprise: {value}"),
    "value_duplicate_barcode": ("바코드 {value}가 {other}행과 겹칩니다",
                                "barcode {value} is also on row {other}"),
    "value_duplicate_sku": ("상품코드 {value}가 {other}행과 겹칩니다",
                            "SKU {value} is also on row {other}"),
    "value_barcode_taken": ("바코드 {value}는 다른 상품({other})이 쓰고 있습니다",
                            "barcode {value} belongs to another product ({other})"),
    "file_unreadable": ("파일을 읽을 수 없습니다: {detail}", "The file cannot be read: {detail}"),
    "file_too_large": ("파일이 너무 큽니다 ({size}MB, 최대 {limit}MB).",
                       "The file is too large ({size} MB, at most {limit} MB)."),
    "file_empty": ("파일에 머리글 행이 없습니다.", "The file has no header row."),
    "file_format": ("CSV 또는 XLSX 파일만 쓸 수 있습니다: {path}",
                    "Only CSV and XLSX files can be used: {path}"),
}


class _Value:
    """Lets messages say `{total:won}` and get the one money formatter's output."""

    def __init__(self, value, lang: str):
        self.value = value
        self.lang = lang

    def __format__(self, spec: str) -> str:
        if spec == "won":
            return format_won(int(self.value), self.lang)
        return format(self.value, spec)

    def __str__(self) -> str:
        return str(self.value)


def tr(code: str, lang: str = "ko", **params) -> str:
    """The sentence for `code` in `lang` ("ko" or "en"); an unknown code shows itself."""
    pair = MESSAGES.get(code)
    if pair is None:
        return f"{code} {params}" if params else code
    text = pair[0] if lang == "ko" else pair[1]
    try:
        return text.format(**{k: _Value(v, lang) for k, v in params.items()})
    except (KeyError, IndexError, ValueError):
        return text


def error_text(error: BaseException, lang: str = "ko") -> str:
    code = getattr(error, "code", None)
    if code:
        return tr(code, lang, **getattr(error, "params", {}))
    return str(error)


def detect_lang(explicit: str | None = None) -> str:
    """`--lang`, else `JANGTEO_LANG`, else Korean when the system locale is Korean, else English."""
    for value in (explicit, os.environ.get("JANGTEO_LANG")):
        if value in ("ko", "en"):
            return value
    candidates = [os.environ.get(v) for v in ("LC_ALL", "LC_MESSAGES", "LANG")]
    try:
        candidates.append(locale.getlocale()[0])
    except ValueError:
        pass
    for c in candidates:
        if c:
            return "ko" if c.lower().startswith("ko") else "en"
    return "en"
