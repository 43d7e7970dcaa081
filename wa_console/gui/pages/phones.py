"""The Phone numbers page: the synced phone numbers of the account's WABA as identity cards.

Each card shows the display number, verified name and phone number ID, with badges for quality
rating, status, name status, messaging tier and throughput. The configured phone number (the
account's `phone_number_id`) is highlighted. The data is what the last Sync channel account
stored; reading it happens on `ctx.storage_pool` through `run_task`.

Signals:
    data_changed(): never emitted (the page only reads); there for the page contract.
    refreshed(): a refresh finished and is on screen (its result or its error).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from wa_console.gui.pages import PageContext
from wa_console.gui.tasks import run_task, while_alive
from wa_console.gui.widgets import simulated_badge

EMPTY_TEXT: Final = "Not synced yet — use Sync channel account"

GOOD: Final = "#1b7f3b"
WARN: Final = "#a15c00"
BAD: Final = "#b3261e"
NEUTRAL: Final = "#5f6368"
HIGHLIGHT: Final = "#1a73e8"

QUALITY_COLOUR: Final[Mapping[str, str]] = {"GREEN": GOOD, "YELLOW": WARN, "RED": BAD}
STATUS_COLOUR: Final[Mapping[str, str]] = {
    "CONNECTED": GOOD, "FLAGGED": WARN, "RESTRICTED": WARN, "RATE_LIMITED": WARN,
    "BANNED": BAD, "DISCONNECTED": BAD, "DELETED": BAD, "UNVERIFIED": WARN, "PENDING": WARN}
NAME_STATUS_COLOUR: Final[Mapping[str, str]] = {
    "APPROVED": GOOD, "AVAILABLE_WITHOUT_REVIEW": GOOD, "PENDING_REVIEW": WARN,
    "DECLINED": BAD, "EXPIRED": BAD, "NONE": BAD, "NAME_NOT_APPROVED": BAD}

BADGES: Final = ("quality", "status", "name_status", "tier", "throughput")


def _badge_style(colour: str) -> str:
    return (f"color: {colour}; border: 1px solid {colour}; border-radius: 8px; "
            "padding: 1px 8px;")


def _tier_text(tier: str | None) -> str:
    if not tier:
        return "Tier: unknown"
    return "Tier: " + (tier.removeprefix("TIER_") if tier.startswith("TIER_") else tier)


class PhoneCard(QFrame):
    """One phone number's identity card. `badges` maps a name of `BADGES` to its label."""

    def __init__(self, phone: Any, configured: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.meta_id: str = phone.meta_id
        self.configured = configured
        self.setObjectName(f"phone_{phone.meta_id}")
        self.setProperty("configured", configured)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        border = f"2px solid {HIGHLIGHT}" if configured else "1px solid #c4c7c5"
        self.setStyleSheet(f"#phone_{phone.meta_id} {{ border: {border}; border-radius: 6px; }}")
        layout = QVBoxLayout(self)

        head = QHBoxLayout()
        self.number = QLabel(phone.display_phone_number or "(no display number)")
        self.number.setObjectName("displayNumber")
        font = self.number.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.number.setFont(font)
        self.number.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head.addWidget(self.number)
        head.addStretch(1)
        self.configured_label = QLabel("Configured number")
        self.configured_label.setObjectName("configuredLabel")
        self.configured_label.setStyleSheet(_badge_style(HIGHLIGHT))
        self.configured_label.setToolTip("The phone number ID in this account's settings")
        self.configured_label.setVisible(configured)
        head.addWidget(self.configured_label)
        layout.addLayout(head)

        self.name = QLabel(phone.verified_name or "(no verified name)")
        self.name.setObjectName("verifiedName")
        layout.addWidget(self.name)
        self.phone_id = QLabel(f"Phone number ID: {phone.meta_id}")
        self.phone_id.setObjectName("phoneNumberId")
        self.phone_id.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.phone_id)

        row = QHBoxLayout()
        quality = (phone.quality_rating or "UNKNOWN").upper()
        status = (phone.status or "UNKNOWN").upper()
        name_status = (phone.name_status or "UNKNOWN").upper()
        specs = {
            "quality": (f"Quality: {quality}", QUALITY_COLOUR.get(quality, NEUTRAL),
                        "Quality rating from Meta (GREEN high, YELLOW medium, RED low)"),
            "status": (f"Status: {status}", STATUS_COLOUR.get(status, NEUTRAL),
                       "The number's status at Meta"),
            "name_status": (f"Name: {name_status}", NAME_STATUS_COLOUR.get(name_status, NEUTRAL),
                            "Review status of the display name"),
            "tier": (_tier_text(phone.messaging_limit_tier), NEUTRAL,
                     "Messaging limit: business-initiated conversations per 24 h"),
            "throughput": (f"Throughput: {phone.throughput_level or 'unknown'}", NEUTRAL,
                           "Messages per second the number may send"),
        }
        self.badges: dict[str, QLabel] = {}
        for key in BADGES:
            text, colour, tip = specs[key]
            badge = QLabel(text)
            badge.setObjectName(f"badge_{key}")
            badge.setProperty("colour", colour)
            badge.setStyleSheet(_badge_style(colour))
            badge.setToolTip(tip)
            row.addWidget(badge)
            self.badges[key] = badge
        row.addStretch(1)
        layout.addLayout(row)


