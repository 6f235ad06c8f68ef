"""The GUI's words in Korean and English. `t(key, **params)` in the language chosen at start.

Core messages (errors from `pos`) come from `pos.i18n`; money always goes through
`pos.money.format_won` (`won()` here).
"""

from __future__ import annotations

from pos.i18n import error_text
from pos.money import format_won

_lang = "ko"

TEXTS: dict[str, tuple[str, str]] = {
    "app_title": ("장터", "Jangteo"),
    # navigation
    "nav_sell": ("판매", "Sell"),
    "nav_history": ("판매 내역", "Sales history"),
    "nav_shift": ("교대·정산", "Shift"),
    "nav_catalog": ("상품·업체", "Catalog"),
    "nav_settings": ("설정", "Settings"),
    # status bar
    "status_shift_none": ("교대: 열리지 않음", "Shift: not open"),
    "status_shift_open": ("교대 #{number} · 예상 현금 {cash}", "Shift #{number} · cash {cash}"),
    "status_receipts": ("오늘 영수증 {count}건 · 다음 {next}", "Today {count} receipts · next {next}"),
    "status_printer_none": ("프린터: 설정 안 됨", "Printer: not set up"),
    "status_printer_ready": ("프린터: 준비됨", "Printer: ready"),
    "status_printer_sending": ("프린터: 인쇄 중…", "Printer: printing…"),
    "status_printer_waiting": ("프린터: 대기 {count}건", "Printer: {count} waiting"),
    "status_printer_problem": ("프린터: 확인 필요 {count}건 (설정)", "Printer: {count} need attention (Settings)"),
    "status_sync_none": ("동기화: 설정 안 됨", "Sync: not set up"),
    # sell
    "search_placeholder": ("상품명, 초성(ㅅㅈㅂ), 바코드로 찾기", "Find by name, initials or barcode"),
    "all_categories": ("모든 분류", "All categories"),
    "all_enterprises": ("모든 업체", "All enterprises"),
    "cart_name": ("상품", "Item"),
    "cart_qty": ("수량", "Qty"),
    "cart_price": ("단가", "Price"),
    "cart_discount": ("할인", "Discount"),
    "cart_amount": ("금액", "Amount"),
    "btn_minus": ("−", "−"),
    "btn_plus": ("+", "+"),
    "btn_set_qty": ("수량", "Qty"),
    "btn_line_discount": ("품목 할인", "Line disc."),
    "btn_remove": ("삭제", "Remove"),
    "btn_receipt_discount": ("전체 할인", "Receipt disc."),
    "btn_park": ("보류", "Park"),
    "btn_resume": ("보류 불러오기 ({count})", "Resume ({count})"),
    "btn_clear": ("비우기", "Clear"),
    "btn_pay": ("결제  {total}", "Pay  {total}"),
    "total": ("합계", "Total"),
    "vat_line": ("과세 {taxable} · 부가세 {vat} · 면세 {exempt}",
                 "Taxable {taxable} · VAT {vat} · Exempt {exempt}"),
    "discount_line": ("할인 {amount}", "Discount {amount}"),
    "unknown_barcode": ("등록되지 않은 바코드입니다: {code}. 장바구니는 그대로입니다.",
                        "Unknown barcode: {code}. The cart is unchanged."),
    "added": ("추가: {name}", "Added: {name}"),
    "last_sale": ("{receipt} 결제 완료 · 거스름돈 {change}", "{receipt} paid · change {change}"),
    "last_sale_no_change": ("{receipt} 결제 완료", "{receipt} paid"),
    "ask_qty": ("수량", "Quantity"),
    "ask_qty_for": ("{name}의 수량", "Quantity of {name}"),
    "ask_line_discount": ("{name} 할인 금액 (원)", "Discount on {name} (won)"),
    "ask_receipt_discount": ("전체 할인: 금액(원) 또는 %(예: 10%)",
                             "Receipt discount: won, or percent (e.g. 10%)"),
    "bad_number": ("숫자를 다시 확인해 주세요: {value}", "Please check the number: {value}"),
    "park_label": ("{time} · {count}개 · {total}", "{time} · {count} items · {total}"),
    "choose_parked": ("불러올 보류 장바구니", "Cart to resume"),
    "cart_busy_park_first": ("지금 장바구니를 보류한 뒤 불러옵니다.",
                             "The current cart is parked before the other one is resumed."),
    "no_results": ("찾는 상품이 없습니다", "No product found"),
    # pay
    "pay_title": ("결제", "Payment"),
    "pay_due": ("받을 금액", "Due"),
    "pay_remaining": ("남은 금액", "Remaining"),
    "pay_change": ("거스름돈", "Change"),
    "pay_tendered": ("받은 돈", "Tendered"),
    "pay_amount": ("금액", "Amount"),
    "pay_approval": ("카드 승인번호 (선택)", "Card approval no. (optional)"),
    "pay_exact": ("딱 맞게", "Exact"),
    "pay_confirm": ("결제 완료 (Enter)", "Confirm (Enter)"),
    "pay_cancel": ("취소 (Esc)", "Cancel (Esc)"),
    "pay_remove": ("결제 줄 삭제", "Remove payment"),
    "pay_receipt": ("영수증 출력 (Ctrl+R)", "Print receipt (Ctrl+R)"),
    "pay_cash_quick": ("현금 {amount}", "Cash {amount}"),
    # history
    "history_search": ("영수증 번호 (바코드 스캔 가능)", "Receipt number (or scan it)"),
    "col_receipt": ("영수증", "Receipt"),
    "col_time": ("시각", "Time"),
    "col_kind": ("구분", "Kind"),
    "col_total": ("합계", "Total"),
    "col_payments": ("결제", "Payments"),
    "col_note": ("비고", "Note"),
    "kind_sale": ("판매", "Sale"),
    "kind_void": ("취소", "Void"),
    "kind_refund": ("환불", "Refund"),
    "btn_void": ("전체 취소", "Void"),
    "btn_refund": ("환불…", "Refund…"),
    "btn_reprint": ("재출력", "Reprint"),
    "btn_today": ("오늘", "Today"),
    "refunded_by": ("환불·취소: {receipts}", "Returned by: {receipts}"),
    "original": ("원 영수증 {receipt}", "Original {receipt}"),
    "confirm_void": ("{receipt} 판매 전체({total})를 취소할까요? 결제는 원래 수단으로 돌려줍니다.",
                     "Void the whole sale {receipt} ({total})? Payments go back by their own methods."),
    "refund_title": ("환불 — {receipt}", "Refund — {receipt}"),
    "refund_left": ("남은 수량", "Left"),
    "refund_qty": ("환불 수량", "Refund qty"),
    "refund_method": ("환불 수단", "Refund by"),
    "refund_total": ("환불 금액 {amount}", "Refund {amount}"),
    "refund_reason": ("사유 (선택)", "Reason (optional)"),
    "done_void": ("{receipt} 취소 완료 ({total})", "{receipt} voided ({total})"),
    "done_refund": ("{receipt} 환불 완료 ({total})", "{receipt} refunded ({total})"),
    "not_found_receipt": ("영수증을 찾을 수 없습니다: {value}", "No such receipt: {value}"),
    "reprint_no_printer": ("프린터가 설정되지 않았습니다. 설정 화면에서 프린터를 고르면 재출력할 수 있습니다. "
                           "미리보기는 지금도 볼 수 있습니다.",
                           "No printer is set up. Choose one in Settings to reprint; the preview "
                           "works already."),
    # catalog
    "tab_products": ("상품", "Products"),
    "tab_enterprises": ("업체", "Enterprises"),
    "btn_add": ("추가", "Add"),
    "btn_edit": ("수정", "Edit"),
    "btn_deactivate": ("판매 중지/재개", "Deactivate / activate"),
    "btn_import": ("가져오기 (CSV·XLSX)", "Import (CSV, XLSX)"),
    "btn_export": ("내보내기", "Export"),
    "col_name": ("이름", "Name"),
    "col_price": ("가격", "Price"),
    "col_enterprise": ("업체", "Enterprise"),
    "col_category": ("분류", "Category"),
    "col_tax": ("과세", "Tax"),
    "col_barcodes": ("바코드", "Barcodes"),
    "col_stock": ("재고", "Stock"),
    "col_active": ("판매", "On sale"),
    "col_bizno": ("사업자등록번호", "Registration no."),
    "col_representative": ("대표자", "Representative"),
    "col_address": ("주소", "Address"),
    "col_phone": ("전화", "Phone"),
    "col_tax_status": ("과세 유형", "Tax status"),
    "col_commission": ("수수료 %", "Commission %"),
    "col_sku": ("상품코드", "SKU"),
    "tax_taxable": ("과세", "taxable"),
    "tax_exempt": ("면세", "exempt"),
    "status_general": ("일반과세자", "General taxpayer"),
    "status_simplified": ("간이과세자", "Simplified taxpayer"),
    "status_exempt": ("면세사업자", "Tax-exempt"),
    "yes": ("예", "yes"),
    "no": ("아니오", "no"),
    "product_dialog": ("상품", "Product"),
    "enterprise_dialog": ("업체", "Enterprise"),
    "barcodes_hint": ("여러 개는 | 로 구분", "separate several with |"),
    "stock_hint": ("비우면 재고를 세지 않음", "empty: stock not tracked"),
    "import_result": ("가져오기 결과", "Import result"),
    "exported": ("{count}개를 저장했습니다: {path}", "Saved {count} items: {path}"),
    "import_skip_ask": ("잘못된 행을 건너뛰고 나머지를 가져올까요?",
                        "Import the valid rows and skip the invalid ones?"),
    # settings
    "store_identity": ("매장 정보 (영수증 머리글)", "Store identity (receipt header)"),
    "store_name": ("상호", "Trade name"),
    "payment_methods": ("결제 수단", "Payment methods"),
    "col_method": ("수단", "Method"),
    "col_change_policy": ("거스름돈", "Change"),
    "policy_none": ("안 줌", "none"),
    "policy_cash": ("현금으로 줌", "in cash"),
    "policy_cash_over_60": ("60% 이상 사용 시 현금", "cash if ≥ 60 % used"),
    "language": ("언어", "Language"),
    "language_restart": ("언어는 다시 시작하면 바뀝니다.", "The language changes at the next start."),
    "receipt_options": ("영수증", "Receipts"),
    "receipt_mode": ("결제 후 영수증", "Receipt after payment"),
    "receipt_always": ("항상 출력", "always"),
    "receipt_ask": ("물어보기", "ask"),
    "receipt_never": ("출력 안 함", "never"),
    "receipt_footer": ("영수증 아래 문구", "Receipt footer"),
    "btn_save": ("저장", "Save"),
    "btn_close": ("닫기", "Close"),
    "btn_preview": ("미리보기", "Preview"),
    "printer_group": ("영수증 프린터", "Receipt printer"),
    "printer_url": ("프린터 주소", "Printer address"),
    "printer_url_hint": ("tcp://192.168.0.50:9100 · usb://04b8:0e15 · serial:///dev/ttyUSB0?baud=9600 · "
                         "win32://프린터 이름", "tcp://192.168.0.50:9100 · usb://04b8:0e15 · "
                         "serial:///dev/ttyUSB0?baud=9600 · win32://Printer Name"),
    "printer_profile": ("프린터 종류", "Printer model"),
    "printer_tune": ("폭·글자 수·방식", "Width, columns, mode"),
    "renderer_raster": ("그림 인쇄 (모든 프린터)", "raster image (every printer)"),
    "renderer_text": ("한글 글꼴 내장 (빠름)", "built-in Korean font (fast)"),
    "receipt_qr": ("QR 코드 (온라인 스토어 등)", "QR code (e.g. online store)"),
    "receipt_logo": ("로고 그림", "Logo image"),
    "receipt_group": ("업체별로 묶어 인쇄 (공동판매장)", "Group lines by enterprise (joint stall)"),
    "printer_drawer": ("현금 결제 때 돈통 열기", "Open the cash drawer on cash payments"),
    "printer_find_usb": ("USB 프린터 찾기", "Find USB printers"),
    "printer_none_found": ("USB 프린터를 찾지 못했습니다. 케이블과 전원을 확인하거나, 윈도우에서는 "
                           "win32://프린터 이름 을 쓰세요.",
                           "No USB printer found. Check cable and power, or on Windows use "
                           "win32://Printer Name."),
    "printer_test": ("시험 인쇄", "Test print"),
    "printer_jobs": ("최근 인쇄 작업", "Recent print jobs"),
    "col_job": ("작업", "Job"),
    "col_status": ("상태", "Status"),
    "col_error": ("문제", "Problem"),
    "btn_retry": ("다시 인쇄", "Retry"),
    "btn_drop": ("버리기", "Drop"),
    "job_queued": ("대기", "waiting"),
    "job_sending": ("인쇄 중", "printing"),
    "job_done": ("완료", "printed"),
    "job_retry": ("재시도 대기", "retrying"),
    "job_failed": ("실패", "failed"),
    "job_interrupted": ("중간에 끊김", "cut off"),
    "job_dropped": ("버림", "dropped"),
    "job_replaced": ("사본으로 다시 인쇄", "reprinted as copy"),
    "printer_queued": ("인쇄 대기열에 넣었습니다.", "Sent to the print queue."),
    "saved": ("저장했습니다.", "Saved."),
    # shift
    "shift_open": ("교대 열기", "Open shift"),
    "shift_cash_in": ("입금", "Cash in"),
    "shift_cash_out": ("출금", "Cash out"),
    "shift_close": ("마감…", "Close…"),
    "shift_print": ("보고서 인쇄", "Print report"),
    "shift_pdf": ("보고서 PDF 저장", "Save report PDF"),
    "shift_settlement": ("업체별 정산서 저장", "Save settlement"),
    "shift_no": ("교대", "Shift"),
    "shift_opened": ("개시", "Opened"),
    "shift_closed": ("마감", "Closed"),
    "shift_net": ("순매출", "Net sales"),
    "shift_difference": ("차액", "Difference"),
    "shift_state_open": ("교대 #{number} 영업 중 · 개시 {opened} · 준비금 {float}",
                         "Shift #{number} open · since {opened} · float {float}"),
    "shift_state_none": ("열린 교대가 없습니다. 준비금을 세어 넣고 '교대 열기'를 누르세요.",
                         "No shift is open. Count the float and press Open shift."),
    "shift_float_title": ("준비금 (권종별)", "Float (by denomination)"),
    "shift_count_title": ("마감 현금 세기 (권종별)", "Cash count (by denomination)"),
    "shift_expected": ("예상 현금 {amount}", "Expected cash {amount}"),
    "shift_diff": ("차액 {amount}", "Difference {amount}"),
    "shift_x_title": ("X 중간 보고서 · 교대 #{number}", "X report · shift #{number}"),
    "shift_z_title": ("Z 마감 보고서 · 교대 #{number}", "Z report · shift #{number}"),
    "shift_cash_in_amount": ("넣은 금액 (원)", "Amount put in (won)"),
    "shift_cash_out_amount": ("꺼낸 금액 (원)", "Amount taken out (won)"),
    "shift_cash_reason": ("사유 (예: 거스름돈 보충, 포장재 구입)", "Reason (e.g. change top-up, supplies)"),
    "shift_cash_done": ("{amount}을 기록했습니다.", "Recorded {amount}."),
    "shift_parked_carts": ("보류 중인 장바구니가 {count}개 있습니다. 그래도 마감할까요?",
                           "{count} parked carts are waiting. Close anyway?"),
    "shift_close_confirm": ("센 현금 {counted}, 차액 {diff}. 교대를 마감할까요?",
                            "Counted {counted}, difference {diff}. Close the shift?"),
    "shift_closed_msg": ("교대 #{number}을 마감했습니다. 차액 {diff}. 백업도 저장했습니다.",
                         "Shift #{number} closed, difference {diff}. A backup was saved."),
    "shift_open_first": ("열린 교대가 없습니다. 지금 교대를 열까요?\n(아니오: 교대 없이 이 판매를 계속합니다)",
                         "No shift is open. Open one now?\n(No: go on with this sale without a shift)"),
    "saved_to": ("저장했습니다: {path}", "Saved: {path}"),
    # first start, close, errors
    "first_start_title": ("장터에 오신 것을 환영합니다", "Welcome to Jangteo"),
    "first_start_text": ("이 데이터 폴더는 비어 있습니다. 데모 공동판매장(업체 6곳, 상품 40개)을 불러올까요, "
                         "아니면 빈 상태로 시작할까요?\n{path}",
                         "This data folder is empty. Load the demo joint stall (6 enterprises, "
                         "40 products) or start empty?\n{path}"),
    "first_start_demo": ("데모 불러오기", "Load the demo"),
    "first_start_empty": ("빈 상태로 시작", "Start empty"),
    "close_with_cart": ("장바구니에 상품이 남아 있습니다. 그래도 닫을까요?",
                        "The cart is not empty. Close anyway?"),
    "error_title": ("문제가 생겼습니다", "Something went wrong"),
    "error_unexpected": ("예상하지 못한 오류가 났습니다. 장바구니와 판매 기록은 그대로입니다. "
                         "자세한 내용은 기록 파일에 남겼습니다:\n{log}\n\n{detail}",
                         "An unexpected error happened. The cart and the recorded sales are kept. "
                         "Details were written to:\n{log}\n\n{detail}"),
    "cannot_start": ("장터를 시작할 수 없습니다", "Jangteo cannot start"),
    "help_title": ("단축키 (F1)", "Shortcuts (F1)"),
    "help_close": ("닫기: Esc 또는 F1", "Close: Esc or F1"),
}

