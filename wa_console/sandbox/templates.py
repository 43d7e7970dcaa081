"""Message template rules: what a create/edit must look like (checked at once, error 100),
what the review rejects (INVALID_FORMAT, meta-api.md §d), and what a send must supply
(132000 / 132012, §e).

Components are stored the way Graph returns them: `type`/`format` upper case, examples kept.
"""

from __future__ import annotations

import re
from typing import Any

from wa_console.sandbox.errors import GraphError

__all__ = [
    "CATEGORIES",
    "LANGUAGES",
    "PARAMETER_FORMATS",
    "check_send",
    "normalise_components",
    "placeholders",
    "review_problems",
    "validate_name",
]

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
PARAMETER_FORMATS = ("POSITIONAL", "NAMED")
# Locale codes Meta accepts for templates (its "supported languages" list).
LANGUAGES = frozenset(["af", "sq", "ar", "ar_EG", "ar_AE", "ar_LB", "ar_MA", "ar_QA", "az", "be_BY", "bn", "bn_IN", "bg", "ca", "zh_CN", "zh_HK", "zh_TW", "hr", "cs", "da", "prs_AF", "nl", "nl_BE", "en", "en_GB", "en_US", "en_AE", "en_AU", "en_CA", "en_GH", "en_IE", "en_IN", "en_JM", "en_MY", "en_NZ", "en_QA", "en_SG", "en_UG", "en_ZA", "et", "fil", "fi", "fr", "fr_BE", "fr_CA", "fr_CH", "fr_CI", "fr_MA", "ka", "de", "de_AT", "de_CH", "el", "gu", "ha", "he", "hi", "hu", "id", "ga", "it", "ja", "kn", "kk", "rw_RW", "ko", "ky_KG", "lo", "lv", "lt", "mk", "ms", "ml", "mr", "nb", "ps_AF", "fa", "pl", "pt_BR", "pt_PT", "pa", "ro", "ru", "sr", "si_LK", "sk", "sl", "es", "es_AR", "es_CL", "es_CO", "es_CR", "es_DO", "es_EC", "es_HN", "es_MX", "es_PA", "es_PE", "es_ES", "es_UY", "sw", "sv", "ta", "te", "th", "tr", "uk", "ur", "uz", "vi", "zu"])
NAME_RE = re.compile(r"^[a-z0-9_]{1,512}$")
PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
ADJACENT_RE = re.compile(r"\}\}\s*\{\{")
NAMED_PARAM_RE = re.compile(r"^[a-z][a-z0-9_]*$")
COMPONENT_TYPES = ("HEADER", "BODY", "FOOTER", "BUTTONS", "CAROUSEL", "LIMITED_TIME_OFFER")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION", "GIF", "PRODUCT")
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT", "GIF")
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP", "FLOW", "MPM",
                "CATALOG", "VOICE_CALL", "SPM", "APP")
BAD_VALUE_RE = re.compile(r"[\n\t]| {5,}")


def placeholders(text: str | None) -> list[str]:
    """The variable names in `text`, in order: `["1", "2"]` or `["first_name"]`."""
    return PLACEHOLDER_RE.findall(text or "")


def validate_name(name: Any) -> str:
    if name is None or name == "":
        raise GraphError.required("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise GraphError.invalid_param(
            "Invalid parameter", subcode=2388042 if isinstance(name, str) else None,
            user_title="Invalid template name",
            user_msg="Template names can only contain lowercase letters, numbers and "
                     "underscores, up to 512 characters.")
    return name


def validate_language(language: Any) -> str:
    if language is None or language == "":
        raise GraphError.required("language")
    if not isinstance(language, str) or language not in LANGUAGES:
        raise GraphError.invalid_param(
            "Invalid parameter", user_title="Invalid language",
            user_msg=f"The language {language!r} is not supported for message templates.")
    return language


def validate_category(category: Any) -> str:
    if category is None or category == "":
        raise GraphError.required("category")
    value = category.upper() if isinstance(category, str) else category
    if value not in CATEGORIES:
        raise GraphError.invalid_param(
            f"Param category must be one of {{{', '.join(CATEGORIES)}}} - got \"{category}\".")
    return value


def validate_parameter_format(value: Any) -> str:
    if value is None or value == "":
        return "POSITIONAL"
    upper = value.upper() if isinstance(value, str) else value
    if upper not in PARAMETER_FORMATS:
        raise GraphError.invalid_param(
            f"Param parameter_format must be one of {{POSITIONAL, NAMED}} - got \"{value}\".")
    return upper


def _structure_error(message: str) -> GraphError:
    return GraphError.invalid_param("Invalid parameter", subcode=2388043,
                                    user_title="Message template components are invalid",
                                    user_msg=message)


