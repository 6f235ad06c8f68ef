"""The organizer's console: web pages on the server the organizer already runs, rendered on the
server (Jinja2 templates in `templates/`, no JavaScript needed, no front-end build), in Korean
and English. Signing in (`accounts.py`), the organization's events and their stalls.

Every page is a thin view of the same service functions the API and the CLI call. A form
posts `application/x-www-form-urlencoded` with the session's form token (CSRF); a sign-in
form, before there is a session, carries a token of its own, also set as a cookie (double
submit). Wrong passwords are limited per address and per e-mail (`limits.FailureLimit`).
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from urllib.parse import parse_qs, quote

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from pos import bizno as numbers
from pos.i18n import tr
from pos.money import format_won
from sync.protocol import PLAIN
from sync.server import accounts, service
from sync.server.limits import FailureLimit

router = APIRouter(prefix="/console", include_in_schema=False)

SESSION_COOKIE = "jangteo_session"
FORM_COOKIE = "jangteo_form"  # the sign-in form's token, before there is a session
LANG_COOKIE = "jangteo_lang"
FORM_MAX = 64 * 1024  # a console form is a few fields

_templates = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                         autoescape=select_autoescape(["html"]), trim_blocks=True,
                         lstrip_blocks=True)


def words(key: str, lang: str, **params) -> str:
    """A console sentence, from the message catalogue (context "console")."""
    return tr(key, lang, context="console", **params)


def language(request: Request) -> str:
    """?lang=, else the language chosen before (cookie), else the browser's first of ko/en;
    Korean when the browser names neither."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in ("ko", "en"):
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in ("ko", "en"):
            return code
    return "ko"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or \
        request.headers.get("x-forwarded-proto", "").lower() == "https"


def _with_lang(request: Request, lang: str) -> str:
    """This page's query with `lang` set (a sign-in page keeps where it goes next)."""
    from urllib.parse import urlencode

    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return "?" + urlencode(query + [("lang", lang)])


def page(request: Request, template: str, *, status: int = 200, session=None, **context):
    lang = language(request)
    html = _templates.get_template(template).render(
        _=lambda key, **params: words(key, lang, **params), lang=lang, session=session,
        won=lambda amount: format_won(int(amount), lang), path=request.url.path,
        other_lang="en" if lang == "ko" else "ko",
        other_lang_query=_with_lang(request, "en" if lang == "ko" else "ko"), **context)
    response = HTMLResponse(html, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
        "script-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    response.headers["Referrer-Policy"] = "same-origin"
    if request.query_params.get("lang") in ("ko", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax",
                            httponly=True, secure=_secure(request))
    return response


async def form(request: Request) -> dict[str, str]:
    """The posted form's fields (the first value of each); an unreadable body is an empty form,
    which every handler refuses; one over 64 KB or 50 fields is 413."""
    body = await request.body()
    if len(body) > FORM_MAX:
        raise HTTPException(413, "form_too_large")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50,
                          strict_parsing=False)
    except ValueError:  # more than 50 fields
        raise HTTPException(413, "form_too_large") from None
    except UnicodeDecodeError:
        return {}
    return {k: v[0] for k, v in fields.items()}


# a console route is a plain function, which FastAPI runs in its thread pool: the password
# check (argon2, a quarter of a second) and the database never hold the server's event loop,
# where the tills' pushes are answered; only the form is read there, by this dependency
Form = Annotated[dict, Depends(form)]


def _engine(request: Request):
    return request.app.state.engine


def current(request: Request):
    """The signed-in session of this browser, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with _engine(request).begin() as conn:
        return accounts.session_for(conn, token)


def to_sign_in(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/console/sign-in?next={quote(target, safe='')}", status_code=303)


def _next(value: str | None) -> str:
    """Where to go after signing in: a console page of this server, never elsewhere."""
    if value and value.startswith("/console/") and not value.startswith("//") \
            and "\\" not in value and len(value) < 500:
        return value
    return "/console/events"


def refused(request: Request, session, key: str, status: int, **params) -> HTMLResponse:
    return page(request, "refused.html", status=status, session=session,
                message=words(key, language(request), **params))


# -- signing in --------------------------------------------------------------------------------

def _limits(request: Request) -> tuple[FailureLimit, FailureLimit, FailureLimit]:
    """Wrong sign-ins in 5 minutes: 10 for one e-mail from one address (a guessed password),
    100 for one e-mail from anywhere, 50 from one address (an office behind one router still
    signs in). No limit over everyone: wrong tries from many addresses would lock every
    person out. An e-mail's limit holds its own account only."""
    app = request.app
    if not hasattr(app.state, "sign_in_failures"):
        app.state.sign_in_failures = (
            FailureLimit(per_client=10, overall=10**12, window=300),
            FailureLimit(per_client=100, overall=10**12, window=300),
            FailureLimit(per_client=50, overall=10**12, window=300))
    return app.state.sign_in_failures


