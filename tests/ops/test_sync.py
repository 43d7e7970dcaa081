"""Sync channel account and Sync templates against the real emulator and a real SQLite file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session

from tests.support.sandbox_account import TOKEN, WABA
from wa_console.core.credentials import SecretEdit
from wa_console.core.sandbox_defaults import SANDBOX_ACCOUNT_NAME, SANDBOX_VALUES
from wa_console.meta.errors import GraphApiError
from wa_console.ops.context import OpCancelled, OpContext
from wa_console.ops.sync import sync_channel_account, sync_templates
from wa_console.sandbox import SandboxServer, seeded_world
from wa_console.store import synced
from wa_console.store.accounts import AccountStore
from wa_console.store.models import MessageTemplate
from wa_console.store.secrets import SecretStore

TABLES = ("waba_snapshot", "phone_number", "message_template", "sync_run")
TEMPLATES_PATH = r"/message_templates$"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(seeded_world(templates=450, seed=0), "127.0.0.1", 0) as srv:
        yield srv


@pytest.fixture
def store(sqlite_url: str, open_db) -> AccountStore:  # type: ignore[no-untyped-def]
    return AccountStore(open_db(sqlite_url), SecretStore())


@pytest.fixture
def account_id(store: AccountStore) -> int:
    record = store.create({**SANDBOX_VALUES, "account_name": SANDBOX_ACCOUNT_NAME},
                          {"access_token": SecretEdit("set", TOKEN)})
    return record.id


class Reports:
    """An OpContext that records progress and cancels once `cancel_after_pages` pages came."""

    def __init__(self, cancel_after_pages: int | None = None) -> None:
        self.items: list[tuple[int, str]] = []
        self.cancel_after_pages = cancel_after_pages
        self.ctx = OpContext(report=lambda pct, txt: self.items.append((pct, txt)),
                             cancelled=self._cancelled)

    @property
    def pages(self) -> list[int]:
        return [int(m.group(1)) for _, t in self.items if (m := re.match(r"page (\d+)", t))]

    def _cancelled(self) -> bool:
        return self.cancel_after_pages is not None and len(self.pages) >= self.cancel_after_pages


def dump(engine: Engine, tables: tuple[str, ...] = TABLES) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        return {t: [tuple(r) for r in connection.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]
                for t in tables}


def add_draft(engine: Engine, account_id: int) -> None:
    with Session(engine) as session, session.begin():
        session.add(MessageTemplate(account_id=account_id, meta_id=None, name="my_draft",
                                    language="en_US", status=None, category="UTILITY",
                                    components=[{"type": "BODY", "text": "Draft"}],
                                    simulated=True))


def template_writes(engine: Engine) -> tuple[list[str], object]:
    """INSERT/UPDATE/DELETE statements on message_template seen from now on."""
    seen: list[str] = []

    def listener(conn, cursor, statement, *_: object) -> None:  # type: ignore[no-untyped-def]
        if re.match(r"\s*(INSERT|UPDATE|DELETE)\b.*\bmessage_template\b", statement, re.S | re.I):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    return seen, listener


def test_account_sync_stores_waba_identity_and_every_phone(store, account_id, server) -> None:
    """The WABA identity and all four numbers of the WABA, every field, marked simulated."""
    reports = Reports()
    result = sync_channel_account(reports.ctx, store, account_id, base_url=server.base_url)
    world = server.world
    waba = synced.latest_waba(store.engine, account_id)
    assert waba is not None and waba == result.waba
    expected = world.wabas[WABA]
    assert (waba.waba_id, waba.name, waba.account_review_status,
            waba.business_verification_status, waba.message_template_namespace,
            waba.timezone_id, waba.currency, waba.simulated) == (
        WABA, expected.name, "APPROVED", "VERIFIED", expected.message_template_namespace,
        expected.timezone_id, "USD", True)
    phones = {p.meta_id: p for p in synced.phone_numbers(store.engine, account_id)}
    assert set(phones) == {p.id for p in world.phones_of(WABA)}
    for src in world.phones_of(WABA):
        got = phones[src.id]
        assert (got.display_phone_number, got.verified_name, got.name_status,
                got.code_verification_status, got.quality_rating, got.status,
                got.messaging_limit_tier, got.throughput_level, got.platform_type,
                got.account_mode, got.simulated) == (
            src.display_phone_number, src.verified_name, src.name_status,
            src.code_verification_status, src.quality_rating, src.status,
            src.messaging_limit_tier, src.throughput_level, src.platform_type,
            src.account_mode, True)
    run = synced.last_sync_run(store.engine, account_id, "account")
    assert run is not None and run.outcome == "ok" and run.counts["phone_numbers"] == 4
    assert reports.items[-1][0] == 100


def test_account_resync_updates_and_deletes_numbers_gone_from_meta(store, account_id,
                                                                   server) -> None:
    """A changed number is updated in place; a number Meta no longer lists is deleted."""
    sync_channel_account(OpContext(), store, account_id, base_url=server.base_url)
    before = {p.meta_id: p.id for p in synced.phone_numbers(store.engine, account_id)}
    world = server.world
    with world.lock:
        world.phone_numbers["200000000000013"].quality_rating = "YELLOW"
        del world.phone_numbers["200000000000014"]
    result = sync_channel_account(OpContext(), store, account_id, base_url=server.base_url)
    after = {p.meta_id: p for p in synced.phone_numbers(store.engine, account_id)}
    assert set(after) == set(before) - {"200000000000014"}
    assert after["200000000000013"].quality_rating == "YELLOW"
    assert after["200000000000013"].id == before["200000000000013"]
    assert (result.added, result.updated, result.deleted) == (0, 3, 1)


def test_template_sync_of_6000_stores_all_with_counts_by_status(store, account_id) -> None:
    """6,000 generated templates (+ the fixed ones) all stored, counted by status."""
    with SandboxServer(seeded_world(templates=6000, seed=0), "127.0.0.1", 0) as big:
        result = sync_templates(OpContext(), store, account_id, base_url=big.base_url)
        source = big.world.templates_of(WABA)
    assert result.total == len(source) >= 6000 and result.added == len(source)
    expected: dict[str, int] = {}
    for t in source:
        expected[t.status] = expected.get(t.status, 0) + 1
    assert result.by_status == expected
    assert synced.template_status_counts(store.engine, account_id) == expected
    rows = synced.template_list(store.engine, account_id)
    assert {r.meta_id for r in rows} == {t.id for t in source}
    assert all(r.simulated and not r.removed for r in rows)
    run = synced.last_sync_run(store.engine, account_id, "templates")
    assert run is not None and run.outcome == "ok" and run.by_status == expected
    assert run.counts["total"] == len(source) and run.duration_s > 0
    assert run.counts["pages"] == -(-len(source) // 100)


def test_template_fields_are_stored_as_meta_lists_them(store, account_id, server) -> None:
    """Name, language, status, category, quality score, rejected reason and components."""
    sync_templates(OpContext(), store, account_id, base_url=server.base_url)
    source = server.world.find_template(WABA, "rejected_offer", "en_US")
    with Session(store.engine) as session:
        row = session.scalars(select(MessageTemplate).where(
            MessageTemplate.meta_id == source.id)).one()
        assert (row.name, row.language, row.status, row.category, row.rejected_reason,
                row.quality_score, row.parameter_format, row.components) == (
            "rejected_offer", "en_US", "REJECTED", "MARKETING", "PROMOTIONAL", "GREEN",
            "POSITIONAL", source.components)
        assert row.content_hash and len(row.content_hash) == 64 and row.simulated


def test_no_change_resync_rewrites_no_rows(store, account_id, server) -> None:
    """A second sync with nothing changed at Meta issues no INSERT/UPDATE on templates."""
    sync_templates(OpContext(), store, account_id, base_url=server.base_url)
    before = dump(store.engine, ("message_template",))
    seen, listener = template_writes(store.engine)
    try:
        result = sync_templates(OpContext(), store, account_id, base_url=server.base_url)
    finally:
        event.remove(store.engine, "before_cursor_execute", listener)
    assert seen == []
    assert (result.added, result.changed, result.removed) == (0, 0, 0)
    assert result.unchanged == result.total
    assert dump(store.engine, ("message_template",)) == before
    assert synced.last_sync_run(store.engine, account_id, "templates").counts["changed"] == 0


def test_changed_and_removed_templates_are_updated_and_marked(store, account_id,
                                                              server) -> None:
    """An edit at Meta rewrites that row only; a deletion sets removed_at (row kept)."""
    sync_templates(OpContext(), store, account_id, base_url=server.base_url)
    world = server.world
    changed = world.find_template(WABA, "spring_sale", "en_US")
    gone = world.find_template(WABA, "draft_notice", "en_US")
    with world.lock:
        changed.status, changed.quality_score = "APPROVED", {"score": "YELLOW", "date": 1}
    assert world.delete_template(WABA, gone.name, gone.id) == 1
    seen, listener = template_writes(store.engine)
    try:
        result = sync_templates(OpContext(), store, account_id, base_url=server.base_url)
    finally:
        event.remove(store.engine, "before_cursor_execute", listener)
    assert (result.added, result.changed, result.removed) == (0, 1, 1)
    rows = {r.meta_id: r for r in synced.template_list(store.engine, account_id)}
    assert (rows[changed.id].status, rows[changed.id].quality) == ("APPROVED", "YELLOW")
    assert rows[gone.id].removed and not rows[changed.id].removed
    assert rows[gone.id].id in {r.id for r in synced.template_list(store.engine, account_id)}
    assert gone.id not in {r.meta_id for r in synced.template_list(
        store.engine, account_id, include_removed=False)}
    assert len(seen) == 2  # one executemany UPDATE for the change, one for the removal
    # It stays removed (not rewritten again) on the next sync.
    again = sync_templates(OpContext(), store, account_id, base_url=server.base_url)
    assert (again.changed, again.removed) == (0, 0)


def test_local_draft_is_never_touched(store, account_id, server) -> None:
    """A row without a Meta ID survives syncs (including ones that remove templates) as is."""
    add_draft(store.engine, account_id)
    draft_before = [r for r in dump(store.engine)["message_template"] if r[2] is None]
    sync_templates(OpContext(), store, account_id, base_url=server.base_url)
    world = server.world
    victim = world.find_template(WABA, "hello_world", "en_US")
    world.delete_template(WABA, victim.name, victim.id)
    sync_templates(OpContext(), store, account_id, base_url=server.base_url)
    assert [r for r in dump(store.engine)["message_template"] if r[2] is None] == draft_before
    drafts = [r for r in synced.template_list(store.engine, account_id) if r.meta_id is None]
    assert [(d.name, d.removed) for d in drafts] == [("my_draft", False)]


def _prime_then_change(store: AccountStore, account_id: int, server: SandboxServer) -> None:
    """A first sync, a draft, then changes at Meta that a complete sync would write."""
    sync_templates(OpContext(), store, account_id, base_url=server.base_url)
    add_draft(store.engine, account_id)
    world = server.world
    with world.lock:
        world.find_template(WABA, "spring_sale", "en_US").status = "DISABLED"
    victim = world.find_template(WABA, "welcome_offer", "en_US")
    world.delete_template(WABA, victim.name, victim.id)


def test_failing_page_leaves_the_database_as_it_was(store, account_id, server) -> None:
    """A Graph error on page 3 raises the typed error, writes nothing but a failed SyncRun."""
    _prime_then_change(store, account_id, server)
    before = dump(store.engine, TABLES[:3])
    runs_before = dump(store.engine, ("sync_run",))["sync_run"]
    server.faults.inject(method="GET", path=TEMPLATES_PATH, kind="graph_error", code=100,
                         page=2, message="(#100) Simulated failure on page 3")
    reports = Reports()
    with pytest.raises(GraphApiError) as caught:
        sync_templates(reports.ctx, store, account_id, base_url=server.base_url)
    assert caught.value.code == 100 and caught.value.title
    assert reports.pages == [1, 2]
    assert dump(store.engine, TABLES[:3]) == before
    runs = dump(store.engine, ("sync_run",))["sync_run"]
    assert runs[:len(runs_before)] == runs_before and len(runs) == len(runs_before) + 1
    last = synced.last_sync_run(store.engine, account_id, "templates")
    assert last.outcome == "failed" and last.counts["pages"] == 2
    assert "page 3" in last.detail and last.simulated
    ok = synced.last_sync_run(store.engine, account_id, "templates", outcome="ok")
    assert ok is not None and ok.id < last.id


def test_cancel_mid_sync_leaves_the_database_as_it_was(store, account_id, server) -> None:
    """Cancel after 3 pages: no further request, OpCancelled, only a cancelled SyncRun."""
    _prime_then_change(store, account_id, server)
    before = dump(store.engine, TABLES[:3])
    server.requests.clear()
    reports = Reports(cancel_after_pages=3)
    with pytest.raises(OpCancelled):
        sync_templates(reports.ctx, store, account_id, base_url=server.base_url)
    listed = [r for r in server.requests if re.search(TEMPLATES_PATH, r.path)]
    assert len(listed) == 3  # three pages (the estimate comes from the previous sync)
    assert dump(store.engine, TABLES[:3]) == before
    last = synced.last_sync_run(store.engine, account_id, "templates")
    assert last.outcome == "cancelled" and last.counts["pages"] == 3


def test_cancel_of_account_sync_records_a_cancelled_run(store, account_id, server) -> None:
    """Cancelled before the first call: nothing stored, a cancelled run recorded."""
    ctx = OpContext(cancelled=lambda: True)
    with pytest.raises(OpCancelled):
        sync_channel_account(ctx, store, account_id, base_url=server.base_url)
    assert synced.latest_waba(store.engine, account_id) is None
    assert synced.last_sync_run(store.engine, account_id, "account").outcome == "cancelled"


def test_progress_is_reported_per_page_with_an_estimate(store, account_id, server) -> None:
    """'page N of ~M' for every page in order, then saving, then 100 %."""
    reports = Reports()
    result = sync_templates(reports.ctx, store, account_id, base_url=server.base_url)
    pages = -(-result.total // 100)
    assert reports.pages == list(range(1, pages + 1))
    page_texts = [t for _, t in reports.items if t.startswith("page ")]
    assert page_texts[0].startswith(f"page 1 of ~{pages}")
    percents = [p for p, _ in reports.items]
    assert percents == sorted(percents) and percents[-1] == 100


def test_resync_estimates_from_the_previous_sync_without_a_count_request(store, account_id,
                                                                         server) -> None:
    """The second sync's 'of ~M' comes from the last ok run: no summary=total_count request."""
    first = sync_templates(OpContext(), store, account_id, base_url=server.base_url)
    server.requests.clear()
    reports = Reports()
    sync_templates(reports.ctx, store, account_id, base_url=server.base_url)
    assert not [r for r in server.requests if "summary" in r.query]
    assert reports.items[0][1].startswith(f"page 1 of ~{-(-first.total // 100)}")


