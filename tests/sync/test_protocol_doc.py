"""docs/sync-protocol.md says what the code does: its tables are made from `sync/protocol.py`,
the server's answers and its OpenAPI, and this fails when they differ or a field is left
without its meaning."""

from __future__ import annotations

import inspect

from pydantic import BaseModel

from sync import protocol as p, protocol_doc


def test_the_generated_parts_of_the_document_are_current():
    assert protocol_doc.main(["--check"]) == 0, "run: uv run python -m sync.protocol_doc"


def test_every_message_of_the_protocol_is_in_the_document_with_every_field_said():
    documented = {m for _title, models in protocol_doc.message_groups() for m in models}
    messages = {m for _n, m in inspect.getmembers(p, inspect.isclass)
                if issubclass(m, BaseModel) and m not in (BaseModel, p.Strict)
                and m.__module__ == p.__name__}
    assert messages <= documented, f"not in the document: {messages - documented}"
    text = protocol_doc.DOC.read_text(encoding="utf-8")
    for model in documented:
        assert f"#### {model.__name__}\n" in text
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no docstring"
            assert f"| `{name}` |" in text


def test_a_changed_bound_shows_in_the_document(monkeypatch):
    """The check is real: a bound changed in the code makes the document differ."""
    current = protocol_doc.DOC.read_text(encoding="utf-8")
    assert protocol_doc.render(current) == current
    monkeypatch.setattr(p, "MAX_BATCH", p.MAX_BATCH + 1)
    assert protocol_doc.render(current) != current


def test_every_call_and_every_refusal_is_listed():
    text = protocol_doc.DOC.read_text(encoding="utf-8")
    spec = protocol_doc._openapi()
    for path, methods in spec["paths"].items():
        for method in methods:
            if path.startswith("/api/"):
                assert f"`{method.upper()} {path}`" in text
    for code in ("body_too_slow", "push_in_progress", "device_revoked", "code_unusable",
                 "too_many_attempts", "device_code_taken", "not_json", "unstorable"):
        assert f"`{code}`" in text
