"""Sync channel account and Sync templates: read from Meta (or the sandbox emulator), write once.

Both ops read everything first and write in one transaction at the end, so a failure or a
cancel part-way (page 37 of 60) leaves the synced state exactly as it was; they then record a
SyncRun with outcome "failed" / "cancelled" in its own transaction and raise: the client's typed
error (`wa_console.meta.errors.MetaError` subclasses: the GUI shows title/fix) or `OpCancelled`.
The Graph client checks `ctx.cancelled` before every request, so a cancel takes effect within
one HTTP call.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from wa_console.meta.client import CancelledByCaller, GraphClient
from wa_console.meta.errors import GraphApiError
from wa_console.ops.context import OpCancelled, OpContext
from wa_console.ops.provider import client_for, waba_id_of
from wa_console.store.accounts import AccountStore
from wa_console.store.records import AccountRecord
from wa_console.store.synced import (
    KIND_ACCOUNT,
    KIND_TEMPLATES,
    AccountSyncResult,
    TemplateSyncResult,
    gc_paused,
    last_sync_run,
    record_sync_run,
    write_account_sync,
    write_template_sync,
)

T = TypeVar("T")
log = logging.getLogger(__name__)

CANCELLED_TEXT = "Cancelled; the synced data was left as it was."


def sync_channel_account(ctx: OpContext, store: AccountStore, account_id: int,
                         base_url: str | None = None) -> AccountSyncResult:
    """Read the WABA identity and all its phone numbers and store them (one transaction)."""
    record = store.get(account_id)
    waba_id = waba_id_of(record)

    def run(graph: GraphClient, state: dict[str, Any]) -> AccountSyncResult:
        ctx.report(5, "Reading the WhatsApp Business Account…")
        waba = graph.waba(waba_id)
        ctx.report(35, "Reading the phone numbers…")
        phones = graph.phone_numbers(waba_id)
        state["phone_numbers"] = len(phones)
        ctx.check_cancelled()
        ctx.report(90, f"Saving the account and {len(phones)} phone numbers…")
        result = write_account_sync(store.engine, account_id, waba, phones,
                                    simulated=record.sandbox, started_at=state["started_at"],
                                    finished_at=ctx.now(), perf_start=state["t0"])
        ctx.report(100, f"Account synced: {len(phones)} phone numbers")
        return result

    return _run(ctx, store, record, KIND_ACCOUNT, base_url, run)


def sync_templates(ctx: OpContext, store: AccountStore, account_id: int,
                   base_url: str | None = None) -> TemplateSyncResult:
    """Read every page of message templates, then store them in one transaction: upsert by Meta
    ID, mark the ones Meta no longer lists as removed, leave local drafts and unchanged rows
    alone (see store/synced.py)."""
    record = store.get(account_id)
    waba_id = waba_id_of(record)

    def run(graph: GraphClient, state: dict[str, Any]) -> TemplateSyncResult:
        # "page 12 of ~60": the last sync's count when there is one, else Meta's total_count.
        last = last_sync_run(store.engine, account_id, KIND_TEMPLATES, outcome="ok")
        total = last.counts.get("total") if last is not None else None
        if not isinstance(total, int):
            ctx.report(0, "Counting templates…")
            total = _estimate_total(graph, waba_id)
        page_size = graph.config.page_limit
        pages = math.ceil(total / page_size) if total else None
        state["pages"] = 0

        def progress(page: int, count: int) -> None:
            state["pages"], state["templates_fetched"] = page, count
            if pages:
                pct = min(95, page * 95 // max(pages, page))
                ctx.report(pct, f"page {page} of ~{max(pages, page)}, {count:,} templates")
            else:
                ctx.report(-1, f"page {page}, {count:,} templates")

        # The pages stay in memory until the one write; a full GC pass over them would hold
        # the GIL for ~60 ms and freeze the GUI thread (benchmarks/gui_stall.py).
        with gc_paused():
            templates = list(graph.iter_templates(waba_id, progress=progress))
        ctx.check_cancelled()
        ctx.report(96, f"Saving {len(templates):,} templates…")
        result = write_template_sync(store.engine, account_id, templates,
                                     simulated=record.sandbox, started_at=state["started_at"],
                                     finished_at=ctx.now(), perf_start=state["t0"],
                                     extra_counts={"pages": state["pages"]})
        ctx.report(100, f"{result.total:,} templates synced: {result.added:,} new, "
                        f"{result.changed:,} changed, {result.removed:,} removed")
        return result

    return _run(ctx, store, record, KIND_TEMPLATES, base_url, run)


# --- shared -----------------------------------------------------------------------------------

def _run(ctx: OpContext, store: AccountStore, record: AccountRecord, kind: str,
         base_url: str | None, body: Callable[[GraphClient, dict[str, Any]], T]) -> T:
    """Run `body` with the account's client; on failure/cancel record the run and re-raise."""
    state: dict[str, Any] = {"started_at": ctx.now(), "t0": time.perf_counter()}
    try:
        ctx.check_cancelled()
        with client_for(record, store.secrets, ctx, base_url) as graph:
            return body(graph, state)
    except (OpCancelled, CancelledByCaller):
        _record_failure(ctx, store, record, kind, state, "cancelled", _where(state, kind) +
                        CANCELLED_TEXT)
        raise OpCancelled(CANCELLED_TEXT) from None
    except Exception as exc:
        _record_failure(ctx, store, record, kind, state, "failed",
                        _where(state, kind) + f"{type(exc).__name__}: {exc}")
        raise


def _record_failure(ctx: OpContext, store: AccountStore, record: AccountRecord, kind: str,
                    state: dict[str, Any], outcome: str, detail: str) -> None:
    counts = {k: state[k] for k in ("pages", "templates_fetched", "phone_numbers")
              if k in state}
    counts["duration_ms"] = round(_ms(state["t0"]), 1)
    try:
        record_sync_run(store.engine, record.id, kind, started_at=state["started_at"],
                        finished_at=ctx.now(), outcome=outcome, simulated=record.sandbox,
                        counts=counts, detail=detail)
    except Exception:  # e.g. the account was deleted meanwhile: never mask the sync's error
        log.warning("could not record the %s %s sync run", outcome, kind, exc_info=True)


def _where(state: dict[str, Any], kind: str) -> str:
    if kind == KIND_TEMPLATES and "pages" in state:
        return f"After {state['pages']} page(s): "
    return ""


def _estimate_total(graph: GraphClient, waba_id: str) -> int | None:
    """How many templates Meta lists (`summary=total_count`, one tiny request), or None when
    that is not offered; only used for "page 12 of ~60"."""
    try:
        body = graph._call("GET", f"{waba_id}/message_templates",
                           params={"fields": "id", "limit": "1", "summary": "total_count"})
    except GraphApiError as exc:
        if exc.code == 100:
            return None
        raise
    summary = body.get("summary") if isinstance(body, dict) else None
    total = summary.get("total_count") if isinstance(summary, dict) else None
    return total if isinstance(total, int) and total >= 0 else None


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


__all__ = ["sync_channel_account", "sync_templates"]
