#!/usr/bin/env python3
"""Per keystroke in the template editor: lint + preview + payload rebuild of a 1,024-character
body with 10 variables, against a floor that only substitutes the samples with one regex and
serialises a minimal payload (what any editor must do at the least).

Targets (issue 6): <= 4 ms median and <= 16 ms worst per keystroke, so typing never lags.
Usage: python benchmarks/lint_preview.py [--keystrokes 400]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wa_console.core.templates.lint import lint
from wa_console.core.templates.model import Category, TemplateDraft
from wa_console.core.templates.payload import create_request, send_request
from wa_console.core.templates.preview import render

_VAR = re.compile(r"\{\{(\d+)\}\}")


def make_body(length: int = 1024, variables: int = 10) -> str:
    words = ("Dear parent, your child's attendance this week needs attention. Please check the "
             "school portal for details and contact the office if anything is unclear. ")
    pieces = []
    for i in range(1, variables + 1):
        pieces.append(f"Item {i}: {{{{{i}}}}} is noted. ")
    text = "Hello " + "".join(pieces)
    while len(text) < length - 20:
        text += words
    return text[: length - 8].rstrip() + " Thanks."


def drafts(body: str, keystrokes: int) -> list[TemplateDraft]:
    """The drafts the editor sees while the admin types the last `keystrokes` characters."""
    keys = tuple(f"v{i}" for i in range(1, 11))
    base = TemplateDraft(name="attendance_notice", language="en_US", category=Category.UTILITY,
                         body=body, body_keys=keys,
                         samples={k: f"sample {k}" for k in keys})
    cut = len(body) - keystrokes
    return [replace(base, body=body[: cut + n]) for n in range(1, keystrokes + 1)]


def console(draft: TemplateDraft) -> None:
    lint(draft)
    render(draft)
    create_request(draft)
    try:
        send_request(draft, "15551234567")
    except ValueError:
        pass  # a half-typed placeholder has no value yet; lint says so


def floor(draft: TemplateDraft) -> None:
    text = _VAR.sub(lambda m: draft.samples.get(f"v{m.group(1)}", ""), draft.body)
    json.dumps({"name": draft.name, "components": [{"type": "BODY", "text": text}]})


def timed(fn, items: list[TemplateDraft]) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keystrokes", type=int, default=400)
    args = parser.parse_args()
    body = make_body()
    items = drafts(body, args.keystrokes)
    timed(console, items[:20]), timed(floor, items[:20])  # warm up
    ours, base = [], []
    for _ in range(3):  # interleaved rounds
        ours += timed(console, items)
        base += timed(floor, items)
    m_ours, m_base = statistics.median(ours), statistics.median(base)
    print(f"body {len(body)} chars, 10 variables, {len(ours)} keystrokes (3 interleaved rounds)")
    print(f"floor (regex substitute + json):   median {m_base:6.3f} ms  max {max(base):6.3f} ms")
    print(f"lint + preview + payloads:         median {m_ours:6.3f} ms  max {max(ours):6.3f} ms"
          f"  ratio {m_ours / m_base:5.1f}x  (target median <= 4 ms, worst <= 16 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