SHORTCUTS: list[tuple[str, str, str]] = [
    # (keys, ko, en)
    ("F1", "단축키 보기", "Show shortcuts"),
    ("F2 · F3 · F4 · F5 · F6", "판매 · 판매 내역 · 교대 · 상품 · 설정 화면",
     "Sell · History · Shift · Catalog · Settings"),
    ("바코드 스캔 / barcode scan", "어디서든 상품을 장바구니에 (내역 화면에서는 영수증 찾기)",
     "adds the product anywhere (finds the receipt on History)"),
    ("Enter", "검색어가 있으면 첫 상품 추가, 없으면 결제", "adds the first result, or pays"),
    ("Ctrl+Enter · F12", "결제", "Pay"),
    ("Esc", "검색어 지우기", "Clear the search"),
    ("Ctrl+F", "검색창으로", "Focus the search box"),
    ("Ctrl+↑ · Ctrl+↓", "장바구니 줄 선택", "Select a cart line"),
    ("Ctrl+= · Ctrl+−", "선택한 줄 수량 +1 · −1", "Selected line +1 · −1"),
    ("Ctrl+Q", "선택한 줄 수량 입력", "Type the selected line's quantity"),
    ("Ctrl+L", "선택한 줄 할인", "Discount on the selected line"),
    ("Ctrl+D", "전체 할인", "Receipt discount"),
    ("Ctrl+Del", "선택한 줄 삭제", "Remove the selected line"),
    ("F8 · F9", "장바구니 보류 · 보류 불러오기", "Park the cart · resume a parked cart"),
    ("결제 창 / Pay: Enter", "받은 돈이 없으면 딱 맞게 현금, 다 받았으면 완료",
     "exact cash when nothing is tendered, else confirm"),
    ("결제 창 / Pay: 숫자, Ctrl+1…7", "금액을 입력하고 결제 수단 번호", "type an amount, then a method's number"),
    ("결제 창 / Pay: Ctrl+R", "영수증 출력 켜기·끄기", "toggle the receipt"),
    ("결제 창 / Pay: Esc", "결제 취소 (장바구니는 그대로)", "cancel (the cart is kept)"),
]


def set_language(lang: str) -> None:
    global _lang
    _lang = "en" if lang == "en" else "ko"


def language() -> str:
    return _lang


def t(key: str, **params) -> str:
    ko, en = TEXTS[key]
    text = ko if _lang == "ko" else en
    return text.format(**params) if params else text


def won(amount: int) -> str:
    return format_won(amount, _lang)


def explain(error: BaseException) -> str:
    """A core error as a sentence in the GUI's language."""
    return error_text(error, _lang)