def _limit_key(email: str) -> str:
    try:
        return accounts.clean_email(email)
    except service.Refused:
        return email.strip().lower()[:254]


FONTS = {"NanumGothic.ttf", "NanumGothicBold.ttf"}  # the receipts' font, for Hangul


@router.api_route("/fonts/{name}", methods=["GET", "HEAD"])
def font(name: str):
    """The receipt printer's Korean font (printing/fonts, SIL OFL), for a browser on a machine
    without one (a bare kiosk, a server-side screenshot): pages name it after the system's
    Korean fonts, for Hangul only, so most browsers never fetch it."""
    from fastapi.responses import Response

    if name not in FONTS:
        return HTMLResponse("", status_code=404)
    return Response(_web_font(name), media_type="font/ttf",
                    headers={"Cache-Control": "public, max-age=604800"})


_FONTS: dict[str, bytes] = {}


def _web_font(name: str) -> bytes:
    """The font as a browser takes it: without the hinting tool's source tables (TSI0–TSI5),
    one of which is empty in this font and makes Chromium's font checker refuse it whole.
    Read from the file (the printing package is not loaded), made once per process."""
    if name not in _FONTS:
        import io

        from fontTools.ttLib import TTFont

        font = TTFont(Path(__file__).resolve().parents[2] / "printing" / "fonts" / name)
        for tag in [tag for tag in font.keys() if tag.startswith("TSI")]:
            del font[tag]
        out = io.BytesIO()
        font.save(out)
        _FONTS[name] = out.getvalue()
    return _FONTS[name]


@router.api_route("", methods=["GET", "HEAD"])
@router.api_route("/", methods=["GET", "HEAD"])
def home(request: Request):
    return RedirectResponse("/console/events" if current(request) else "/console/sign-in",
                            status_code=303)


@router.api_route("/sign-in", methods=["GET", "HEAD"])
def sign_in_page(request: Request, next: str | None = None):
    token = request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24)
    response = page(request, "sign_in.html", form_token=token, next=_next(next), email="")
    response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="strict",
                        secure=_secure(request), path="/console")
    return response


@router.post("/sign-in")
def sign_in(request: Request, fields: Form):
    lang = language(request)
    token = request.cookies.get(FORM_COOKIE)
    email = fields.get("email", "")[:254]
    target = _next(fields.get("next"))

    def again(key: str, status: int, **params):
        fresh = token or secrets.token_urlsafe(24)
        response = page(request, "sign_in.html", status=status, form_token=fresh, next=target,
                        email=email, error=words(key, lang, **params))
        response.set_cookie(FORM_COOKIE, fresh, httponly=True, samesite="strict",
                            secure=_secure(request), path="/console")
        return response

    if not token or not secrets.compare_digest(token.encode(),
                                               fields.get("form_token", "").encode()[:200]):
        return again("form_expired", 403)
    address = request.client.host if request.client else "?"
    who = _limit_key(email)
    checks = tuple(zip(_limits(request), (f"{who} {address}", who, address)))
    for limit, key in checks:
        wait = limit.wait(key)
        if wait is not None:
            response = again("sign_in_wait", 429, seconds=max(1, int(wait[0]) + 1))
            response.headers["Retry-After"] = str(max(1, int(wait[0]) + 1))
            return response
    with _engine(request).begin() as conn:
        user = accounts.authenticate(conn, email=email, password=fields.get("password", ""))
        if user is None:
            for limit, key in checks:
                limit.failed(key)
            return again("sign_in_wrong", 401)
        session_token, _csrf = accounts.start_session(conn, user)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, session_token, httponly=True, samesite="lax",
                        secure=_secure(request), path="/",
                        max_age=accounts.SESSION_MAX)
    response.delete_cookie(FORM_COOKIE, path="/console")
    return response


