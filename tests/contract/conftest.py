"""Contract tests read Meta's OpenAPI spec from `shared/meta-openapi/` beside the repo checkout
(CI puts it next to the clone). Without that folder every contract test is skipped, with the
reason shown in the summary (`-ra`), and the rest of the suite is unaffected."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract.spec_harness import SPEC_NAME, load_spec

# tests/contract/conftest.py -> parents[2] is the checkout; its parent holds shared/.
SPEC_DIR = Path(__file__).parents[2].parent / "shared" / "meta-openapi"
SPEC_FILE = SPEC_DIR / SPEC_NAME


@pytest.fixture(scope="session")
def spec_document() -> dict:
    """Meta's spec as plain data, loaded once per session (the file is ~30k lines)."""
    if not SPEC_FILE.is_file():
        pytest.skip(f"Meta's OpenAPI spec not found at {SPEC_FILE} (contract tests need the "
                    "shared/meta-openapi/ folder beside the repo checkout)")
    return load_spec(SPEC_FILE)
