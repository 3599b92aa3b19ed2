"""How a discreet message looks on the reporter's phone (DESIGN §6): a neutral, silent, protected
cover with a "Buka" button; the content in the same message once it is opened, with "Sembunyikan";
and what a press finds when the content is gone.

The cover says nothing a notification preview or a glance at the chat list could give away: no
word of reports, cases, violence, victims, officers or protection, in either language.
"""

from __future__ import annotations

import json
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callback_data import OpenPress
from bot.i18n import translator


class DiscreetView:
    """``bot.services.to_reporter.DiscreetViews`` for Telegram."""

    def cover(self, sealed_id: int, language: str) -> dict[str, Any]:
        """The message as it arrives, and as it is again after ``privacy.reveal_minutes``."""
        _ = translator(language)
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(
            _("📖 Open"), callback_data=OpenPress(sealed_id, "open").pack())]])
        return {"text": "🔔 " + _("You have a new message. Tap “Open” to read it."),
                "reply_markup": markup.to_dict()}

    def revealed(self, sealed_id: int, content: str, language: str,
                 minutes: float) -> dict[str, Any]:
        """The cover edited to show the content (``content``: its Bot API parameters as JSON),
        with its own buttons and "Sembunyikan"."""
        _ = translator(language)
        params: dict[str, Any] = json.loads(content)
        footer = _("Hidden again by itself in {minutes} minutes.").format(minutes=f"{minutes:g}")
        text = str(params.get("text", ""))
        html = params.get("parse_mode") == "HTML"
        params["text"] = text + "\n\n" + (f"<i>{footer}</i>" if html else footer)
        rows = list((params.get("reply_markup") or {}).get("inline_keyboard", []))
        rows.append([InlineKeyboardButton("🙈 " + _("Hide"), callback_data=OpenPress(
            sealed_id, "hide").pack()).to_dict()])
        params["reply_markup"] = {"inline_keyboard": rows}
        return params


def gone_text(language: str) -> str:
    """A press of "Buka" whose content was deleted (or is not this person's): nothing told."""
    _ = translator(language)
    return _("This message is no longer available.")
