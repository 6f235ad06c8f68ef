"""The parts of docs/sync-protocol.md that are made from the code, so that they cannot drift:
every message's fields (from the models of `sync/protocol.py` and `sync/server/answers.py`,
with their bounds and their docstrings), the bounds' figures, every call with who may make it
and what it can answer (from the server's own OpenAPI), and every status code.

    python -m sync.protocol_doc           rewrite the generated parts of the document
    python -m sync.protocol_doc --check   exit 1 if the document differs (the tests do this)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pydantic import BaseModel

from sync import protocol as p

DOC = Path(__file__).resolve().parent.parent / "docs" / "sync-protocol.md"
BEGIN = "<!-- generated: {name} (python -m sync.protocol_doc; do not edit by hand) -->"
END = "<!-- end of generated: {name} -->"


def _answers():
    from sync.server import answers as a

    return a


def message_groups() -> list[tuple[str, list[type[BaseModel]]]]:
    a = _answers()
    return [
        ("What a till pushes", [p.PushRequest, p.Event, p.Document, p.Line, p.Payment,
                                p.ShiftPayload, p.CashPayload, p.StockPayload, p.ProductChange,
                                p.EnterpriseEdit, p.StaffPayload, p.AuditPayload,
                                p.CashReceiptPayload]),
        ("What the server answers a till", [p.PushResponse, p.Mismatch, p.Status]),
        ("Enrollment", [p.EnrollRequest, p.EnrollResponse]),
        ("The stall's day", [p.StallDayPage, p.StallDocument, p.TillState]),
        ("Returning another till's sale", [p.SaleLookup, p.SaleCopy, p.SaleReturn,
                                            p.HeldReturn, p.ReturnedLine, p.ReturnHold]),
        ("What a till pulls", [p.CatalogPage, p.Product, p.ProductEnterprise, p.StockPage,
                               p.StockLevel, p.SettingsPage, p.TillSettings, p.MethodSpec]),
        ("Refusals", [p.Problem, p.FieldError]),
        ("What the organizer sends", [p.NewEvent, p.NewStall, p.NewEnterprise,
                                      p.NewDeviceCode, p.CancelDeviceCode, p.ProductEdit]),
        ("What the organizer reads", [a.Totals, a.EnterpriseTotal, a.DeviceTotal, a.DayTotal,
                                      a.MethodTotal, a.Alert, a.MarketEvent, a.Stall, a.Device,
                                      a.Enterprise, a.DeviceCode, a.Cancelled, a.ProductTaken,
                                      a.SettingsVersion, a.StaffMember, a.AuditEntry,
                                      a.CashReceipt, a.VatRow]),
    ]


_PATTERNS = {
    p.PLAIN: "no control or direction-override characters",
    p.LINES: "no control characters but tab and line breaks",
    p.HLC: "a clock stamp `^\\d{13}-\\d{5}-[A-Z0-9]{1,6}$`",
    p.INSTANT: "an ISO 8601 time with its UTC offset",
    p.DAY: "a date `YYYY-MM-DD`",
}


def _number(n) -> str:
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    if n == p.MAX_SEQ:
        return "2⁵³−1"
    if n == -p.MAX_SEQ:
        return "−(2⁵³−1)"
    return f"{n:,}".replace("-", "−")


def _type(schema: dict, defs: dict) -> str:  # noqa: C901 - one case per JSON schema form
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in schema:
        kinds = [s for s in schema["anyOf"] if s.get("type") != "null"]
        text = " or ".join(_type(s, defs) for s in kinds)
        return text + ("; or null" if len(kinds) < len(schema["anyOf"]) else "")
    if "enum" in schema:
        return "one of " + ", ".join(f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    kind = schema.get("type")
    bounds = []
    if kind == "integer" or kind == "number":
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum")
        name = "integer" if kind == "integer" else "number"
        if low is not None and low == high:
            return f"`{_number(low)}`"
        if low is not None and high is not None:
            op = "<" if "exclusiveMinimum" in schema else "≤"
            return f"{name}, {_number(low)} {op} n ≤ {_number(high)}"
        if low is not None:
            return f"{name} ≥ {_number(low)}"
        return name
    if kind == "string":
        if schema.get("format") == "uuid":
            return "UUID"
        low, high = schema.get("minLength"), schema.get("maxLength")
        if high is not None:
            bounds.append(f"{low or 0}–{_number(high)} characters")
        elif low:
            bounds.append(f"at least {low} characters")
        pattern = schema.get("pattern")
        if pattern:
            bounds.append(_PATTERNS.get(pattern, f"`{pattern}`"))
        return ", ".join(["text", *bounds])
    if kind == "boolean":
        return "true or false"
    if kind == "array":
        item = _type(schema.get("items", {}), defs)
        low, high = schema.get("minItems"), schema.get("maxItems")
        size = ""
        if high is not None:
            size = f" ({low or 0}–{_number(high)})"
        elif low:
            size = f" (at least {low})"
        return f"list of {item}{size}"
    if kind == "object":
        values = schema.get("additionalProperties")
        keys = schema.get("propertyNames", {})
        for pattern, values in schema.get("patternProperties", {}).items():
            keys = {"type": "string", "pattern": pattern}
        if isinstance(values, dict) and values:
            key = _type(keys, defs) if keys else "text"
            size = f", at most {schema['maxProperties']} keys" if "maxProperties" in schema \
                else ""
            return f"object: {key} → {_type(values, defs)}{size}"
        return "object"
    return "any JSON"


def _default(schema: dict) -> str:
    if "default" not in schema:
        return "no"
    value = schema["default"]
    if value is None or isinstance(value, bool):
        text = {None: "null", True: "true", False: "false"}[value]
    elif isinstance(value, str):
        text = f"`{value}`"
    elif isinstance(value, (int, float)):
        text = _number(value)
    else:
        text = f"`{value}`"
    return f"no (default {text})"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def model_table(model: type[BaseModel]) -> str:
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    required = set(schema.get("required", ()))
    extra = "; unknown fields are refused" if model.model_config.get("extra") == "forbid" \
        else ""
    doc = (model.__doc__ or "").strip()
    intro = " ".join(doc.split()) if doc and "Usage docs" not in doc else ""
    head = [f"#### {model.__name__}", ""]
    if intro:
        head += [intro + (extra and f" (Unknown fields are refused.)"), ""]
    elif extra:
        head += ["Unknown fields are refused.", ""]
    rows = ["| field | type | required | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        prop = schema["properties"][name]
        req = "yes" if name in required else _default(prop)
        rows.append(f"| `{name}` | {_cell(_type(prop, defs))} | {req} | "
                    f"{_cell(field.description or '')} |")
    return "\n".join(head + rows)


def messages() -> str:
    parts = []
    for title, models in message_groups():
        parts.append(f"### {title}")
        parts += [model_table(m) for m in models]
    return "\n\n".join(parts)


_BOUNDS = {  # each a name of `sync.protocol` (MAX_WON and MAX_QTY are `pos.money`'s, there too)
    "MAX_BATCH": "events in one push",
    "MAX_BODY_BYTES": "bytes of a request's body (`413` past it)",
    "BODY_SECONDS": "seconds for a whole body to arrive (`408`)",
    "BODY_IDLE_SECONDS": "seconds a body may pause (`408`)",
    "PUSH_RETRY_AFTER": "seconds a till waits when its previous push is still in progress "
                        "(`429`)",
    "HOLD_SECONDS": "seconds a hold on a sale's quantities counts (`POST …/returns`)",
    "MAX_WON": "won, the magnitude of a line's or payment's amount",
    "MAX_DOCUMENT_WON": "won, the magnitude of a document's totals",
    "MAX_QTY": "the magnitude of a quantity",
    "MAX_LINES": "lines in a document",
    "MAX_PAYMENTS": "payments in a document",
    "MAX_SEQ": "a seq, a cursor (`after`), a number in a payload",
    "MAX_PAYLOAD_DEPTH": "levels of a payload's objects and lists",
    "MAX_PAYLOAD_ITEMS": "values in a payload",
    "MAX_PAYLOAD_TEXT": "characters of a text in a payload",
    "MAX_CLOCK_AHEAD_MS": "milliseconds a catalog stamp may be ahead of the server's clock "
                          "(see Catalog)",
}


def bounds() -> str:
    lines = ["| bound | value | of what |", "|---|---|---|"]
    lines += [f"| `{name}` | {_number(getattr(p, name))} | {what} |"
              for name, what in _BOUNDS.items()]
    return "\n".join(lines)


def _openapi() -> dict:
    from sync.server.app import create_app

    return create_app("sqlite://", run_migrations=False).openapi()


def calls() -> str:
    from sync.server.deps import _SAID

    spec = _openapi()
    rows = ["| call | token | body | answer | refusals |", "|---|---|---|---|---|"]
    for path, methods in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, op in methods.items():
            answers = op["responses"]
            ok = next(code for code in answers if code.startswith("2"))
            model = answers[ok].get("content", {}).get("application/json", {}).get(
                "schema", {})
            answer = _type(model, {}) if model else ""
            if model.get("type") == "object" and not model.get("properties"):
                answer = "object"
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get(
                "schema", {})
            token = "device" if "tills" in op.get("tags", ()) else "organizer"
            if not op.get("security"):
                token = "none"
            refusals = ", ".join(sorted(code for code in answers if code[0] == "4"))
            rows.append(f"| `{method.upper()} {path}` | {token} | "
                        f"{_cell(_type(body, {})) if body else ''} | {ok} {_cell(answer)} | "
                        f"{refusals} |")
    codes = ["| status | when |", "|---|---|"]
    codes += [f"| `{status}` | {_cell(text)} |" for status, text in sorted(_SAID.items())]
    return "\n".join(rows) + "\n\n" + "\n".join(codes)


SECTIONS = {"bounds": bounds, "messages": messages, "calls": calls}


def render(text: str) -> str:
    """The document with every generated part made anew."""
    for name, make in SECTIONS.items():
        begin, end = BEGIN.format(name=name), END.format(name=name)
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
        if not pattern.search(text):
            raise ValueError(f"{DOC.name} has no generated part {name!r}")
        text = pattern.sub(lambda _m: f"{begin}\n\n{make()}\n\n{end}", text)
    return text


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    current = DOC.read_text(encoding="utf-8")
    made = render(current)
    if "--check" in argv:
        if made != current:
            print(f"{DOC} differs from sync/protocol.py: run python -m sync.protocol_doc",
                  file=sys.stderr)
            return 1
        return 0
    DOC.write_text(made, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
