"""What the syncs learned from Meta: write it (one transaction per sync) and read it back.

Writers take what the Graph client returned (plain dicts) and store it; readers hand out
plain frozen dataclasses (never ORM objects: they cross threads).

Rules (issue 5):
- Account sync: the WABA snapshot (one row per account) and the phone numbers, upserted by Meta
  ID, in one transaction together with its SyncRun. A number that Meta no longer lists is
  **deleted**: the table has no "removed" column and a number that left the WABA cannot send,
  so keeping it would only mislead the Phone numbers page; the run's counts say how many went.
- Template sync: one transaction at the end. Upsert by Meta ID; templates Meta no longer lists
  get `removed_at` (never deleted; one that comes back has it cleared); rows without a Meta ID
  (local drafts) are never touched; a row whose `content_hash` (sha256 of the canonical JSON of
  Meta's dict) did not change is not rewritten, so a no-change re-sync costs one SELECT of
  (meta_id, id, hash, removed_at) plus the SyncRun insert. `synced_at` of a template is when its
  content was last written; when the list was last checked is the SyncRun's `finished_at`.
- Every row carries `simulated` = the account's sandbox flag.
- A failed or cancelled sync writes only its SyncRun (`record_sync_run`), in its own
  transaction; the synced state stays exactly as it was.
"""

from __future__ import annotations

import gc
import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from wa_console.store.models import MessageTemplate, PhoneNumber, SyncRun, WabaSnapshot
from wa_console.store.quality import (
    PHONE_FIELDS,
    phone_sync_changes,
    record_sync_changes,
    template_sync_changes,
)
from wa_console.store.times import as_utc

KIND_ACCOUNT = "account"
KIND_TEMPLATES = "templates"
OUTCOMES = ("ok", "failed", "cancelled")

_TEMPLATES = MessageTemplate.__table__
_PHONES = PhoneNumber.__table__


# --- what readers hand out ------------------------------------------------------------------

@dataclass(frozen=True)
class WabaInfo:
    account_id: int
    waba_id: str
    name: str | None
    account_review_status: str | None
    business_verification_status: str | None
    message_template_namespace: str | None
    timezone_id: str | None
    currency: str | None
    synced_at: datetime
    simulated: bool


@dataclass(frozen=True)
class PhoneInfo:
    id: int
    meta_id: str
    display_phone_number: str | None
    verified_name: str | None
    name_status: str | None
    code_verification_status: str | None
    quality_rating: str | None
    status: str | None
    messaging_limit_tier: str | None
    throughput_level: str | None
    platform_type: str | None
    account_mode: str | None
    synced_at: datetime
    simulated: bool


@dataclass(frozen=True)
class TemplateRow:
    """One line of the Templates page."""

    id: int
    meta_id: str | None  # None = a local draft
    name: str
    language: str
    status: str | None
    category: str | None
    quality: str | None  # quality_score.score: GREEN | YELLOW | RED | UNKNOWN | ...
    rejected_reason: str | None
    removed: bool
    simulated: bool


@dataclass(frozen=True)
class SyncRunInfo:
    id: int
    account_id: int
    kind: str  # "account" | "templates"
    started_at: datetime
    finished_at: datetime
    outcome: str  # "ok" | "failed" | "cancelled"
    counts: dict[str, Any] = field(default_factory=dict)
    detail: str | None = None
    simulated: bool = False

    @property
    def duration_s(self) -> float:
        """Measured duration (`counts["duration_ms"]`), else finished - started."""
        ms = self.counts.get("duration_ms")
        if isinstance(ms, int | float):
            return ms / 1000
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def by_status(self) -> dict[str, int]:
        return dict(self.counts.get("by_status") or {})


@dataclass(frozen=True)
class TemplateSyncResult:
    """What a template sync wrote."""

    total: int  # templates Meta listed
    added: int
    changed: int  # existing rows rewritten (content changed, or back after removal)
    unchanged: int
    removed: int  # newly marked removed
    by_status: dict[str, int]
    run: SyncRunInfo