@router.post("/sign-out")
def sign_out(request: Request, fields: Form):
    # signing out ends the session on the server whatever the form says: a forged sign-out
    # can only sign someone out, and a cookie left valid after "sign out" would be worse
    with _engine(request).begin() as conn:
        accounts.end_session(conn, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/console/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- events ------------------------------------------------------------------------------------

def _own_event(conn, session, event_id: str) -> dict | None:
    """The event if it is the signed-in organization's, else None (another organization's
    event is as unknown as one that does not exist)."""
    try:
        found = service.find_event(conn, event_id)
    except service.Refused:
        return None
    if found.get("organization_id") != session.user.organization_id:
        return None
    return found


def _events(conn, session) -> list[dict]:
    """The organization's events with their net sales (an enterprise login: its own)."""
    events = service.list_events(conn, organization_id=session.user.organization_id)
    for ev in events:
        totals = _visible(session, service.totals(conn, event_id=ev["id"]))
        ev["net"] = totals["net"]
    return events


def _visible(session, totals: dict) -> dict:
    """The figures this person may see: an enterprise login only its own enterprise's."""
    if session.user.role != "enterprise":
        return totals
    mine = [r for r in totals["by_enterprise"] if r["enterprise"] == session.user.enterprise_name]
    return {**totals, "by_enterprise": mine, "net": sum(r["net"] for r in mine),
            "enterprises": len(mine), "by_device": [], "by_method": [], "by_day": []}


@router.api_route("/events", methods=["GET", "HEAD"])
def events_page(request: Request):
    session = current(request)
    if session is None:
        return to_sign_in(request)
    with _engine(request).begin() as conn:
        events = _events(conn, session)
    return page(request, "events.html", session=session, events=events, error=None)


@router.post("/events")
def create_event(request: Request, fields: Form):
    session, answer = _changing(request, fields)
    if answer is not None:
        return answer
    typed = " ".join(fields.get("name", "").split())[:200]
    name = clean_name(fields.get("name", ""))
    lang = language(request)
    error = None
    if name is None:
        error = words("event_name_invalid", lang)
    else:
        try:
            with _engine(request).begin() as conn:
                eid = service.create_event(conn, name=name,
                                           organization_id=session.user.organization_id)
            return RedirectResponse(f"/console/events/{eid}", status_code=303)
        except service.Refused as e:
            error = words("event_name_taken", lang, name=name) if e.status == 409 else e.reason
    with _engine(request).begin() as conn:
        events = _events(conn, session)
    return page(request, "events.html", status=422 if error else 200, session=session,
                events=events, error=error, typed=typed)


@router.api_route("/events/{event_id}", methods=["GET", "HEAD"])
def event_page(event_id: str, request: Request):
    session = current(request)
    if session is None:
        return to_sign_in(request)
    with _engine(request).begin() as conn:
        found = _own_event(conn, session, event_id)
        if found is None:
            return refused(request, session, "event_unknown", 404)
    return _event_view(request, session, found)


def _event_view(request: Request, session, found: dict, *, status: int = 200, **more):
    with _engine(request).begin() as conn:
        stalls = service.list_stalls(conn, event_id=found["id"])
        totals = _visible(session, service.totals(conn, event_id=found["id"]))
        enterprises = service.event_enterprises(conn, event_id=found["id"])
    if session.user.role == "enterprise":  # its own figures, not the event's stalls
        stalls, enterprises = [], []
    return page(request, "event.html", status=status, session=session, event=found,
                stalls=stalls, totals=totals, enterprises=enterprises,
                **{"error": None, "enterprise_error": None, **more})


@router.post("/events/{event_id}/stalls")
def create_stall(event_id: str, request: Request, fields: Form):
    session, answer = _changing(request, fields)
    if answer is not None:
        return answer
    typed = " ".join(fields.get("name", "").split())[:200]
    name = clean_name(fields.get("name", ""))
    lang = language(request)
    with _engine(request).begin() as conn:
        found = _own_event(conn, session, event_id)
        if found is None:
            return refused(request, session, "event_unknown", 404)
        if name is None:
            error = words("stall_name_invalid", lang)
        else:
            try:
                with conn.begin_nested():
                    service.create_stall(conn, event_id=found["id"], name=name)
                error = None
            except service.Refused:
                error = words("stall_name_taken", lang, name=name)
    if error is None:
        return RedirectResponse(f"/console/events/{found['id']}", status_code=303)
    return _event_view(request, session, found, status=422, error=error, typed=typed)


_PLAIN = re.compile(PLAIN)
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\u3164\u115f\u1160\uffa0]")


