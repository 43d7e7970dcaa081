"""What every side-by-side benchmark shares: interleaved timing and the report lines."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def interleaved(runs: int, **contenders: Callable[[], float | None]) -> dict[str, list[float]]:
    """Run each contender once per round, `runs` rounds, so drift hits all of them alike.

    A contender returns the seconds it measured itself, or None to be timed from outside.
    """
    results: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(runs):
        for name, fn in contenders.items():
            start = time.perf_counter()
            measured = fn()
            results[name].append(measured if measured is not None
                                 else time.perf_counter() - start)
    return results


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def ratio_line(label: str, value_ms: float, floor_ms: float, target: str) -> str:
    return (f"{label:<34} median {value_ms:8.1f} ms   ratio {value_ms / floor_ms:4.2f}x  "
            f"(target {target})")
