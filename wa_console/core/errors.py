"""Meta Graph API / WhatsApp error codes: what each means for an admin and what to do.

One catalog, used by the client's typed errors, delivery health and every error panel. Sources:
`shared/meta-api.md` §e (pywa's errors.py, Meta's error-code page, spec examples). Unknown codes
are not guessed at: the caller shows Meta's own message verbatim.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final


class Retry(enum.Enum):
    """What retrying can do for this error."""

    BACKOFF = "retry"  # transient: retry with exponential backoff
    NEVER = "never"  # retrying the same request gives the same answer
    FIX_FIRST = "fix-first"  # configuration must change before anything works


@dataclass(frozen=True)
class ErrorInfo:
    code: int
    subcode: int | None
    meaning: str
    action: str
    retry: Retry

    @property
    def retryable(self) -> bool:
        return self.retry is Retry.BACKOFF


def _e(code: int, meaning: str, action: str, retry: Retry, subcode: int | None = None) -> ErrorInfo:
    return ErrorInfo(code, subcode, meaning, action, retry)


R, N, F = Retry.BACKOFF, Retry.NEVER, Retry.FIX_FIRST

CATALOG: Final[tuple[ErrorInfo, ...]] = (
    _e(0, "Meta could not authenticate the request (AuthException).",
       "Generate a new access token and enter it in the settings.", F),
    _e(1, "Unknown error or a temporary problem at Meta.",
       "Check Meta's status page; retry later; if it persists, check the request.", R),
    _e(2, "The API service is temporarily unavailable.", "Wait and retry.", R),
    _e(3, "The app lacks the capability or permission for this call.",
       "Check the token's scopes (Verify provider shows them via debug_token).", F),
    _e(4, "App-level rate limit reached: too many calls from this app.",
       "Slow down; the console retries after a pause.", R),
    _e(17, "User-level rate limit reached: too many calls with this token.",
       "Slow down; the console retries after a pause.", R),
    _e(10, "Permission denied: the permission was not granted to the app or system user.",
       "Grant whatsapp_business_management and whatsapp_business_messaging to the system user "
       "and generate a new token.", F),
    _e(33, "The phone number was deleted or the parameter value is not valid.",
       "Re-check the phone number ID in API Setup.", N),
    _e(100, "A parameter is invalid (wrong field, ID or request body).",
       "Read the details below and fix the value they name.", N),
    _e(100, "The object ID does not exist, or this token has no permission on it.",
       "Check the WABA, phone number or template ID, and that the system user is assigned to "
       "the WhatsApp account.", N, subcode=33),
    _e(190, "The access token is invalid or has expired.",
       "Enter a new token; a system-user token does not expire.", N),
    _e(190, "The access token was invalidated because the user's password changed.",
       "Generate a new token (preferably a system-user token).", N, subcode=460),
    _e(190, "The access token has expired.",
       "Use a non-expiring system-user token (Business settings → System users).", N,
       subcode=463),
    _e(190, "The access token is invalid: the user logged out or the session was revoked.",
       "Generate a new token.", N, subcode=467),
    _e(200, "A required API permission is missing (e.g. no access to this WhatsApp account).",
       "Assign the WhatsApp Business Account to the system user and add the missing scope.", F),
    _e(368, "Temporarily blocked for a policy violation.",
       "Check Business Support Home / account quality in Meta Business Suite.", N),
    _e(803, "The object was not found.", "Check the ID.", N),
    _e(80007, "The WhatsApp Business Account's rate limit was reached.",
       "Back off; reduce management calls. The console retries after a pause.", R),
    _e(130429, "Cloud API throughput reached (messages per second for this number).",
       "Queue and slow the sends; the console retries after a pause.", R),
    _e(130472, "The recipient is part of a Meta marketing experiment; the message was not sent.",
       "Nothing to fix in the configuration; do not count it as a failure.", N),
    _e(130497, "This WhatsApp account may not message users in that country.",
       "A policy restriction; nothing can be changed through the API.", N),
    _e(131000, "Something went wrong at Meta (unknown error).",
       "Retry; contact Meta support with the fbtrace_id if it persists.", R),
    _e(131005, "Access denied: a permission was removed.",
       "Check the token's permissions and regenerate it.", F),
    _e(131008, "A required parameter is missing.", "Fix the request; the details name it.", N),
    _e(131009, "A parameter value is invalid (e.g. the recipient or phone number ID).",
       "Fix the value the details name.", N),
    _e(131016, "The service is temporarily unavailable.", "Retry later.", R),
    _e(131021, "The recipient is the sender's own number.",
       "Use a different test recipient.", N),
    _e(131026, "Message undeliverable: not on WhatsApp, an old app, terms not accepted, or "
       "the business is blocked.", "Verify the recipient's number and that it uses WhatsApp.", N),
    _e(131030, "The recipient is not in the allowed list of this test number.",
       "Add the number to the recipient list in App Dashboard → WhatsApp → API Setup.", F),
    _e(131031, "The account is locked or the two-step verification PIN does not match.",
       "Check Account Quality; re-register the number with the right PIN.", N),
    _e(131037, "The display name of this 555 number is not approved.",
       "Get the display name approved.", N),
    _e(131042, "Business eligibility: a payment problem on the WhatsApp account.",
       "Add or fix the payment method of the WhatsApp Business Account.", F),
    _e(131045, "Incorrect certificate: the number is not registered properly.",
       "Register the number (POST /{phone-number-id}/register).", F),
    _e(131047, "More than 24 hours have passed since the user last wrote (re-engagement).",
       "Send an approved template instead of a free-form message.", N),
    _e(131048, "Spam rate limit: sends are restricted because of the number's quality.",
       "Check the quality rating and reduce sending.", N),
    _e(131049, "Not delivered to keep the ecosystem healthy (per-user marketing limit).",
       "Wait at least 24 hours; do not resend at once.", N),
    _e(131050, "The user stopped receiving marketing messages from this business.",
       "Respect the opt-out.", N),
    _e(131051, "Unsupported message type.", "Use a supported message type.", N),
    _e(131052, "The user's media could not be downloaded.", "Ask the user to send it again.", N),
    _e(131053, "Our media could not be uploaded.", "Check the media URL, type and size.", N),
    _e(131056, "Too many messages to the same user in a short time (pair rate limit).",
       "Wait before the next message to this user.", R),
    _e(131057, "The account is in maintenance mode.", "Wait and retry.", R),
    _e(132000, "The number of template parameters does not match the template's variables.",
       "Align the header/body parameter keys with the approved template's placeholders.", N),
    _e(132001, "The template does not exist in that language, or is not approved.",
       "Check the template name, the exact language code and its status.", N),
    _e(132005, "The text is too long once the parameters are filled in.",
       "Shorten the parameter values.", N),
    _e(132007, "The template's format or character policy was violated.", "Fix the content.", N),
    _e(132008, "A template parameter value is invalid.", "Fix the parameter values.", N),
    _e(132012, "A parameter's format does not match what the template expects.",
       "Match the parameter types (text, currency, media) and names.", N),
    _e(132015, "The template is paused because of low quality.",
       "Wait, or use another template.", N),
    _e(132016, "The template is disabled (paused too often).", "Create a new template.", N),
    _e(133000, "A previous deregistration did not complete.",
       "Deregister fully, then register again.", F),
    _e(133004, "The server is temporarily unavailable.", "Retry later.", R),
    _e(133010, "The phone number is not registered with the Cloud API.",
       "Register it: POST /{phone-number-id}/register with the 6-digit PIN.", F),
    _e(133016, "Too many register/deregister attempts.", "Wait a few hours, then retry.", R),
    _e(135000, "A generic user error.",
       "Check the request; contact Meta with the fbtrace_id if it persists.", N),
    _e(2494100, "Not confirmed (reported with template creation and limits).",
       "Read Meta's message and details below.", N),
)

_BY_KEY: Final[dict[tuple[int, int | None], ErrorInfo]] = {
    (info.code, info.subcode): info for info in CATALOG
}


def explain(code: int | None, subcode: int | None = None) -> ErrorInfo | None:
    """The catalog entry for a code (and subcode); None for codes the catalog does not know.

    A subcode without an entry of its own falls back to the code's entry; codes 200–299 are the
    permission family and share code 200's entry.
    """
    if code is None:
        return None
    found = _BY_KEY.get((code, subcode)) or _BY_KEY.get((code, None))
    if found is None and 200 <= code <= 299:
        found = _BY_KEY[(200, None)]
    return found


def is_transient_code(code: int | None) -> bool:
    info = explain(code)
    return info is not None and info.retryable