def clean_name(text: str) -> str | None:
    """A name as typed into a form: spaces collapsed; None when it cannot be one (empty,
    over 200 characters, a control or direction character, or nothing visible), since the
    API, the CLI and the tills refuse those too."""
    name = " ".join(text.split())
    if not name or len(name) > 200 or not _PLAIN.match(name) \
            or not _INVISIBLE.sub("", name).strip():
        return None
    return name


def _changing(request: Request, fields: dict):
    """The session of a form that may change something, else the answer refusing it."""
    session = current(request)
    if session is None:
        return None, to_sign_in(request)
    if not accounts.csrf_ok(session, fields.get("csrf")):
        return None, refused(request, session, "form_expired", 403)
    if not session.user.can_change:
        return None, refused(request, session, "read_only", 403)
    return session, None


def _percent_bp(text: str) -> int | None:
    """"10", "12.5", "12,5 %" as hundredths of a percent (1250); None when it is not 0–100."""
    from decimal import Decimal, InvalidOperation

    text = text.strip().rstrip("%").strip().replace(",", ".") or "0"
    if len(text) > 10:
        return None
    try:
        value = Decimal(text) * 100
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.to_integral_value() or not 0 <= value <= 10000:
        return None
    return int(value)


@router.post("/events/{event_id}/enterprises")
def add_enterprise(event_id: str, request: Request, fields: Form):
    session, answer = _changing(request, fields)
    if answer is not None:
        return answer
    lang = language(request)
    typed = " ".join(fields.get("name", "").split())[:200]
    name = clean_name(fields.get("name", ""))
    bizno = fields.get("bizno", "").strip() or None
    commission = _percent_bp(fields.get("commission", ""))
    with _engine(request).begin() as conn:
        found = _own_event(conn, session, event_id)
        if found is None:
            return refused(request, session, "event_unknown", 404)
        error = None
        if name is None:
            error = words("enterprise_name_invalid", lang)
        elif commission is None:
            error = words("commission_invalid", lang)
        elif bizno is not None and (len(bizno) > 20 or not numbers.is_valid(bizno)):
            error = words("bizno_invalid", lang, value=bizno[:20])
        else:
            try:
                with conn.begin_nested():
                    service.add_enterprise(conn, event_id=found["id"], name=name, bizno=bizno,
                                           commission_bp=commission)
            except service.Refused:
                error = words("enterprise_name_taken", lang, name=name)
    if error is None:
        return RedirectResponse(f"/console/events/{found['id']}#enterprises", status_code=303)
    return _event_view(request, session, found, status=422, enterprise_error=error,
                       typed_enterprise={"name": typed, "bizno": (bizno or "")[:20],
                                         "commission": fields.get("commission", "")[:10]})


# -- a stall: its tills, enrollment codes, revoking a till -------------------------------------

def _own_stall(conn, session, stall_id: str) -> tuple[dict, dict] | None:
    """The stall and its event if the event is the signed-in organization's."""
    try:
        stall = service.find_stall(conn, stall_id)
    except service.Refused:
        return None
    if stall["id"] != stall_id:
        return None
    event = _own_event(conn, session, stall["event_id"])
    return (stall, event) if event is not None else None