def normalise_components(components: Any, category: str) -> list[dict[str, Any]]:
    """Structural checks done at once by Meta (error 100); returns the components as stored."""
    if components is None or components == []:
        raise GraphError.required("components")
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise GraphError.invalid_param("Param components must be an array of objects")
    seen: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    for raw in components:
        comp = dict(raw)
        ctype = comp.get("type")
        if not isinstance(ctype, str) or ctype.upper() not in COMPONENT_TYPES:
            raise _structure_error(f"Unknown component type {ctype!r}; use one of "
                                   f"{', '.join(COMPONENT_TYPES)}.")
        ctype = comp["type"] = ctype.upper()
        seen[ctype] = seen.get(ctype, 0) + 1
        if seen[ctype] > 1:
            raise _structure_error(f"A template can have only one {ctype} component.")
        if ctype == "HEADER":
            fmt = comp.get("format", "TEXT")
            if not isinstance(fmt, str) or fmt.upper() not in HEADER_FORMATS:
                raise _structure_error(f"Unknown header format {fmt!r}.")
            comp["format"] = fmt.upper()
            if comp["format"] == "TEXT":
                text = comp.get("text")
                if not isinstance(text, str) or not text:
                    raise _structure_error("A TEXT header needs its text.")
                if len(text) > 60:
                    raise _structure_error("Header text can be at most 60 characters.")
        elif ctype == "BODY":
            text = comp.get("text")
            if category != "AUTHENTICATION" and (not isinstance(text, str) or not text.strip()):
                raise _structure_error("The BODY component needs its text.")
            if isinstance(text, str) and len(text) > 1024:
                raise _structure_error("Body text can be at most 1024 characters.")
        elif ctype == "FOOTER":
            text = comp.get("text")
            if text is not None and (not isinstance(text, str) or len(text) > 60):
                raise _structure_error("Footer text can be at most 60 characters.")
        elif ctype == "BUTTONS":
            buttons = comp.get("buttons")
            if not isinstance(buttons, list) or not buttons or len(buttons) > 10:
                raise _structure_error("BUTTONS needs 1 to 10 buttons.")
            kinds: dict[str, int] = {}
            normalised = []
            for button in buttons:
                if not isinstance(button, dict):
                    raise _structure_error("Each button must be an object.")
                button = dict(button)
                btype = button.get("type")
                if not isinstance(btype, str) or btype.upper() not in BUTTON_TYPES:
                    raise _structure_error(f"Unknown button type {btype!r}.")
                btype = button["type"] = btype.upper()
                kinds[btype] = kinds.get(btype, 0) + 1
                text = button.get("text")
                if btype not in ("OTP", "MPM", "CATALOG") and (
                        not isinstance(text, str) or not text):
                    raise _structure_error(f"A {btype} button needs its text.")
                if isinstance(text, str) and len(text) > 25:
                    raise _structure_error("Button text can be at most 25 characters.")
                if btype == "URL" and not isinstance(button.get("url"), str):
                    raise _structure_error("A URL button needs its url.")
                if btype == "PHONE_NUMBER" and not isinstance(button.get("phone_number"), str):
                    raise _structure_error("A PHONE_NUMBER button needs its phone_number.")
                normalised.append(button)
            if kinds.get("URL", 0) > 2 or kinds.get("PHONE_NUMBER", 0) > 1:
                raise _structure_error("At most 2 URL buttons and 1 PHONE_NUMBER button.")
            comp["buttons"] = normalised
        out.append(comp)
    if "BODY" not in seen:
        raise _structure_error("A template needs a BODY component.")
    order = {t: i for i, t in enumerate(COMPONENT_TYPES)}
    out.sort(key=lambda c: order[c["type"]])
    return out


# --- review -----------------------------------------------------------------------------------

def _examples_named(example: Any, key: str) -> dict[str, Any]:
    items = example.get(key) if isinstance(example, dict) else None
    if not isinstance(items, list):
        return {}
    return {i.get("param_name"): i.get("example") for i in items if isinstance(i, dict)}


def _check_vars(where: str, names: list[str], parameter_format: str) -> list[str]:
    problems = []
    if not names:
        return problems
    numeric = [n for n in names if n.isdigit()]
    if parameter_format == "POSITIONAL":
        if len(numeric) != len(names):
            problems.append(f"{where}: named or malformed variables in a POSITIONAL template "
                            f"({', '.join(names)})")
        elif [int(n) for n in names] != list(range(1, len(names) + 1)):
            problems.append(f"{where}: variables must be {{{{1}}}}, {{{{2}}}}, ... in order, "
                            f"without gaps or repeats (got {', '.join(names)})")
    else:
        if numeric:
            problems.append(f"{where}: positional variables in a NAMED template "
                            f"({', '.join(numeric)})")
        bad = [n for n in names if not n.isdigit() and not NAMED_PARAM_RE.match(n)]
        if bad:
            problems.append(f"{where}: variable names must be lowercase letters, digits and "
                            f"underscores ({', '.join(bad)})")
        if len(set(names)) != len(names):
            problems.append(f"{where}: a variable name is used twice")
    return problems


