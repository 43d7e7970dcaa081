"""The one scanner of `{{…}}` placeholders in template text.

`scan(text)` finds every placeholder and every stray-brace problem in one pass of one compiled
regex, because it runs on every keystroke of a body of up to 1,024 characters. Everything else
(lint, preview, payload, keys fix) reads placeholders through it, so all agree on what counts.

What counts (meta-api.md §d): positional `{{1}}`, `{{2}}`… (digits, no leading zero; `{{0}}` is
scanned as positional so the lint can say "numbering starts at 1"); named `{{first_name}}`
(lowercase letters, digits, underscores, not starting with a digit so it cannot be read as a
number). Anything else between double braces is an INVALID placeholder with a problem that says
why, plus a suggested replacement when one is obvious.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Final

from wa_console.core.templates.model import ParameterFormat


class PlaceholderKind(enum.Enum):
    POSITIONAL = "positional"
    NAMED = "named"
    INVALID = "invalid"  # between double braces, but neither form; see the matching problem


class ProblemKind(enum.Enum):
    """Why some braces are not a usable placeholder. Values are the lint code suffixes."""

    UNBALANCED_OPEN = "unbalanced_open"  # "{{" with no "}}"
    UNBALANCED_CLOSE = "unbalanced_close"  # "}}" with no "{{"
    SINGLE_BRACES = "single_braces"  # {name} or {1}
    TRIPLE_BRACES = "triple_braces"  # {{{1}}}
    SPACES = "spaces"  # {{ 1 }}
    EMPTY = "empty"  # {{}}
    NOT_INTEGER = "not_integer"  # {{1.5}}
    LEADING_ZERO = "leading_zero"  # {{01}}
    BAD_NAME = "bad_name"  # {{First-Name}}


@dataclass(frozen=True)
class Placeholder:
    """One `{{…}}` in the text; `key` is "1" for positional, "first_name" for named."""

    raw: str
    key: str
    kind: PlaceholderKind
    start: int
    end: int


@dataclass(frozen=True)
class BraceProblem:
    """Braces that are not a valid placeholder; `suggestion` replaces text[start:end] if set."""

    kind: ProblemKind
    raw: str
    start: int
    end: int
    suggestion: str | None = None


@dataclass(frozen=True)
class Scan:
    placeholders: tuple[Placeholder, ...]
    problems: tuple[BraceProblem, ...]

    def valid(self) -> tuple[Placeholder, ...]:
        """The positional and named placeholders, in text order."""
        return tuple(p for p in self.placeholders if p.kind is not PlaceholderKind.INVALID)


# Alternatives are tried left to right at each position, so the longest brace runs come first.
_TOKEN: Final = re.compile(
    r"""
      \{\{\{(?P<triple>[^{}]*)\}\}\}            # {{{x}}}
    | \{\{(?P<inner>[^{}]*)\}\}                 # {{x}}: classified below
    | (?P<open>\{\{)                            # {{ not closed before the next brace
    | (?P<close>\}\})                           # }} not opened
    | (?<!\{)\{(?P<single>[\w.\-]+)\}(?!\})     # {name}: a variable in single braces
    """,
    re.VERBOSE,
)
_POSITIONAL: Final = re.compile(r"[1-9][0-9]*|0")
_NAMED: Final = re.compile(r"[a-z_][a-z0-9_]*")
_DIGITS: Final = re.compile(r"[0-9]+")
_DECIMAL: Final = re.compile(r"[0-9]*[.,][0-9]+|[0-9]+[.,]")
_NOT_NAME_CHAR: Final = re.compile(r"[^a-z0-9_]+")


def _classify(inner: str) -> tuple[PlaceholderKind, str, ProblemKind | None, str | None]:
    """(kind, key, problem, suggested inner text) for the text between double braces."""
    if _POSITIONAL.fullmatch(inner):
        return PlaceholderKind.POSITIONAL, inner, None, None
    if _NAMED.fullmatch(inner):
        return PlaceholderKind.NAMED, inner, None, None
    stripped = inner.strip()
    if not stripped:
        return PlaceholderKind.INVALID, inner, ProblemKind.EMPTY, None
    if stripped != inner:
        # Suggest the stripped form only when that form is itself valid.
        _, _, problem, _ = _classify(stripped)
        return PlaceholderKind.INVALID, inner, ProblemKind.SPACES, (
            stripped if problem is None else None)
    if _DIGITS.fullmatch(inner):  # digits but not _POSITIONAL: a leading zero
        return PlaceholderKind.INVALID, inner, ProblemKind.LEADING_ZERO, str(int(inner))
    if _DECIMAL.fullmatch(inner):
        return PlaceholderKind.INVALID, inner, ProblemKind.NOT_INTEGER, None
    name = _NOT_NAME_CHAR.sub("_", inner.lower()).strip("_")
    # Suggest only a name that is itself valid ("First-Name" → "first_name"; "1st" → none).
    return PlaceholderKind.INVALID, inner, ProblemKind.BAD_NAME, (
        name if _NAMED.fullmatch(name) else None)


def scan(text: str) -> Scan:
    """Every placeholder and every brace problem in `text`, in text order."""
    placeholders: list[Placeholder] = []
    problems: list[BraceProblem] = []
    for m in _TOKEN.finditer(text):
        start, end = m.span()
        raw = m.group()
        inner = m.group("inner")
        if inner is not None:
            kind, key, problem, suggestion = _classify(inner)
            placeholders.append(Placeholder(raw, key, kind, start, end))
            if problem is not None:
                fixed = None if suggestion is None else f"{{{{{suggestion}}}}}"
                problems.append(BraceProblem(problem, raw, start, end, fixed))
        elif (triple := m.group("triple")) is not None:
            kind, _, problem, suggestion = _classify(triple)
            fixed = triple if problem is None else suggestion
            problems.append(BraceProblem(
                ProblemKind.TRIPLE_BRACES, raw, start, end,
                None if fixed is None else f"{{{{{fixed}}}}}",
            ))
        elif m.group("open") is not None:
            problems.append(BraceProblem(ProblemKind.UNBALANCED_OPEN, raw, start, end))
        elif m.group("close") is not None:
            problems.append(BraceProblem(ProblemKind.UNBALANCED_CLOSE, raw, start, end))
        else:
            single = m.group("single").strip()
            kind, _, problem, suggestion = _classify(single)
            fixed = single if problem is None else suggestion
            problems.append(BraceProblem(
                ProblemKind.SINGLE_BRACES, raw, start, end,
                None if fixed is None else f"{{{{{fixed}}}}}",
            ))
    return Scan(tuple(placeholders), tuple(problems))


def placeholder_keys(text: str, fmt: ParameterFormat) -> tuple[str, ...]:
    """The parameter keys the text implies: what "take keys from the text" writes.

    Positional: "1".."n" for the highest index n (a gap still counts up to n, so the keys line up
    with the indices the send will use). Named: the names in order of first appearance.
    Placeholders of the other format and invalid ones are ignored.
    """
    if fmt is ParameterFormat.POSITIONAL:
        highest = max(
            (int(p.key) for p in scan(text).placeholders
             if p.kind is PlaceholderKind.POSITIONAL),
            default=0,
        )
        return tuple(str(i) for i in range(1, highest + 1))
    names = (p.key for p in scan(text).placeholders if p.kind is PlaceholderKind.NAMED)
    return tuple(dict.fromkeys(names))
