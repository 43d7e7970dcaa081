"""From stored state to the readiness checklist, and the "Run all checks" chain.

`load_readiness` reads what Verify and the syncs stored and hands it to the pure
`core.readiness.evaluate`; `run_all_checks` chains verify → sync account → sync templates →
the webhook checks, stopping at the first failure of the first three with its fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from wa_console.core.credentials import CredentialRef
from wa_console.core.readiness import (
    AccountState,
    AccountSyncState,
    CheckKey,
    PhoneIdentity,
    ProofState,
    Readiness,
    ReadinessInput,
    TemplateRequirement,
    TemplateState,
    evaluate,
)
from wa_console.core.schema import CHANNEL_FIELDS
from wa_console.core.templates.drift import keys_match
from wa_console.core.templates.model import TemplateDraft
from wa_console.ops.context import OpContext
from wa_console.ops.webhook_check import webhook_state
from wa_console.store import synced
from wa_console.store.accounts import AccountStore
from wa_console.store.checks import load_checks
from wa_console.store.drafts import DraftError, DraftRecord, draft_from_components, list_drafts
from wa_console.store.health import quality_warnings
from wa_console.store.models import MessageTemplate
from wa_console.store.proofs import list_proofs
from wa_console.store.records import AccountRecord
from wa_console.store.secrets import SecretStore, SecretStoreError
from wa_console.store.senders import sender_state
from wa_console.store.synced import SyncRunInfo


def _credential_problem(record: AccountRecord, secrets: SecretStore) -> str | None:
    """Why a stored credential reference does not give a secret, or None when all do."""
    labels = {s.key: s.label for s in CHANNEL_FIELDS}
    for key, ref in record.refs.items():
        if ref is None:
            continue
        try:
            value = secrets.get(ref)
        except SecretStoreError as exc:
            return f"{labels[key]}: {exc}"
        if not value:
            return f"{labels[key]}: {_missing(ref)}"
    return None


def _missing(ref: CredentialRef) -> str:
    if ref.scheme == "env":
        return f"the environment variable {ref.name} is not set in this environment"
    if ref.scheme == "session":
        return "it was kept for the last session only; enter it again"
    return "the keyring has no entry for it any more; enter it again"


def _run_error(run: SyncRunInfo | None, ok_run: SyncRunInfo | None) -> str | None:
    """The latest attempt's failure, when it is newer than the latest success."""
    if run is None or run.outcome == "ok":
        return None
    if ok_run is not None and ok_run.finished_at >= run.finished_at:
        return None
    return f"The last sync {run.outcome}: {run.detail or 'no detail'}"


def approved_version(engine: Engine, account_id: int, name: str,
                      language: str) -> tuple[bool, TemplateDraft | None]:
    """Whether a synced APPROVED template with this name and language exists, and its content
    parsed back into a draft (None when its components cannot be read)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        rows = session.scalars(select(MessageTemplate).where(
            MessageTemplate.account_id == account_id, MessageTemplate.name == name,
            MessageTemplate.language == language, MessageTemplate.status == "APPROVED",
            MessageTemplate.meta_id.is_not(None), MessageTemplate.removed_at.is_(None))
            .order_by(MessageTemplate.id)).all()
        found = bool(rows)
        for row in rows:
            if not row.components:
                continue
            try:
                return True, draft_from_components(row.name, row.language, row.category or "",
                                                   row.parameter_format, list(row.components))
            except DraftError:
                continue
    return found, None


def _requirements(engine: Engine, account_id: int) -> tuple[TemplateRequirement, ...]:
    """One requirement per event key of the account's drafts (empty when none has one)."""
    by_key: dict[str, list[DraftRecord]] = {}
    for rec in list_drafts(engine, account_id):
        if rec.draft.event_key:
            by_key.setdefault(rec.draft.event_key, []).append(rec)
    required = []
    for event_key in sorted(by_key):
        approved: list[tuple[DraftRecord, bool]] = []
        fallback: DraftRecord | None = None
        for rec in by_key[event_key]:
            synced_ok, text = approved_version(engine, account_id, rec.draft.name,
                                                rec.draft.language)
            if synced_ok or (rec.status or "").upper() == "APPROVED":
                approved.append((rec, keys_match(rec.draft, text)))
            elif fallback is None or (rec.status and not fallback.status):
                fallback = rec
        if approved:
            bad = next((rec for rec, ok in approved if not ok), None)
            rec = bad or approved[0][0]
            required.append(TemplateRequirement(
                event_key=event_key, approved=True, keys_match=bad is None,
                template_name=rec.draft.name))
        else:
            required.append(TemplateRequirement(
                event_key=event_key, approved=False, keys_match=None,
                template_name=fallback.draft.name if fallback else None,
                status=fallback.status if fallback and fallback.status else None))
    return tuple(required)