def review_problems(components: list[dict[str, Any]], parameter_format: str,
                    category: str) -> list[str]:
    """Why the review would reject these components as INVALID_FORMAT (empty list = fine)."""
    problems: list[str] = []
    for comp in components:
        ctype = comp.get("type")
        example = comp.get("example")
        if ctype == "HEADER":
            fmt = comp.get("format")
            if fmt == "TEXT":
                names = placeholders(comp.get("text"))
                if len(names) > 1:
                    problems.append("header: at most one variable")
                problems += _check_vars("header", names, parameter_format)
                if names:
                    if parameter_format == "NAMED":
                        given = _examples_named(example, "header_text_named_params")
                        if any(not isinstance(given.get(n), str) for n in names):
                            problems.append("header: header_text_named_params example missing")
                    else:
                        ex = example.get("header_text") if isinstance(example, dict) else None
                        if not isinstance(ex, list) or len(ex) != len(names) or not all(
                                isinstance(v, str) and v for v in ex):
                            problems.append("header: header_text example missing")
            elif fmt in MEDIA_FORMATS:
                handles = example.get("header_handle") if isinstance(example, dict) else None
                if not isinstance(handles, list) or not handles:
                    problems.append(f"header: a {fmt} header needs example.header_handle")
        elif ctype == "BODY":
            text = comp.get("text") or ""
            names = placeholders(text)
            if category == "AUTHENTICATION":
                continue  # Meta writes authentication bodies itself
            problems += _check_vars("body", names, parameter_format)
            stripped = text.strip()
            if names and (PLACEHOLDER_RE.match(stripped) or re.search(r"\{\{[^{}]*\}\}$",
                                                                      stripped)):
                problems.append("body: may not start or end with a variable")
            if ADJACENT_RE.search(text):
                problems.append("body: two variables next to each other")
            if names:
                if parameter_format == "NAMED":
                    given = _examples_named(example, "body_text_named_params")
                    if any(not isinstance(given.get(n), str) or not given.get(n)
                           for n in names):
                        problems.append("body: body_text_named_params example missing")
                else:
                    ex = example.get("body_text") if isinstance(example, dict) else None
                    row = ex[0] if isinstance(ex, list) and ex else None
                    if not isinstance(row, list) or len(row) != len(set(names)) or not all(
                            isinstance(v, str) and v for v in row):
                        problems.append("body: body_text example missing or wrong length")
        elif ctype == "FOOTER":
            if placeholders(comp.get("text")):
                problems.append("footer: variables are not allowed")
        elif ctype == "BUTTONS":
            for i, button in enumerate(comp.get("buttons") or []):
                if button.get("type") == "URL":
                    url = button.get("url") or ""
                    names = placeholders(url)
                    if names:
                        if names != ["1"] or not url.rstrip().endswith("}}"):
                            problems.append(f"button {i}: a URL may have one {{{{1}}}} at its end")
                        ex = button.get("example")
                        if not isinstance(ex, list) or not ex:
                            problems.append(f"button {i}: URL variable example missing")
                elif placeholders(button.get("text")):
                    problems.append(f"button {i}: variables are not allowed in button text")
    return problems


# --- sending ----------------------------------------------------------------------------------

def _expected(template_components: list[dict[str, Any]]) -> dict[str, Any]:
    """What a send must supply: header kind + names, body names, button params by index."""
    header_kind, header_names, body_names = None, [], []
    buttons: dict[int, tuple[str, int]] = {}  # index -> (sub_type, required params: 0 or 1)
    for comp in template_components:
        if comp.get("type") == "HEADER":
            fmt = comp.get("format")
            if fmt == "TEXT":
                header_names = placeholders(comp.get("text"))
                header_kind = "text" if header_names else None
            elif fmt in MEDIA_FORMATS or fmt == "LOCATION":
                header_kind = "image" if fmt == "GIF" else fmt.lower()
                header_names = ["1"]
        elif comp.get("type") == "BODY":
            body_names = placeholders(comp.get("text"))
        elif comp.get("type") == "BUTTONS":
            for i, button in enumerate(comp.get("buttons") or []):
                btype = button.get("type")
                if btype == "URL":
                    buttons[i] = ("url", 1 if placeholders(button.get("url")) else 0)
                elif btype == "QUICK_REPLY":
                    buttons[i] = ("quick_reply", 0)
                elif btype in ("COPY_CODE", "OTP"):
                    buttons[i] = (btype.lower(), 1)
                else:
                    buttons[i] = (btype.lower() if isinstance(btype, str) else "", 0)
    return {"header_kind": header_kind, "header": header_names, "body": body_names,
            "buttons": buttons}


