"""The template payload builder against Meta's spec: the create-template request and the template
send, as GraphClient posts them to the sandbox emulator, checked per named operation (the spec
exceptions are test_contract.SPEC_EXCEPTIONS, nothing else is relaxed). Skipped visibly when
shared/meta-openapi/ is absent."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest

from tests.contract.spec_harness import SpecContract, format_report
from tests.contract.test_contract import CREATE_TEMPLATE, SPEC_EXCEPTIONS, make_client
from tests.core.test_template_payload import APPOINTMENT, NAMED_HEADER, ORDER_UPDATE, WELCOME
from tests.support.sandbox_account import PHONE, RECIPIENT, WABA
from wa_console.core.templates.model import TemplateDraft
from wa_console.core.templates.payload import create_request, send_components, send_request
from wa_console.sandbox import RecordedRequest, SandboxServer, seeded_world
from wa_console.sandbox.templates import normalise_components, review_problems

SENT = [ORDER_UPDATE, APPOINTMENT, WELCOME]  # seeded, approved templates of the emulator
CREATED = [ORDER_UPDATE, APPOINTMENT, WELCOME, NAMED_HEADER]


@pytest.fixture(scope="module")
def contract(spec_document: dict) -> SpecContract:
    """The spec with test_contract's SPEC_EXCEPTIONS applied."""
    return SpecContract(spec_document, SPEC_EXCEPTIONS)


@pytest.fixture(scope="module")
def emulator() -> Iterator[SandboxServer]:
    with SandboxServer(seeded_world(templates=0), "127.0.0.1", 0) as server:
        yield server


def _only(server: SandboxServer) -> RecordedRequest:
    (recorded,) = list(server.requests)
    return recorded


def _report(contract: SpecContract, operation: str, recorded: RecordedRequest,
            base_url: str) -> str:
    return format_report(
        [(operation, "request", t)
         for t in contract.request_errors(operation, recorded, base_url)]
        + [(operation, "response", t)
           for t in contract.response_errors(operation, recorded, base_url)])


def _ids(draft: TemplateDraft) -> str:
    return draft.name


@pytest.mark.parametrize("draft", CREATED, ids=_ids)
def test_create_request_fits_the_spec_and_the_review(contract, emulator, draft) -> None:
    """create_request, posted by GraphClient.create_template, fits the create operation."""
    body = create_request(dataclasses.replace(draft, name=f"contract_{draft.name}"))
    emulator.requests.clear()
    with make_client(emulator, max_attempts=1) as client:
        created = client.create_template(WABA, body)
    assert created["id"]
    recorded = _only(emulator)
    assert json.loads(recorded.body) == body
    report = _report(contract, CREATE_TEMPLATE, recorded, emulator.base_url)
    assert not report, "\n" + report
    stored = normalise_components(body["components"], body["category"])
    assert review_problems(stored, body["parameter_format"], body["category"]) == []


@pytest.mark.parametrize("draft", SENT, ids=_ids)
def test_send_request_fits_send_message(contract, emulator, draft) -> None:
    """send_components via GraphClient.send_template equals send_request and fits sendMessage."""
    emulator.requests.clear()
    with make_client(emulator, max_attempts=1) as client:
        client.send_template(PHONE, RECIPIENT, draft.name, draft.language,
                             send_components(draft))
    recorded = _only(emulator)
    assert json.loads(recorded.body) == send_request(draft, RECIPIENT)
    report = _report(contract, "sendMessage", recorded, emulator.base_url)
    assert not report, "\n" + report