class PhonesPage(QWidget):
    """The synced phone numbers as identity cards (`cards`: by phone number ID)."""

    data_changed = Signal()
    refreshed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("phonesPage")
        self.ctx: PageContext | None = None
        self.cards: dict[str, PhoneCard] = {}
        self.configured_id: str | None = None
        self._generation = 0

        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        self.title = QLabel("Phone numbers")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.title.setFont(font)
        top.addWidget(self.title, 1)
        self.simulated = simulated_badge(
            "These numbers come from the local sandbox emulator, not Meta.")
        self.simulated.hide()
        top.addWidget(self.simulated)
        outer.addLayout(top)

        self.message = QLabel()
        self.message.setObjectName("phonesMessage")
        self.message.setWordWrap(True)
        outer.addWidget(self.message)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.container = QWidget()
        self.card_layout = QVBoxLayout(self.container)
        self.card_layout.addStretch(1)
        scroll.setWidget(self.container)
        outer.addWidget(scroll, 1)
        self._show_message("No account selected")

    # --- the page contract --------------------------------------------------------------------
    def set_context(self, ctx: PageContext | None) -> None:
        """Show another account's numbers (None: no account)."""
        self.ctx = ctx
        self._generation += 1
        self._set_cards([], None)
        self.simulated.setVisible(bool(ctx and ctx.sandbox))
        if ctx is None:
            self._show_message("No account selected")
            return
        self.refresh()

    def refresh(self) -> None:
        """Reload the synced numbers and the configured phone number ID on the storage pool."""
        ctx = self.ctx
        if ctx is None:
            return
        self._generation += 1
        generation = self._generation

        def work(_task: Any) -> tuple[list[Any], str | None]:
            from wa_console.store.synced import phone_numbers

            configured = ctx.store.get(ctx.account_id).values.get("phone_number_id")
            return phone_numbers(ctx.store.engine, ctx.account_id), configured

        if not self.cards:
            self._show_message("Loading…")
        run_task(work, pool=ctx.storage_pool,
                 on_success=while_alive(self, lambda result: self._loaded(generation, *result)),
                 on_failure=while_alive(self, lambda exc: self._failed(generation, exc)))

    # --- showing --------------------------------------------------------------------------------
    def _loaded(self, generation: int, phones: Sequence[Any], configured: str | None) -> None:
        if generation != self._generation or self.ctx is None:
            return
        ordered = sorted(phones, key=lambda p: (p.meta_id != configured,
                                                p.display_phone_number or "", p.meta_id))
        self._set_cards(ordered, configured)
        if not ordered:
            self._show_message(EMPTY_TEXT)
        else:
            n = len(ordered)
            synced = max(p.synced_at for p in ordered)
            when = synced.strftime("%Y-%m-%d %H:%M UTC")
            note = "" if configured in self.cards else (
                " The configured phone number ID is not among them.")
            self._show_message(f"{n} phone number{'s' if n != 1 else ''} of the WhatsApp "
                               f"Business Account, as of the last sync ({when}).{note}")
        self.simulated.setVisible(self.ctx.sandbox or any(p.simulated for p in ordered))
        self.refreshed.emit()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._show_message(f"Could not load the phone numbers: {exc}")
        self.refreshed.emit()

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _set_cards(self, phones: Sequence[Any], configured: str | None) -> None:
        for card in self.cards.values():
            self.card_layout.removeWidget(card)
            card.deleteLater()
        self.cards = {}
        self.configured_id = configured
        for phone in phones:
            card = PhoneCard(phone, phone.meta_id == configured)
            self.card_layout.insertWidget(self.card_layout.count() - 1, card)
            card.show()  # now a child: shown at once, not on the layout's queued show
            self.cards[phone.meta_id] = card
