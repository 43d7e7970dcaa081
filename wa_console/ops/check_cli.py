"""`wa-console check`: the readiness checklist, headless, for monitoring and scripts.

Exit codes: 0 ready, 1 not ready, 2 error (no such account, database or network trouble).
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

from wa_console.core.readiness import SIMULATED_LABEL, ItemState

EXIT_READY, EXIT_NOT_READY, EXIT_ERROR = 0, 1, 2
_MARK = {ItemState.OK: "ok", ItemState.FAILING: "FAILING", ItemState.NOT_CHECKED: "not checked",
         ItemState.STALE: "stale"}


def run(db_url: str | None, account: str | None, live: bool, as_json: bool,
        out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    from wa_console.ops.cli_accounts import choose_account, open_store
    from wa_console.ops.context import OpContext
    from wa_console.ops.readiness import load_readiness, run_all_checks

    store = open_store(db_url, err)
    if store is None:
        return EXIT_ERROR
    engine = store.engine
    try:
        summaries = store.list_accounts()
        summary = choose_account(summaries, account, err)
        if summary is None:
            return EXIT_ERROR
        run_result = None
        if live:
            def progress(pct: int, text: str) -> None:
                if not as_json:
                    print(f"  [{pct:3d}%] {text}", file=err)

            run_result = run_all_checks(OpContext(report=progress), store, summary.id)
        readiness = load_readiness(store, summary.id)
        if as_json:
            doc = {"account": summary.name, **readiness.as_dict()}
            if run_result is not None:
                doc["run"] = {"steps": run_result.steps, "stopped_at": run_result.stopped_at,
                              "reason": run_result.reason, "fix": run_result.fix}
            json.dump(doc, out, indent=2, ensure_ascii=False)
            out.write("\n")
        else:
            title = f"{summary.name}" + (f" ({SIMULATED_LABEL})" if readiness.simulated else "")
            print(title, file=out)
            if run_result is not None and run_result.stopped_at:
                print(f"  checks stopped at {run_result.stopped_at}: {run_result.reason}",
                      file=out)
                if run_result.fix:
                    print(f"  fix: {run_result.fix}", file=out)
            width = max(len(item.label) for item in readiness.items)
            for item in readiness.items:
                line = f"  {_MARK[item.state]:<11} {item.label:<{width}}  {item.reason}"
                if item.action is not None and not item.ok:
                    line += f"  → {item.action.label}"
                print(line, file=out)
            for advisory in readiness.advisories:
                print(f"  note        {advisory.reason}", file=out)
            print(readiness.proof_line, file=out)
            print(readiness.headline, file=out)
        return EXIT_READY if readiness.ready else EXIT_NOT_READY
    except Exception as exc:  # a readable line for scripts, never a traceback
        from wa_console.core.redaction import redact

        print(f"error: {type(exc).__name__}: {redact(str(exc))}", file=err)
        return EXIT_ERROR
    finally:
        engine.dispose()