def test_progress_without_an_estimate_counts_templates(store, account_id, server) -> None:
    """When Meta refuses the count, progress says 'page N, X templates' with pct -1."""
    server.faults.inject(method="GET", path=TEMPLATES_PATH, kind="graph_error", code=100,
                         page=0, times=1)
    reports = Reports()
    sync_templates(reports.ctx, store, account_id, base_url=server.base_url)
    page_reports = [(p, t) for p, t in reports.items if t.startswith("page ")]
    assert page_reports[0] == (-1, "page 1, 100 templates")


def test_sync_times_are_utc(store, account_id, server) -> None:
    """Runs read back with timezone-aware UTC times from the op's clock."""
    pinned = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    sync_templates(OpContext(now=lambda: pinned), store, account_id, base_url=server.base_url)
    run = synced.last_sync_run(store.engine, account_id, "templates")
    assert run.started_at == run.finished_at == pinned


def test_sync_rules_hold_on_every_database(db_url: str, open_db,  # type: ignore[no-untyped-def]
                                           server) -> None:
    """SQLite and PostgreSQL alike: account re-sync; templates full, no-change, changed+removed."""
    store = AccountStore(open_db(db_url), SecretStore())
    account = store.create({**SANDBOX_VALUES, "account_name": SANDBOX_ACCOUNT_NAME},
                           {"access_token": SecretEdit("set", TOKEN)}).id
    sync_channel_account(OpContext(), store, account, base_url=server.base_url)
    with server.world.lock:
        del server.world.phone_numbers["200000000000014"]
    again = sync_channel_account(OpContext(), store, account, base_url=server.base_url)
    assert (again.updated, again.deleted, len(again.phones)) == (3, 1, 3)
    add_draft(store.engine, account)
    first = sync_templates(OpContext(), store, account, base_url=server.base_url)
    same = sync_templates(OpContext(), store, account, base_url=server.base_url)
    world = server.world
    with world.lock:
        world.find_template(WABA, "spring_sale", "en_US").status = "DISABLED"
    gone = world.find_template(WABA, "welcome_offer", "en_US")
    world.delete_template(WABA, gone.name, gone.id)
    third = sync_templates(OpContext(), store, account, base_url=server.base_url)
    assert (first.added, same.added + same.changed + same.removed) == (first.total, 0)
    assert (third.changed, third.removed) == (1, 1)
    rows = {r.meta_id: r for r in synced.template_list(store.engine, account)}
    assert rows[gone.id].removed and rows[None].name == "my_draft" and not rows[None].removed
    run = synced.last_sync_run(store.engine, account, "templates")
    assert run.outcome == "ok" and run.started_at.tzinfo is not None


def test_account_sync_error_propagates_typed_and_is_recorded(store, account_id,
                                                            server) -> None:
    """An expired token (190) on the phone list: GraphApiError with a fix, a failed run."""
    sync_channel_account(OpContext(), store, account_id, base_url=server.base_url)
    before = dump(store.engine, TABLES[:2])
    server.faults.inject(method="GET", path=r"/phone_numbers$", kind="graph_error", code=190,
                         subcode=463, message="Error validating access token: expired")
    with pytest.raises(GraphApiError) as caught:
        sync_channel_account(OpContext(), store, account_id, base_url=server.base_url)
    assert caught.value.code == 190 and caught.value.fix
    assert dump(store.engine, TABLES[:2]) == before
    run = synced.last_sync_run(store.engine, account_id, "account")
    assert run.outcome == "failed" and "190" in run.detail
