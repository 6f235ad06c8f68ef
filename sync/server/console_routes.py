"""The organizer's console: web pages on the server the organizer already runs, rendered on the
server (Jinja2 templates in `templates/`, no JavaScript needed, no front-end build), in Korean
and English. Signing in (`accounts.py`), the organization's events and their stalls.

Every page is a thin view of the same service functions the API and the CLI call. A form
posts `application/x-www-form-urlencoded` with the session's form token (CSRF); a sign-in
form, before there is a session, carries a token of its own, also set as a cookie (double
submit). Wrong passwords are limited per address and per e-mail (`limits.FailureLimit`).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from pos.i18n import tr
from pos.money import format_won
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


def page(request: Request, template: str, *, status: int = 200, session=None, **context):
    lang = language(request)
    html = _templates.get_template(template).render(
        _=lambda key, **params: words(key, lang, **params), lang=lang, session=session,
        won=lambda amount: format_won(int(amount), lang), path=request.url.path,
        other_lang="en" if lang == "ko" else "ko", **context)
    response = HTMLResponse(html, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    response.headers["Referrer-Policy"] = "same-origin"
    if request.query_params.get("lang") in ("ko", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax",
                            httponly=True, secure=_secure(request))
    return response


async def form(request: Request) -> dict[str, str]:
    """The posted form's fields (the first value of each); an oversized or unreadable body is
    an empty form, which every handler refuses."""
    body = await request.body()
    if len(body) > FORM_MAX:
        return {}
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[0] for k, v in fields.items()}


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

def _limits(request: Request) -> tuple[FailureLimit, FailureLimit]:
    """Wrong sign-ins in 5 minutes: 10 for one e-mail (a guessed password), 50 from one
    address (an office behind one router still signs in), 500 in all."""
    app = request.app
    if not hasattr(app.state, "sign_in_failures"):
        app.state.sign_in_failures = (
            FailureLimit(per_client=10, overall=10**9, window=300),
            FailureLimit(per_client=50, overall=500, window=300))
    return app.state.sign_in_failures


FONTS = {"NanumGothic.ttf", "NanumGothicBold.ttf"}  # the receipts' font, for Hangul


@router.get("/fonts/{name}")
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


@router.get("")
@router.get("/")
def home(request: Request):
    return RedirectResponse("/console/events" if current(request) else "/console/sign-in",
                            status_code=303)


@router.get("/sign-in")
def sign_in_page(request: Request, next: str | None = None):
    token = request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24)
    response = page(request, "sign_in.html", form_token=token, next=_next(next), email="")
    response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="strict",
                        secure=_secure(request), path="/console")
    return response


@router.post("/sign-in")
async def sign_in(request: Request):
    fields = await form(request)
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
    checks = tuple(zip(_limits(request), (email.strip().lower(), address)))
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
async def sign_out(request: Request):
    fields = await form(request)
    session = current(request)
    if session is not None and accounts.csrf_ok(session, fields.get("csrf")):
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


@router.get("/events")
def events_page(request: Request):
    session = current(request)
    if session is None:
        return to_sign_in(request)
    with _engine(request).begin() as conn:
        events = _events(conn, session)
    return page(request, "events.html", session=session, events=events, error=None)


@router.post("/events")
async def create_event(request: Request):
    fields = await form(request)
    session = current(request)
    if session is None:
        return to_sign_in(request)
    if not accounts.csrf_ok(session, fields.get("csrf")):
        return refused(request, session, "form_expired", 403)
    if not session.user.can_change:
        return refused(request, session, "read_only", 403)
    name = " ".join(fields.get("name", "").split())
    lang = language(request)
    error = None
    if not name or len(name) > 200:
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
                events=events, error=error, typed=name)


@router.get("/events/{event_id}")
def event_page(event_id: str, request: Request):
    session = current(request)
    if session is None:
        return to_sign_in(request)
    with _engine(request).begin() as conn:
        found = _own_event(conn, session, event_id)
        if found is None:
            return refused(request, session, "event_unknown", 404)
        stalls = service.list_stalls(conn, event_id=found["id"])
        totals = service.totals(conn, event_id=found["id"])
    totals = _visible(session, totals)
    if session.user.role == "enterprise":  # its own figures, not the event's stalls
        stalls = []
    return page(request, "event.html", session=session, event=found, stalls=stalls,
                totals=totals, error=None)


@router.post("/events/{event_id}/stalls")
async def create_stall(event_id: str, request: Request):
    fields = await form(request)
    session = current(request)
    if session is None:
        return to_sign_in(request)
    if not accounts.csrf_ok(session, fields.get("csrf")):
        return refused(request, session, "form_expired", 403)
    if not session.user.can_change:
        return refused(request, session, "read_only", 403)
    name = " ".join(fields.get("name", "").split())
    lang = language(request)
    with _engine(request).begin() as conn:
        found = _own_event(conn, session, event_id)
        if found is None:
            return refused(request, session, "event_unknown", 404)
        if not name or len(name) > 200:
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
        stalls = service.list_stalls(conn, event_id=found["id"])
        totals = service.totals(conn, event_id=found["id"])
    return page(request, "event.html", status=422, session=session, event=found, stalls=stalls,
                totals=totals, error=error, typed=name)


def is_console(path: str) -> bool:
    return path == "/console" or path.startswith("/console/")