def _mismatch(details: str) -> GraphError:
    return GraphError(132000, "(#132000) Number of parameters does not match the expected "
                              "number of params", details=details, messaging=True)


def _format_mismatch(details: str) -> GraphError:
    return GraphError(132012, "(#132012) Parameter format does not match format in the "
                              "created template", details=details, messaging=True)


def _check_params(where: str, params: list[Any], names: list[str], kind: str,
                  parameter_format: str) -> None:
    if len(params) != len(names):
        raise _mismatch(f"{where}: number of localizable_params ({len(params)}) does not match "
                        f"the expected number of params ({len(names)})")
    given_names = []
    for i, param in enumerate(params):
        if not isinstance(param, dict):
            raise GraphError.invalid_param("Invalid parameter", messaging=True,
                                           details=f"{where}: parameter {i} is not an object")
        ptype = param.get("type")
        if kind == "text":
            if ptype not in ("text", "currency", "date_time"):
                raise _format_mismatch(f"{where}: parameter {i} has type {ptype!r}; the "
                                       "template expects text")
            if ptype == "text":
                value = param.get("text")
                if not isinstance(value, str) or not value:
                    raise GraphError(131008, "(#131008) Required parameter is missing",
                                     details=f"{where}: parameter {i} text is missing",
                                     messaging=True)
                if BAD_VALUE_RE.search(value):
                    raise GraphError.invalid_param(
                        "Invalid parameter", messaging=True,
                        details="Param text cannot have new-line/tab characters or more than "
                                "4 consecutive spaces")
        elif ptype != kind:
            raise _format_mismatch(f"{where}: parameter {i} has type {ptype!r}; the template "
                                   f"expects {kind}")
        if parameter_format == "NAMED" and kind == "text":
            pname = param.get("parameter_name")
            if not isinstance(pname, str) or not pname:
                raise _format_mismatch(f"{where}: parameter {i} has no parameter_name; this "
                                       "template uses NAMED parameters")
            given_names.append(pname)
    if parameter_format == "NAMED" and kind == "text" and sorted(given_names) != sorted(names):
        raise _format_mismatch(f"{where}: parameter names {sorted(given_names)} do not match "
                               f"the template's {sorted(names)}")


def check_send(template_components: list[dict[str, Any]], parameter_format: str,
               components: Any) -> None:
    """Validate the `template.components` of a send against the approved template."""
    expected = _expected(template_components)
    if components is None:
        components = []
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise GraphError.invalid_param("Invalid parameter", messaging=True,
                                       details="template['components'] must be an array")
    header: list[Any] = []
    body: list[Any] = []
    buttons: dict[int, list[Any]] = {}
    for comp in components:
        ctype = str(comp.get("type", "")).lower()
        params = comp.get("parameters", [])
        if not isinstance(params, list):
            raise GraphError.invalid_param("Invalid parameter", messaging=True,
                                           details=f"{ctype}: parameters must be an array")
        if ctype == "header":
            header = params
        elif ctype == "body":
            body = params
        elif ctype == "button":
            try:
                index = int(comp.get("index"))
            except (TypeError, ValueError):
                raise GraphError(131008, "(#131008) Required parameter is missing",
                                 details="button: index is missing", messaging=True) from None
            if index not in expected["buttons"]:
                raise _mismatch(f"button at index {index}: the template has no such button")
            sub_type = str(comp.get("sub_type", "")).lower()
            want = expected["buttons"][index][0]
            if sub_type != want:
                raise _format_mismatch(f"button at index {index}: sub_type {sub_type!r} does "
                                       f"not match the template's {want!r} button")
            buttons[index] = params
        else:
            raise GraphError.invalid_param("Invalid parameter", messaging=True,
                                           details=f"Unknown component type {ctype!r}")
    kind = expected["header_kind"]
    if kind is None:
        if header:
            raise _mismatch(f"header: number of localizable_params ({len(header)}) does not "
                            "match the expected number of params (0)")
    else:
        _check_params("header", header, expected["header"], kind,
                      parameter_format if kind == "text" else "POSITIONAL")
    _check_params("body", body, expected["body"], "text", parameter_format)
    for index, (sub_type, required) in expected["buttons"].items():
        given = buttons.get(index, [])
        if sub_type == "quick_reply":
            if len(given) > 1:
                raise _mismatch(f"button at index {index}: a quick reply takes one payload")
            continue
        if len(given) != required:
            raise _mismatch(f"button at index {index}: number of params ({len(given)}) does "
                            f"not match the expected number of params ({required})")
