"""Schemathesis against the OpenAPI the real server publishes, on SQLite and on PostgreSQL:
every operation, with data that fits the schema and data that does not, sent with an organizer
token to the organizer's routes and a till's token to the tills'. No answer is a 5xx, every
status is one the schema lists, every body matches the schema of its status, and a route that
needs a token refuses a request without one. Few examples per operation and a fixed seed, so
the run is short and a failure repeats."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (content_type_conformance, ignored_auth, not_a_server_error,
                                 response_headers_conformance, response_schema_conformance,
                                 status_code_conformance)

from sync import client
from sync.server import service
from tests.sync.conftest import setup_stall

EXAMPLES = 8  # per operation and generation mode
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance, ignored_auth]


def test_no_generated_request_breaks_the_server_or_its_schema(server, store):
    _event, _stall, code = setup_stall(server)
    client.enroll(store, url=server.url, code=code)
    tokens = {"tills": client.load_token(store),
              "organizer": server.admin(lambda c: service.organizer_token(c, name="퍼저"))}
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15, [op.label for op in operations]
    failures, ran = [], 0
    for op in operations:
        headers = {"Authorization": f"Bearer {tokens[op.tags[0]]}"} if op.tags else {}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck),
                      phases=[Phase.explicit, Phase.generate])
            @given(op.as_strategy(generation_mode=mode))
            def check(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                check()
                ran += 1
            except Unsatisfiable:  # nothing to get wrong (no parameters, no body)
                continue
            except Exception as e:  # noqa: BLE001 - every operation is tried; all are listed
                failures.append(f"{op.label} ({mode.value}): {e}")
    assert not failures, "\n\n".join(failures)
    assert ran >= 2 * len(operations) - 2
