"""The guided test send and reply (issue 7 items 6 and 7), as plain functions.

`prepare_send` checks everything that can be checked before a message leaves (the recipient is
opted in, the template is APPROVED in that language, the sender is valid) and builds the exact
`POST /messages` body with the studio's one builder (core.templates.payload.send_request).
`send_test` records the send ("sending") BEFORE the request leaves and posts it exactly once:
no retry, no automatic resend, ever. A lost answer is "outcome unknown"; `watch` resolves it by
adopting the wamid of a status callback to that recipient after the send time.
`verdict` says whether the round trip is proven (wamid + a signature-valid status callback +
the mapped reply); `diagnose` says precisely what is missing; `record_proof` stores the proof.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

from wa_console.core.errors import explain
from wa_console.core.readiness import SIMULATED_LABEL
from wa_console.core.templates.lint import lint
from wa_console.core.templates.payload import PayloadError, send_request
from wa_console.meta.client import MissingCredential
from wa_console.meta.errors import (
    GraphApiError,
    InvalidResponseError,
    MetaError,
    OutcomeUnknownError,
)
from wa_console.ops.context import OpContext
from wa_console.ops.provider import client_for
from wa_console.store.proofs import ProofInfo, mask_phone, save_proof
from wa_console.store.test_sends import (
    OUTCOME_UNKNOWN,
    REJECTED,
    SENDING,
    SendRecord,
    TestSendError,
    WamidTaken,
    attach_wamid,
    claim_send,
    mark_outcome_unknown,
    mark_rejected,
    send_record,
    template_for_send,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from wa_console.core.templates.model import TemplateDraft
    from wa_console.store.accounts import AccountStore

__all__ = [
    "STATUS_TIMEOUT_S",
    "REPLY_TIMEOUT_S",
    "Progress",
    "SendOutcome",
    "SendPlan",
    "TestSendError",
    "Verdict",
    "diagnose",
    "prepare_send",
    "record_proof",
    "send_test",
    "simulate_reply",
    "value_problems",
    "verdict",
    "watch",
]

log = logging.getLogger(__name__)

STATUS_TIMEOUT_S: Final = 120.0
REPLY_TIMEOUT_S: Final = 300.0
META_SIDE_KEY: Final = "webhook.meta_side"
# Meta's status timestamps are whole seconds: a callback for our send can carry a time up to a
# second before the row's created_at.
_ADOPT_SLACK: Final = timedelta(seconds=2)
MISSING_WAMID: Final = "a message id (wamid) from Meta"
MISSING_SIGNED_STATUS: Final = "a status callback with a valid signature"
MISSING_REPLY: Final = "the reply from the test phone"

State = Literal["accepted", "outcome_unknown", "rejected"]


# --- what the functions hand out -----------------------------------------------------------

@dataclass(frozen=True)
class SendPlan:
    """Everything about one test send, decided before anything leaves."""

    account_id: int
    account_name: str
    simulated: bool
    sender_id: int
    sender_label: str
    sender_value: str
    phone_number_id: str
    template_row_id: int
    template_name: str
    language: str
    recipient_id: int
    recipient_phone: str  # "+digits"
    payload: dict[str, Any]  # the exact POST /{phone-number-id}/messages body

    @property
    def recipient_digits(self) -> str:
        return self.recipient_phone.lstrip("+")


@dataclass(frozen=True)
class SendOutcome:
    state: State
    wamid: str | None
    error: str | None = None
    client_ref: str = ""


@dataclass(frozen=True)
class Progress:
    """A snapshot of one test send: what is stored now. `statuses` / `replies` are the store's
    StatusInfo / InboundInfo (store.messages), oldest first."""

    client_ref: str
    state: str  # the send row's status: sending | accepted | outcome_unknown | rejected | ...
    wamid: str | None
    recipient: str | None  # digits
    sent_at: datetime
    statuses: tuple[Any, ...]
    replies: tuple[Any, ...]
    elapsed_s: float
    simulated: bool
    errors: tuple[dict[str, Any], ...] = ()

    @property
    def signed_statuses(self) -> tuple[Any, ...]:
        return tuple(s for s in self.statuses if s.signature_valid)

    @property
    def failed(self) -> Any | None:
        """The failed status callback, if one arrived."""
        return next((s for s in self.statuses if s.status == "failed"), None)

    @property
    def reached(self) -> Any | None:
        """The best status that arrived (read > delivered > sent)."""
        for name in ("read", "delivered", "sent"):
            found = next((s for s in self.statuses if s.status == name), None)
            if found is not None:
                return found
        return None

    @property
    def reply(self) -> Any | None:
        return self.replies[0] if self.replies else None


@dataclass(frozen=True)
class Verdict:
    proven: bool
    kind: str  # "proven" | "incomplete" | "failed" (the Proof row's verdict)
    label: str
    missing: tuple[str, ...] = ()


# --- before the send -----------------------------------------------------------------------

def value_problems(draft: TemplateDraft, values: Mapping[str, str]) -> list[str]:
    """What is wrong with the entered parameter values: core lint's findings about them
    (blank, or whitespace Meta refuses at send), then what the payload builder refuses."""
    problems = [f.message for f in lint(replace(draft, samples=dict(values)))
                if f.field == "samples"]
    try:
        send_request(draft, "0", values)
    except PayloadError as exc:
        problems.append(str(exc))
    return problems


def prepare_send(store: AccountStore, account_id: int, *, sender_id: int,
                 template_row_id: int, recipient_id: int,
                 values: Mapping[str, str]) -> SendPlan:
    """Check the send can go ahead and build its exact payload. Raises TestSendError (or the
    recipients store's NotOptedIn) with what to do; nothing is stored or sent."""
    from wa_console.store.recipients import require_opted_in
    from wa_console.store.senders import SenderError, get_sender

    engine = store.engine
    record = store.get(account_id)
    recipient = require_opted_in(engine, recipient_id)  # NotOptedIn says why and what to do
    if recipient.account_id != account_id:
        raise TestSendError("That test recipient belongs to another account; pick one of this "
                            "account's recipients.")
    try:
        sender = get_sender(engine, sender_id)
    except SenderError as exc:
        raise TestSendError(str(exc)) from None
    if sender.account_id != account_id:
        raise TestSendError("That sender belongs to another account; pick one of this "
                            "account's senders.")
    if not sender.validation.valid:
        raise TestSendError(f"The sender '{sender.label}' cannot send: "
                            f"{' '.join(sender.validation.errors)} Fix it on the Senders page.")
    template = template_for_send(engine, template_row_id)
    if template.status != "APPROVED" or template.removed:
        state = "no longer listed by Meta" if template.removed else (template.status
                                                                     or "not reviewed")
        raise TestSendError(f"'{template.name}' ({template.language}) is {state}; only "
                            "APPROVED templates can be sent. Sync the templates or pick "
                            "another one.")
    problems = value_problems(template.draft, values)
    if problems:
        raise TestSendError("The parameter values cannot be sent: " + " ".join(problems))
    payload = send_request(template.draft, recipient.phone.lstrip("+"), values)
    return SendPlan(account_id=account_id, account_name=record.name,
                    simulated=record.sandbox, sender_id=sender.id, sender_label=sender.label,
                    sender_value=sender.value, phone_number_id=sender.phone_meta_id,
                    template_row_id=template.id, template_name=template.name,
                    language=template.language, recipient_id=recipient.id,
                    recipient_phone=recipient.phone, payload=payload)


# --- the send ----------------------------------------------------------------------------------

def _outcome(record: SendRecord) -> SendOutcome:
    """What an earlier call with the same client_ref left (a double click lands here)."""
    if record.status == REJECTED:
        return SendOutcome("rejected", None, _errors_text(record.errors or []),
                           record.client_ref)
    if record.status in (SENDING, OUTCOME_UNKNOWN) and record.wamid is None:
        return SendOutcome("outcome_unknown", None, None, record.client_ref)
    return SendOutcome("accepted", record.wamid, None, record.client_ref)


def _errors_text(errors: Sequence[Mapping[str, Any]]) -> str:
    return " ".join(str(e.get("text") or e.get("message") or "") for e in errors).strip()


def send_test(ctx: OpContext, store: AccountStore, account_id: int, *, sender_id: int,
              template_row_id: int, recipient_id: int, values: Mapping[str, str],
              client_ref: str, base_url: str | None = None) -> SendOutcome:
    """Send the test message once. A second call with the same `client_ref` sends nothing and
    returns what the first one left."""
    engine = store.engine
    existing = send_record(engine, client_ref)
    if existing is not None:
        return _outcome(existing)
    plan = prepare_send(store, account_id, sender_id=sender_id,
                        template_row_id=template_row_id, recipient_id=recipient_id,
                        values=values)
    _row_id, created = claim_send(
        engine, account_id=account_id, client_ref=client_ref,
        phone_number_id=plan.phone_number_id, recipient_digits=plan.recipient_digits,
        template_name=plan.template_name, language=plan.language, payload=plan.payload,
        simulated=plan.simulated)
    if not created:  # a concurrent call with the same client_ref got there first
        record = send_record(engine, client_ref)
        assert record is not None
        return _outcome(record)
    ctx.report(30, f"Sending '{plan.template_name}' to {plan.recipient_phone}…")
    client = client_for(store.get(account_id), store.secrets, ctx, base_url)
    try:
        # The payload the wizard showed, byte for byte, in exactly one POST: the client's
        # retry policy must not resend a test message.
        result = client.send_payload(plan.phone_number_id, plan.payload, single_attempt=True)
    except OutcomeUnknownError as exc:
        mark_outcome_unknown(engine, client_ref)
        return SendOutcome("outcome_unknown", None, str(exc), client_ref)
    except InvalidResponseError as exc:
        if exc.http_status < 400:  # answered 200 without a readable wamid: it may have gone
            mark_outcome_unknown(engine, client_ref)
            return SendOutcome("outcome_unknown", None, str(exc), client_ref)
        mark_rejected(engine, client_ref, [{"message": str(exc), "text": str(exc)}])
        return SendOutcome("rejected", None, str(exc), client_ref)
    except GraphApiError as exc:
        errors = [{"code": exc.code, "subcode": exc.subcode, "message": exc.meta_message,
                   "details": exc.details, "fbtrace_id": exc.fbtrace_id, "text": str(exc)}]
        mark_rejected(engine, client_ref, errors)
        return SendOutcome("rejected", None, str(exc), client_ref)
    except (MetaError, MissingCredential) as exc:  # never reached Meta: nothing was sent
        mark_rejected(engine, client_ref, [{"message": str(exc), "text": str(exc)}])
        return SendOutcome("rejected", None, str(exc), client_ref)
    finally:
        client.close()
    from sqlalchemy.exc import SQLAlchemyError

    try:
        attach_wamid(engine, client_ref, result.wamid)
    except SQLAlchemyError:
        # The message went out; never report that as a failure. Left "outcome unknown", the
        # send gets its wamid back from the first status callback (see `watch`).
        log.warning("test send %s: the wamid could not be stored", client_ref, exc_info=True)
        mark_outcome_unknown(engine, client_ref)
    ctx.report(100, f"Accepted by Meta: {result.wamid}")
    return SendOutcome("accepted", result.wamid, None, client_ref)


# --- watching ----------------------------------------------------------------------------------

def _adopt(engine: Engine, record: SendRecord) -> SendRecord:
    """An outcome-unknown send: adopt the wamid of a status callback to its recipient since
    the send (the message did go out). Wamids of other test sends are skipped."""
    from wa_console.store.messages import statuses_to_recipient_since

    if not record.recipient:
        return record
    candidates = statuses_to_recipient_since(engine, record.recipient,
                                             record.created_at - _ADOPT_SLACK)
    for status in sorted(candidates, key=lambda s: (s.timestamp, s.received_at)):
        try:
            return attach_wamid(engine, record.client_ref, status.wamid)
        except WamidTaken:
            continue
    return record


def watch(engine: Engine, client_ref: str, now: Callable[[], datetime] | None = None
          ) -> Progress:
    """What is stored now for the send: its statuses (with signature flags) and the replies
    mapped to it. Resolves an outcome-unknown send from a status callback to its recipient."""
    from wa_console.store.messages import replies_to, statuses_for

    record = send_record(engine, client_ref)
    if record is None:
        raise TestSendError(f"No test send {client_ref!r} is recorded.")
    if record.wamid is None and record.status == OUTCOME_UNKNOWN:
        record = _adopt(engine, record)
    statuses: tuple[Any, ...] = ()
    replies: tuple[Any, ...] = ()
    if record.wamid is not None:
        statuses = tuple(statuses_for(engine, record.wamid))
        replies = tuple(replies_to(engine, record.wamid))
    clock = now() if now else datetime.now(UTC)
    return Progress(client_ref=client_ref, state=record.status, wamid=record.wamid,
                    recipient=record.recipient, sent_at=record.created_at, statuses=statuses,
                    replies=replies,
                    elapsed_s=max(0.0, (clock - record.created_at).total_seconds()),
                    simulated=record.simulated, errors=tuple(record.errors or ()))


# --- verdict and diagnosis ---------------------------------------------------------------------

def error_meaning(error: Mapping[str, Any]) -> str:
    """'131026 Message undeliverable … What to do: …' for a status's or a refusal's error."""
    code = error.get("code")
    info = explain(code if isinstance(code, int) else None)
    title = str(error.get("title") or error.get("message") or "").strip()
    if info is None:
        return f"{code} {title}".strip() + " (not in the error catalog; read Meta's message)."
    return f"{code} {info.meaning} What to do: {info.action}"


def verdict(progress: Progress, simulated: bool) -> Verdict:
    """Proven = a wamid, at least one signature-valid status callback for it, and an inbound
    reply mapped to it. Sandbox results are labelled "simulated – not proof"."""
    failed = progress.failed
    if failed is not None:
        meaning = "; ".join(error_meaning(e) for e in failed.errors or ()) or "no error given"
        label = f"Failed: Meta reported the message failed ({meaning})"
        if simulated:
            label += f" — {SIMULATED_LABEL}"
        return Verdict(False, "failed", label, (MISSING_REPLY,))
    missing = []
    if progress.wamid is None:
        missing.append(MISSING_WAMID)
    if not progress.signed_statuses:
        missing.append(MISSING_SIGNED_STATUS)
    if progress.reply is None:
        missing.append(MISSING_REPLY)
    if progress.state == REJECTED:
        label = f"Failed: Meta refused the send ({_errors_text(progress.errors)})"
        return Verdict(False, "failed", label, tuple(missing))
    if missing:
        label = "Incomplete: missing " + ", ".join(missing)
        if simulated:
            label += f" — {SIMULATED_LABEL}"
        return Verdict(False, "incomplete", label, tuple(missing))
    if simulated:
        return Verdict(True, "proven", f"Round trip complete — {SIMULATED_LABEL}")
    return Verdict(True, "proven", "Proven: the round trip works against Meta")


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%H:%M:%S UTC")


def _webhook_diagnosis(engine: Engine, account_id: int) -> str:
    from wa_console.store.checks import load_checks

    checks = load_checks(engine, account_id, [META_SIDE_KEY])
    if not checks:
        return ("webhooks were never checked: run Check Meta side on the Webhooks page")
    check = checks[-1]
    evidence = check.evidence
    callback = evidence.get("effective_callback")
    source = evidence.get("effective_source")
    parts = [f"the effective callback for message events is {callback} ({source})"
             if callback else "Meta has no callback URL for message events"]
    if evidence.get("app_subscribed_to_waba") is False:
        parts.append("the app is not subscribed to the WABA: subscribe it on Verify & sync")
    field_state = evidence.get("messages_field")
    if field_state in (False, None, "missing", "inactive", "not subscribed"):
        parts.append("the app's subscription lacks an active 'messages' field: add it in the "
                     "App Dashboard (WhatsApp → Configuration → Webhook fields)")
    if len(parts) == 1 and callback:
        parts.append(f"the Meta side looked right when checked "
                     f"({check.checked_at:%Y-%m-%d %H:%M} UTC): make sure the receiver at that "
                     "URL is running and writes to this database (Webhooks page: platform "
                     "self-test)")
    return "; ".join(parts)


def diagnose(engine: Engine, store: AccountStore, account_id: int, progress: Progress,
             waited_s: float) -> str:
    """What is missing after `waited_s` seconds, precisely, with what to do about it."""
    waited = f"{waited_s:g} s"
    phone = f"+{progress.recipient}" if progress.recipient else "the test phone"
    failed = progress.failed
    if failed is not None:
        meaning = "; ".join(error_meaning(e) for e in failed.errors or ()) or "no error given"
        return f"Meta reported the message failed at {_when(failed.timestamp)}: {meaning}"
    if progress.state == REJECTED:
        return f"Meta refused the send, nothing was sent: {_errors_text(progress.errors)}"
    if progress.wamid is None:
        return (f"The send's answer was lost and no status callback to {phone} arrived within "
                f"{waited}: the message was probably not sent. Check the phone before "
                f"sending again; {_webhook_diagnosis(engine, account_id)}.")
    if not progress.statuses:
        return (f"No status callback within {waited}: "
                f"{_webhook_diagnosis(engine, account_id)}.")
    if not progress.signed_statuses:
        return (f"{len(progress.statuses)} status callback(s) arrived within {waited} but none "
                "had a valid X-Hub-Signature-256: the app secret the receiver checks with is "
                "not the app's; re-enter the app secret in the settings.")
    reached = progress.reached
    step = (f"{reached.status} at {_when(reached.timestamp)}" if reached is not None
            else "accepted")
    if progress.reply is None:
        return (f"{step[:1].upper()}{step[1:]} but no reply from {phone} within {waited}: "
                "reply from that phone; replies are mapped by context or within 24 h.")
    return "Nothing is missing."


# --- the proof ---------------------------------------------------------------------------------

def _status_entry(status: Any) -> dict[str, Any]:
    return {"status": status.status,
            "timestamp": status.timestamp.isoformat(),
            "received_at": status.received_at.isoformat(),
            "signature_valid": bool(status.signature_valid),
            "errors": [{**dict(e), "meaning": error_meaning(e)} for e in status.errors or ()]}


def proof_record(plan: SendPlan, progress: Progress | None, result: Verdict,
                 outcome: SendOutcome | None = None, note: str = "") -> dict[str, Any]:
    """The exportable record of one test send (recipient masked; never a secret)."""
    reply = progress.reply if progress is not None else None
    return {
        "account": plan.account_name,
        "mode": f"sandbox ({SIMULATED_LABEL})" if plan.simulated else "live",
        "simulated": plan.simulated,
        "sender": {"label": plan.sender_label, "value": plan.sender_value,
                   "phone_number_id": plan.phone_number_id},
        "template": {"name": plan.template_name, "language": plan.language},
        "recipient": mask_phone(plan.recipient_phone),
        "wamid": progress.wamid if progress is not None else (
            outcome.wamid if outcome is not None else None),
        "send_state": progress.state if progress is not None else (
            outcome.state if outcome is not None else "not sent"),
        "sent_at": progress.sent_at.isoformat() if progress is not None else None,
        "statuses": [_status_entry(s) for s in progress.statuses] if progress else [],
        "reply": None if reply is None else {
            "id": reply.wamid, "text": reply.text, "timestamp": reply.timestamp.isoformat(),
            "received_at": reply.received_at.isoformat(),
            "signature_valid": bool(reply.signature_valid),
            "mapped_by": "context" if reply.context_wamid == reply.reply_to_wamid
            else "recipient and time window"},
        "verdict": result.kind,
        "verdict_label": result.label,
        "missing": list(result.missing),
        "note": note,
    }


def record_proof(engine: Engine, plan: SendPlan, progress: Progress | None, result: Verdict,
                 outcome: SendOutcome | None = None, note: str = "") -> ProofInfo:
    """Store the proof of this test send (store.proofs.save_proof)."""
    record = proof_record(plan, progress, result, outcome, note)
    summary = (f"{plan.template_name} ({plan.language}) to {record['recipient']}: "
               f"{result.label}" + (f" — {note}" if note else ""))
    return save_proof(engine, plan.account_id, record, result.kind, summary, record["wamid"],
                      plan.simulated)


# --- sandbox -----------------------------------------------------------------------------------

def simulate_reply(wamid: str, text: str = "Got it, thanks (simulated reply)") -> str:
    """The sandbox test phone answers `wamid` (shared emulator of sandbox accounts); returns
    the inbound message's wamid."""
    from wa_console.ops.provider import shared_sandbox

    return shared_sandbox().world.simulate_reply(wamid, text)