def _stall_view(request: Request, session, stall_id: str, *, status: int = 200, **more):
    with _engine(request).begin() as conn:
        found = _own_stall(conn, session, stall_id)
        if found is None or session.user.role == "enterprise":
            return refused(request, session, "stall_unknown", 404)
        stall, event = found
        (listed,) = [s for s in service.list_stalls(conn, event_id=event["id"])
                     if s["id"] == stall_id]
        codes = service.enrollment_codes(conn, stall_id=stall_id)
    from datetime import datetime, timezone

    for c in codes:
        c["expires"] = datetime.fromtimestamp(c["expires_at"], timezone.utc).astimezone() \
            .strftime("%Y-%m-%d %H:%M")
    return page(request, "stall.html", status=status, session=session, stall=listed,
                event=event, codes=codes, **{"error": None, "made": None, **more})


# -- the live board ------------------------------------------------------------------------------

SILENT_MINUTES = 15  # a till that has not pushed for this long is marked


def _ago(stamp: str | None, now) -> int | None:
    from datetime import datetime

    if not stamp:
        return None
    try:
        return max(0, int((now - datetime.fromisoformat(stamp)).total_seconds() // 60))
    except ValueError:
        return None


@router.api_route("/events/{event_id}/board", methods=["GET", "HEAD"])
def board_page(event_id: str, request: Request, part: str | None = None):
    """The market as it goes: every till's last push, alerts, sales by stall, enterprise, hour
    and method, drawn as bars. The page fetches its own board again every 15 seconds (a small
    script, `board.js`); without scripts it has a refresh link."""
    from datetime import datetime, timezone

    session = current(request)
    if session is None:
        return to_sign_in(request)
    with _engine(request).begin() as conn:
        found = _own_event(conn, session, event_id)
        if found is None or session.user.role == "enterprise":
            return refused(request, session, "event_unknown", 404)
        totals = service.totals(conn, event_id=found["id"])
        board = service.board(conn, event_id=found["id"])
    now = datetime.now(timezone.utc)
    for till in board["tills"]:
        till["ago"] = _ago(till["last_push_at"], now)
        till["silent"] = till["revoked_at"] is None and (
            till["ago"] is None or till["ago"] >= SILENT_MINUTES)
    from pos.domain import DEFAULT_METHODS

    lang = language(request)
    labels = {m.code: m.label(lang) for m in DEFAULT_METHODS}
    methods = [{**r, "label": labels.get(r["method"], r["method"])} for r in totals["by_method"]]
    for r in board["by_hour"]:
        r["label"] = f"{r['hour']:02d}:00"
    peak = {k: max([abs(r["net"]) for r in rows] + [1]) for k, rows in (
        ("stall", board["by_stall"]), ("enterprise", totals["by_enterprise"]),
        ("hour", board["by_hour"]), ("method", totals["by_method"]))}
    return page(request, "board_part.html" if part == "board" else "board.html",
                session=session, event=found, totals=totals, board=board, peak=peak,
                methods=methods,
                every_ms=int(1000 * getattr(request.app.state, "board_seconds", 15)),
                silent_minutes=SILENT_MINUTES,
                made_at=now.astimezone().strftime("%H:%M:%S"))


ALERTS_PAGE = 50


def _alerts_view(request: Request, session, found: dict, *, after: int, open_only: bool,
                 status: int = 200, error: str | None = None):
    with _engine(request).begin() as conn:
        rows = service.alerts(conn, event_id=found["id"], after=after, limit=ALERTS_PAGE + 1,
                              open_only=open_only)
    more = len(rows) > ALERTS_PAGE
    rows = rows[:ALERTS_PAGE]
    return page(request, "alerts.html", status=status, session=session, event=found,
                alerts=rows, after=after, open_only=open_only, error=error,
                next_after=rows[-1]["id"] if more else None, page_size=ALERTS_PAGE)


@router.api_route("/events/{event_id}/alerts", methods=["GET", "HEAD"])
def alerts_page(event_id: str, request: Request, after: int = 0, open: int = 0):
    """The event's alerts, oldest first, 50 a page, each with whether it was resolved."""
    session = current(request)
    if session is None:
        return to_sign_in(request)
    with _engine(request).begin() as conn:
        found = _own_event(conn, session, event_id)
    if found is None or session.user.role == "enterprise":
        return refused(request, session, "event_unknown", 404)
    return _alerts_view(request, session, found, after=max(0, min(after, 2**31 - 1)),
                        open_only=bool(open))


@router.post("/events/{event_id}/alerts/{alert_id}/resolve")
def resolve_alert(event_id: str, alert_id: int, request: Request, fields: Form):
    session, answer = _changing(request, fields)
    if answer is not None:
        return answer
    with _engine(request).begin() as conn:
        found = _own_event(conn, session, event_id)
        if found is None:
            return refused(request, session, "event_unknown", 404)
        try:
            service.resolve_alert(conn, event_id=found["id"], alert_id=alert_id,
                                  by=session.user.email)
        except service.Refused:
            return refused(request, session, "alert_unknown", 404)
    back = fields.get("back", "")
    target = back if back.startswith(f"/console/events/{found['id']}/alerts") and \
        "\\" not in back and len(back) < 300 else f"/console/events/{found['id']}/alerts"
    return RedirectResponse(target, status_code=303)


@router.api_route("/static/board.js", methods=["GET", "HEAD"])
def board_script():
    from fastapi.responses import Response

    return Response(_BOARD_JS, media_type="text/javascript",
                    headers={"Cache-Control": "public, max-age=3600"})


# swaps the board for a fresh one every 15 s; a failed fetch leaves what is there and says so
_BOARD_JS = """
(function () {
  var board = document.getElementById("board");
  if (!board || !window.fetch) { return; }
  var url = location.pathname + "?part=board";
  var every = parseInt(board.getAttribute("data-every"), 10) || 15000;
  function again() {
    fetch(url, {credentials: "same-origin", cache: "no-store"}).then(function (r) {
      if (r.redirected || !r.ok) { throw new Error(String(r.status)); }
      return r.text();
    }).then(function (html) {
      board.innerHTML = html;
      board.removeAttribute("data-stale");
    }).catch(function () { board.setAttribute("data-stale", "1"); });
  }
  setInterval(again, every);
})();
"""


@router.api_route("/stalls/{stall_id}", methods=["GET", "HEAD"])
def stall_page(stall_id: str, request: Request):
    session = current(request)
    if session is None:
        return to_sign_in(request)
    return _stall_view(request, session, stall_id)


def _qr_svg(text: str) -> str:
    """A QR code of `text` as inline SVG (the page needs no image file or script)."""
    import io

    import qrcode
    import qrcode.image.svg

    out = io.BytesIO()
    qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=12,
                border=2).save(out)
    svg = out.getvalue().decode("utf-8")
    return svg[svg.index("<svg"):]


@router.post("/stalls/{stall_id}/codes")
def new_code(stall_id: str, request: Request, fields: Form):
    session, answer = _changing(request, fields)
    if answer is not None:
        return answer
    lang = language(request)
    try:
        hours = float(fields.get("hours", "72").strip() or "72")
    except ValueError:
        hours = -1
    till = fields.get("till", "").strip().upper() or None
    if not 1 <= hours <= 24 * 30:
        return _stall_view(request, session, stall_id, status=422,
                           error=words("code_hours_invalid", lang))
    with _engine(request).begin() as conn:
        found = _own_stall(conn, session, stall_id)
        if found is None:
            return refused(request, session, "stall_unknown", 404)
        try:
            with conn.begin_nested():
                code = service.device_code(conn, stall_id=stall_id, valid_hours=hours, till=till)
        except service.Refused as e:
            key = "till_code_taken" if e.status == 409 else "till_code_invalid"
            return _stall_view(request, session, stall_id, status=422,
                               error=words(key, lang, code=(till or "")[:8]))
    # shown this once: the server keeps only its hash
    return _stall_view(request, session, stall_id, made={
        "code": code, "hours": hours, "till": till, "qr": _qr_svg(code)})


@router.post("/stalls/{stall_id}/devices/{device_id}/revoke")
def revoke(stall_id: str, device_id: str, request: Request, fields: Form):
    session, answer = _changing(request, fields)
    if answer is not None:
        return answer
    with _engine(request).begin() as conn:
        found = _own_stall(conn, session, stall_id)
        if found is None:
            return refused(request, session, "stall_unknown", 404)
        try:
            service.revoke_device(conn, stall_id=stall_id, ref=device_id)
        except service.Refused:
            return refused(request, session, "till_unknown", 404)
    return RedirectResponse(f"/console/stalls/{stall_id}", status_code=303)


def is_console(path: str) -> bool:
    return path == "/console" or path.startswith("/console/")
