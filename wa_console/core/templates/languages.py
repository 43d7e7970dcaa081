"""Meta's message-template language codes.

The list is Meta's "Supported languages" table for WhatsApp message templates (docs; the same
codes pywa's `TemplateLanguage` enum carries). Meta's newer regional variants (e.g. `en_AU`,
`es_CO`, `fr_CA`) are included as listed in the current docs **[docs; not in the OpenAPI spec]**.
A send must use the exact approved code, so the lint rejects anything not listed here and suggests
the close spelling the admin probably meant (`en-US` → `en_US`).
"""

from __future__ import annotations

from typing import Final

LANGUAGE_CODES: Final[frozenset[str]] = frozenset(
    {
        # The long-standing table.
        "af", "sq", "ar", "az", "bn", "bg", "ca", "zh_CN", "zh_HK", "zh_TW", "hr", "cs", "da",
        "nl", "en", "en_GB", "en_US", "et", "fil", "fi", "fr", "ka", "de", "el", "gu", "ha", "he",
        "hi", "hu", "id", "ga", "it", "ja", "kn", "kk", "rw_RW", "ko", "ky_KG", "lo", "lv", "lt",
        "mk", "ms", "ml", "mr", "nb", "fa", "pl", "pt_BR", "pt_PT", "pa", "ro", "ru", "sr", "sk",
        "sl", "es", "es_AR", "es_ES", "es_MX", "sw", "sv", "ta", "te", "th", "tr", "uk", "ur",
        "uz", "vi", "zu",
        # Regional variants added later [docs].
        "ar_EG", "ar_AE", "ar_LB", "ar_MA", "ar_QA", "en_AE", "en_AU", "en_CA", "en_GH", "en_IE",
        "en_IN", "en_JM", "en_MY", "en_NZ", "en_QA", "en_SG", "en_UG", "en_ZA", "es_CL", "es_CO",
        "es_CR", "es_DO", "es_EC", "es_HN", "es_PA", "es_PE", "es_UY", "fr_BE", "fr_CA", "fr_CH",
        "fr_CI", "fr_MA", "de_AT", "de_CH", "it_CH", "nl_BE", "pt_AO", "zh_SG",
    }
)

# Lookup by the case-folded, underscore-normalised spelling, for "did you mean" suggestions.
_BY_FOLDED: Final[dict[str, str]] = {code.casefold(): code for code in LANGUAGE_CODES}


def is_language_code(code: str) -> bool:
    """Whether `code` is exactly one of Meta's template language codes."""
    return code in LANGUAGE_CODES


def suggest_language_code(code: str) -> str | None:
    """The listed code an admin most likely meant by `code`, or None.

    Handles the usual slips: a hyphen instead of an underscore (`en-US`), wrong case (`EN_us`),
    surrounding spaces. Does not guess beyond spelling: `english` gives None.
    """
    folded = code.strip().replace("-", "_").casefold()
    return _BY_FOLDED.get(folded)