def load_readiness(store: AccountStore, account_id: int,
                   now: datetime | None = None) -> Readiness:
    """Evaluate the checklist of one account from what is stored (no network)."""
    record = store.get(account_id)
    engine = store.engine
    missing = tuple(
        spec.key for spec in CHANNEL_FIELDS if spec.required and (
            record.refs.get(spec.key) is None if spec.secret
            else record.values.get(spec.key) in (None, "")))
    problem = _credential_problem(record, store.secrets)
    # Verify provider's results only: the webhook checks are read by webhook_state below.
    rows = load_checks(engine, account_id, keys=tuple(CheckKey))
    checks = tuple(row.as_check() for row in rows)
    expiry = next((r for r in rows if r.key == CheckKey.TOKEN_EXPIRY), None)
    expires_at = expiry.evidence.get("expires_at") if expiry else None

    account_runs = (synced.last_sync_run(engine, account_id, "account"),
                    synced.last_sync_run(engine, account_id, "account", outcome="ok"))
    phone = next((p for p in synced.phone_numbers(engine, account_id)
                  if p.meta_id == record.values.get("phone_number_id")), None)
    waba = synced.latest_waba(engine, account_id)
    template_runs = (synced.last_sync_run(engine, account_id, "templates"),
                     synced.last_sync_run(engine, account_id, "templates", outcome="ok"))
    counts = synced.template_status_counts(engine, account_id)

    return evaluate(ReadinessInput(
        account=AccountState(
            sandbox=record.sandbox, missing_settings=missing,
            credential_refs_ok=problem is None, credential_problem=problem,
            token_expires_at=(datetime.fromtimestamp(expires_at, UTC)
                              if isinstance(expires_at, int) and expires_at > 0 else None)),
        now=now or datetime.now(UTC),
        verify_checks=checks,
        account_sync=AccountSyncState(
            synced_at=account_runs[1].finished_at if account_runs[1] else None,
            phone=PhoneIdentity(
                display_phone_number=phone.display_phone_number or "",
                verified_name=phone.verified_name or "", status=phone.status,
                name_status=phone.name_status, quality_rating=phone.quality_rating)
            if phone else None,
            waba_review_status=waba.account_review_status if waba else None,
            last_error=_run_error(*account_runs),
            simulated=bool(account_runs[1] and account_runs[1].simulated)),
        templates=TemplateState(
            synced_at=template_runs[1].finished_at if template_runs[1] else None,
            counts=tuple(sorted(counts.items())),
            required=_requirements(engine, account_id),
            last_error=_run_error(*template_runs),
            simulated=bool(template_runs[1] and template_runs[1].simulated)),
        webhook=webhook_state(engine, account_id),
        # Senders are validated against the synced phone numbers: without an account sync
        # there is nothing to validate them against yet.
        senders=sender_state(engine, account_id) if account_runs[1] else None,
        proof=_proof_state(engine, account_id),
        quality_flags=tuple(quality_warnings(engine, account_id)),
    ))


def _proof_state(engine: Engine, account_id: int) -> ProofState:
    """The newest proven test sends, live and simulated (store.proofs)."""
    proven = [p for p in list_proofs(engine, account_id) if p.verdict == "proven"]
    live = max((p.created_at for p in proven if not p.simulated), default=None)
    simulated = max((p.created_at for p in proven if p.simulated), default=None)
    return ProofState(live_proven_at=live, simulated_proven_at=simulated)


@dataclass
class RunAllResult:
    """What "Run all checks" did: the steps completed, and where it stopped (if it did)."""

    steps: list[str] = field(default_factory=list)
    stopped_at: str | None = None
    reason: str | None = None
    fix: str | None = None


def run_all_checks(ctx: OpContext, store: AccountStore, account_id: int,
                   base_url: str | None = None,
                   allow_signed_probe: Callable[[str], bool] = lambda _url: False
                   ) -> RunAllResult:
    """Verify → sync account → sync templates → webhooks (Meta side, then the self-test).

    Stops at the first failure of the first three, with its fix (later steps would only repeat
    it). The webhook checks store their findings for the checklist and never stop the chain.
    `allow_signed_probe(url)` is asked before signed probes go to a host that is not loopback;
    by default they are skipped (headless runs cannot ask).
    """
    from wa_console.meta.errors import MetaError
    from wa_console.ops.sync import sync_channel_account, sync_templates
    from wa_console.ops.verify import verify_provider
    from wa_console.ops.webhook_check import check_meta_side, self_test

    result = RunAllResult()
    parent = ctx.report
    total = 5

    def step(index: int, name: str) -> OpContext:
        def report(pct: int, text: str) -> None:
            overall = (index * 100 + max(pct, 0)) // total
            parent(overall, f"{name}: {text}")
        return OpContext(report=report, cancelled=ctx.cancelled, now=ctx.now)

    report = verify_provider(step(0, "Verify provider"), store, account_id, base_url)
    result.steps.append("verify")
    failed = next((r for r in report.results if r.outcome in ("failed", "unknown")), None)
    if failed is not None:
        result.stopped_at, result.reason, result.fix = "verify", failed.detail, failed.fix
        return result
    for name, op in (("Sync channel account", sync_channel_account),
                     ("Sync templates", sync_templates)):
        try:
            op(step(len(result.steps), name), store, account_id, base_url)
        except MetaError as exc:
            result.stopped_at, result.reason, result.fix = name, str(exc), exc.fix
            return result
        result.steps.append(name)
    check_meta_side(step(3, "Check webhooks (Meta side)"), store, account_id, base_url)
    result.steps.append("Check webhooks (Meta side)")
    self_test(step(4, "Webhook self-test"), store, account_id,
              allow_signed_probe=allow_signed_probe)
    result.steps.append("Webhook self-test")
    return result