@dataclass(frozen=True)
class AccountSyncResult:
    waba: WabaInfo
    phones: tuple[PhoneInfo, ...]
    added: int
    updated: int
    deleted: int
    run: SyncRunInfo


# --- helpers ----------------------------------------------------------------------------------

# Canonical JSON: sorted keys, no spaces, ASCII only (non-ASCII as \u escapes).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                              default=str)


def content_hash(template: Mapping[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON of Meta's template dict."""
    return hashlib.sha256(_CANONICAL.encode(template).encode("ascii")).hexdigest()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a sync builds and writes its rows.

    Building 6,000 row dicts next to 6,000 freshly decoded templates triggers repeated full
    collections over the whole heap (~100 ms of a 6,000-row write, benchmarks/sync_templates.py);
    nothing here creates cycles, and reference counting still frees everything at once.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _text(value: Any) -> str | None:
    """Meta's enums may grow: store any value verbatim (as text), None when absent."""
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _template_values(t: Mapping[str, Any]) -> dict[str, Any]:
    get = t.get
    quality = get("quality_score")
    score = quality.get("score") if isinstance(quality, dict) else quality
    components = get("components")
    values = {
        "name": get("name") or "",
        "language": get("language") or "",
        "status": get("status"),
        "category": get("category"),
        "parameter_format": get("parameter_format"),
        "rejected_reason": get("rejected_reason"),
        "quality_score": score,
        "previous_category": get("previous_category"),
    }
    for key, value in values.items():  # Meta's enums may grow: any value is kept, as text
        if value is not None and type(value) is not str:
            values[key] = _text(value)
    values["components"] = components if isinstance(components, list) else None
    return values


def _phone_values(p: Mapping[str, Any]) -> dict[str, Any]:
    throughput = p.get("throughput")
    level = throughput.get("level") if isinstance(throughput, dict) else throughput
    return {
        "display_phone_number": _text(p.get("display_phone_number")),
        "verified_name": _text(p.get("verified_name")),
        "name_status": _text(p.get("name_status")),
        "code_verification_status": _text(p.get("code_verification_status")),
        "quality_rating": _text(p.get("quality_rating")),
        "status": _text(p.get("status")),
        "messaging_limit_tier": _text(p.get("messaging_limit_tier")),
        "throughput_level": _text(level),
        "platform_type": _text(p.get("platform_type")),
        "account_mode": _text(p.get("account_mode")),
    }


def _run_info(row: SyncRun) -> SyncRunInfo:
    return SyncRunInfo(id=row.id, account_id=row.account_id, kind=row.kind,
                       started_at=as_utc(row.started_at), finished_at=as_utc(row.finished_at),
                       outcome=row.outcome, counts=dict(row.counts or {}), detail=row.detail,
                       simulated=bool(row.simulated))


def _add_run(session: Session, account_id: int, kind: str, started_at: datetime,
             finished_at: datetime, outcome: str, counts: Mapping[str, Any] | None,
             detail: str | None, simulated: bool) -> SyncRunInfo:
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
    row = SyncRun(account_id=account_id, kind=kind, started_at=started_at,
                  finished_at=finished_at, outcome=outcome, counts=dict(counts or {}),
                  detail=detail, simulated=simulated)
    session.add(row)
    session.flush()
    return _run_info(row)


# --- writers ------------------------------------------------------------------------------------

def record_sync_run(engine: Engine, account_id: int, kind: str, *, started_at: datetime,
                    finished_at: datetime, outcome: str, simulated: bool,
                    counts: Mapping[str, Any] | None = None,
                    detail: str | None = None) -> SyncRunInfo:
    """Record a run on its own (a failed or cancelled sync), in its own transaction."""
    with Session(engine) as session, session.begin():
        return _add_run(session, account_id, kind, started_at, finished_at, outcome, counts,
                        detail, simulated)


def write_account_sync(engine: Engine, account_id: int, waba: Mapping[str, Any],
                       phones: Sequence[Mapping[str, Any]], *, simulated: bool,
                       started_at: datetime, finished_at: datetime,
                       perf_start: float | None = None) -> AccountSyncResult:
    """Store the WABA snapshot and phone numbers (upsert by Meta ID; numbers Meta no longer
    lists are deleted) and the ok SyncRun, in one transaction. `perf_start`: the sync's
    `time.perf_counter()` at its start, for the run's `duration_ms`."""
    synced_at = finished_at
    waba_values = {
        "waba_id": _text(waba.get("id")) or "",
        "name": _text(waba.get("name")),
        "account_review_status": _text(waba.get("account_review_status")),
        "business_verification_status": _text(waba.get("business_verification_status")),
        "message_template_namespace": _text(waba.get("message_template_namespace")),
        "timezone_id": _text(waba.get("timezone_id")),
        "currency": _text(waba.get("currency")),
        "synced_at": synced_at,
        "simulated": simulated,
    }
    fetched: dict[str, dict[str, Any]] = {}
    for phone in phones:
        meta_id = _text(phone.get("id"))
        if meta_id:
            fetched[meta_id] = _phone_values(phone)
    with Session(engine) as session, session.begin():
        snapshot = session.get(WabaSnapshot, account_id)
        if snapshot is None:
            session.add(WabaSnapshot(account_id=account_id, **waba_values))
        else:
            for key, value in waba_values.items():
                setattr(snapshot, key, value)
        stored = {row.meta_id: row._asdict() for row in session.execute(
            select(_PHONES.c.meta_id, _PHONES.c.id, _PHONES.c.display_phone_number,
                   *(_PHONES.c[name] for name in PHONE_FIELDS))
            .where(_PHONES.c.account_id == account_id))}
        existing = {meta_id: row["id"] for meta_id, row in stored.items()}
        # The quality history: what changed since the last sync (same transaction).
        record_sync_changes(session, account_id, "phone", phone_sync_changes(stored, fetched),
                            finished_at, simulated)
        new = [{"account_id": account_id, "meta_id": m, **v, "synced_at": synced_at,
                "simulated": simulated} for m, v in fetched.items() if m not in existing]
        changed = [{"_id": existing[m], **v, "synced_at": synced_at, "simulated": simulated}
                   for m, v in fetched.items() if m in existing]
        gone = [pk for m, pk in existing.items() if m not in fetched]
        if new:
            session.execute(insert(_PHONES), new)
        if changed:
            # SET comes from the parameter keys (one executemany).
            session.execute(update(_PHONES).where(_PHONES.c.id == bindparam("_id")), changed)
        if gone:
            session.execute(delete(_PHONES).where(_PHONES.c.id.in_(gone)))
        counts: dict[str, Any] = {
            "phone_numbers": len(fetched), "added": len(new), "updated": len(changed),
            "deleted": len(gone),
            "by_status": dict(Counter(v["status"] or "UNKNOWN" for v in fetched.values())),
        }
        if perf_start is not None:  # the whole sync, this write included (but its commit)
            counts["duration_ms"] = round((time.perf_counter() - perf_start) * 1000, 1)
        run = _add_run(session, account_id, KIND_ACCOUNT, started_at, finished_at, "ok",
                       counts, f"WABA {waba_values['waba_id']}: {len(fetched)} phone numbers",
                       simulated)
    return AccountSyncResult(waba=latest_waba(engine, account_id),  # type: ignore[arg-type]
                             phones=tuple(phone_numbers(engine, account_id)), added=len(new),
                             updated=len(changed), deleted=len(gone), run=run)


def write_template_sync(engine: Engine, account_id: int, templates: Iterable[Mapping[str, Any]],
                        *, simulated: bool, started_at: datetime, finished_at: datetime,
                        perf_start: float | None = None,
                        extra_counts: Mapping[str, Any] | None = None) -> TemplateSyncResult:
    """Store a complete template listing and the ok SyncRun in one transaction (see the module
    docstring for the rules). `templates` must be every template Meta listed."""
    # Meta's dicts, by ID (a template listed twice, e.g. across a page boundary, counts once).
    fetched: dict[str, Mapping[str, Any]] = {}
    skipped = 0
    for t in templates:
        meta_id = _text(t.get("id"))
        if meta_id:
            fetched[meta_id] = t
        else:
            skipped += 1
    synced_at = finished_at
    c = _TEMPLATES.c
    with gc_paused(), Session(engine) as session, session.begin():
        hashes = {m: content_hash(t) for m, t in fetched.items()}
        by_status = Counter(_text(t.get("status")) or "UNKNOWN" for t in fetched.values())
        existing: dict[str, tuple[int, str | None, datetime | None]] = {}
        quality: dict[str, dict[str, Any]] = {}
        for meta_id, pk, digest, removed_at, status, score in session.execute(
                select(c.meta_id, c.id, c.content_hash, c.removed_at, c.status,
                       c.quality_score)
                .where(c.account_id == account_id, c.meta_id.is_not(None))):
            existing[meta_id] = (pk, digest, removed_at)
            quality[meta_id] = {"status": status, "quality_score": score}
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for meta_id, digest in hashes.items():
            found = existing.get(meta_id)
            if found is None:
                new.append({"account_id": account_id, "meta_id": meta_id,
                            **_template_values(fetched[meta_id]), "content_hash": digest,
                            "synced_at": synced_at, "simulated": simulated})
            elif found[1] != digest or found[2] is not None:
                changed.append({"_id": found[0], **_template_values(fetched[meta_id]),
                                "content_hash": digest, "synced_at": synced_at,
                                "removed_at": None, "simulated": simulated})
        gone = [pk for meta_id, (pk, _, removed_at) in existing.items()
                if removed_at is None and meta_id not in fetched]
        if changed:  # the quality history: status / quality score moves since the last sync
            by_pk = {pk: meta_id for meta_id, (pk, _, _) in existing.items()}
            record_sync_changes(session, account_id, "template", template_sync_changes(
                quality, {by_pk[v["_id"]]: v for v in changed}), finished_at, simulated)
        if new:
            session.execute(insert(_TEMPLATES), new)
        if changed:
            # SET comes from the parameter keys (one executemany).
            session.execute(update(_TEMPLATES).where(c.id == bindparam("_id")), changed)
        for start in range(0, len(gone), 500):  # stay under any bound-parameter limit
            session.execute(update(_TEMPLATES).where(c.id.in_(gone[start:start + 500]))
                            .values(removed_at=finished_at))
        counts: dict[str, Any] = {
            "total": len(fetched), "added": len(new), "changed": len(changed),
            "unchanged": len(fetched) - len(new) - len(changed), "removed": len(gone),
            "by_status": dict(sorted(by_status.items())), **(extra_counts or {}),
        }
        if skipped:
            counts["skipped_without_id"] = skipped
        if perf_start is not None:  # the whole sync, this write included (but its commit)
            counts["duration_ms"] = round((time.perf_counter() - perf_start) * 1000, 1)
        run = _add_run(session, account_id, KIND_TEMPLATES, started_at, finished_at, "ok",
                       counts, f"{len(fetched):,} templates: {len(new):,} new, "
                       f"{len(changed):,} changed, {len(gone):,} removed", simulated)
    return TemplateSyncResult(total=len(fetched), added=len(new), changed=len(changed),
                              unchanged=counts["unchanged"], removed=len(gone),
                              by_status=counts["by_status"], run=run)


# --- readers ------------------------------------------------------------------------------------

def latest_waba(engine: Engine, account_id: int) -> WabaInfo | None:
    """The WABA identity from the last successful account sync, or None if never synced."""
    with Session(engine) as session:
        row = session.get(WabaSnapshot, account_id)
        if row is None:
            return None
        return WabaInfo(account_id=row.account_id, waba_id=row.waba_id, name=row.name,
                        account_review_status=row.account_review_status,
                        business_verification_status=row.business_verification_status,
                        message_template_namespace=row.message_template_namespace,
                        timezone_id=row.timezone_id, currency=row.currency,
                        synced_at=as_utc(row.synced_at), simulated=bool(row.simulated))


def phone_numbers(engine: Engine, account_id: int) -> list[PhoneInfo]:
    """The account's phone numbers as of the last account sync, by Meta ID."""
    with Session(engine) as session:
        rows = session.scalars(select(PhoneNumber).where(PhoneNumber.account_id == account_id)
                               .order_by(PhoneNumber.meta_id))
        return [PhoneInfo(id=r.id, meta_id=r.meta_id,
                          display_phone_number=r.display_phone_number,
                          verified_name=r.verified_name, name_status=r.name_status,
                          code_verification_status=r.code_verification_status,
                          quality_rating=r.quality_rating, status=r.status,
                          messaging_limit_tier=r.messaging_limit_tier,
                          throughput_level=r.throughput_level, platform_type=r.platform_type,
                          account_mode=r.account_mode, synced_at=as_utc(r.synced_at),
                          simulated=bool(r.simulated)) for r in rows]


def template_list(engine: Engine, account_id: int,
                  include_removed: bool = True) -> list[TemplateRow]:
    """The Templates page's rows (without components), by name then language; local drafts
    included."""
    c = _TEMPLATES.c
    query = (select(c.id, c.meta_id, c.name, c.language, c.status, c.category,
                    c.quality_score, c.rejected_reason, c.removed_at, c.simulated)
             .where(c.account_id == account_id).order_by(c.name, c.language, c.id))
    if not include_removed:
        query = query.where(c.removed_at.is_(None))
    with engine.connect() as connection:
        return [TemplateRow(id=pk, meta_id=meta_id, name=name, language=language,
                            status=status, category=category, quality=quality,
                            rejected_reason=reason, removed=removed_at is not None,
                            simulated=bool(sim))
                for pk, meta_id, name, language, status, category, quality, reason,
                removed_at, sim in connection.execute(query)]


def template_status_counts(engine: Engine, account_id: int) -> dict[str, int]:
    """Synced (not removed) templates by status, e.g. {"APPROVED": 5800, "PENDING": 12}."""
    c = _TEMPLATES.c
    query = (select(c.status, func.count()).where(
        c.account_id == account_id, c.meta_id.is_not(None), c.removed_at.is_(None))
        .group_by(c.status))
    with engine.connect() as connection:
        return {status or "UNKNOWN": n for status, n in connection.execute(query)}


def last_sync_run(engine: Engine, account_id: int, kind: str,
                  outcome: str | None = None) -> SyncRunInfo | None:
    """The newest run of `kind` ("account" | "templates"), optionally only with `outcome`."""
    query = (select(SyncRun).where(SyncRun.account_id == account_id, SyncRun.kind == kind)
             .order_by(SyncRun.finished_at.desc(), SyncRun.id.desc()).limit(1))
    if outcome is not None:
        query = query.where(SyncRun.outcome == outcome)
    with Session(engine) as session:
        row = session.scalars(query).first()
        return _run_info(row) if row is not None else None


def last_sync_runs(engine: Engine, account_id: int) -> dict[str, SyncRunInfo]:
    """The newest run of each kind that has run at least once."""
    runs = {kind: last_sync_run(engine, account_id, kind)
            for kind in (KIND_ACCOUNT, KIND_TEMPLATES)}
    return {kind: run for kind, run in runs.items() if run is not None}
