"""The error catalog covers every code of meta-api.md §e and answers lookups sensibly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wa_console.core.errors import CATALOG, Retry, explain

META_API = Path(__file__).resolve().parents[3] / "shared" / "meta-api.md"


def documented_codes() -> list[tuple[int, int | None, str]]:
    """(code, subcode, retry column) for each row of the table in meta-api.md §e."""
    text = META_API.read_text(encoding="utf-8")
    section = text.split("## e.", 1)[1].split("## f.", 1)[0]
    rows = []
    for line in section.splitlines():
        match = re.match(r"\|\s*(\d+)(?:[/–-](\d+))?\s*\|.*\|\s*([RNF])\b[^|]*\|\s*$", line)
        if match:
            code, sub, retry = match.groups()
            rows.append((int(code), int(sub) if sub and "/" in line.split("|")[1] else None,
                         retry))
    return rows


@pytest.mark.skipif(not META_API.exists(), reason="shared/meta-api.md is not beside this clone")
def test_every_documented_code_is_in_the_catalog() -> None:
    """Each code (and subcode) of §e has an entry whose retry class matches the doc's column."""
    rows = documented_codes()
    assert len(rows) >= 50
    mapping = {"R": Retry.BACKOFF, "N": Retry.NEVER, "F": Retry.FIX_FIRST}
    for code, subcode, retry in rows:
        info = explain(code, subcode)
        assert info is not None, (code, subcode)
        assert info.retry is mapping[retry], (code, subcode)


def test_lookups() -> None:
    """Subcodes fall back to their code, 2xx permission codes share 200, unknown codes are None."""
    assert explain(190, 463).subcode == 463
    assert explain(190, 999).subcode is None and explain(190, 999).code == 190
    assert explain(294).code == 200
    assert explain(999999) is None and explain(None) is None
    assert explain(131047).action.startswith("Send an approved template")
    assert explain(17).retryable  # named by issue 4 among the transient codes
    assert all(info.meaning and info.action for info in CATALOG)
    assert len({(i.code, i.subcode) for i in CATALOG}) == len(CATALOG)
