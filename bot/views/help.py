"""Help one message away (DESIGN §6), and the reporter's privacy settings in /bantuan."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callback_data import HelpPress, StartPress
from bot.config import Settings
from bot.i18n import Translate
from bot.views.report import hotlines


def at_hand(settings: Settings, _: Translate,
            reference: str | None = None) -> tuple[str, InlineKeyboardMarkup]:
    """The answer to anything written outside a report: the numbers, and a way on. With
    ``reference`` (someone who reported from this account, without a PIN): how to add to it."""
    lines = [hotlines(settings, _), "",
             _("To tell us what happened, press “Make a report” (or send /lapor); it is "
               "confidential.")]
    if reference is not None:
        lines.append(_("To send a message about your report, reply to one of my messages about "
                       "it (swipe it left), or send <code>/tambah {reference} your message</code>."
                       ).format(reference=escape(reference)))
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton(_("📝 Make a report"), callback_data=StartPress().pack()),
        InlineKeyboardButton("ℹ️ " + _("Help"), callback_data=HelpPress("help").pack()),
    ]])
    return "\n".join(lines), markup


def help_markup(_: Translate) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        "🔒 " + _("Privacy on this phone"), callback_data=HelpPress("privacy").pack())]])


def privacy_settings(_: Translate, discreet: bool, has_pin: bool, known: bool,
                     reported: bool) -> tuple[str, InlineKeyboardMarkup]:
    """Discreet messages on or off, and the PIN. Before a report is started nothing is stored,
    so there is nothing to switch yet: only what will happen is said."""
    if discreet:
        state = _("<b>Discreet messages are on.</b> After your reference, every message from "
                  "me arrives without a sound and cannot be forwarded or saved. It only says "
                  "that you have a new message; tap “Open” to read it, and it is hidden again "
                  "by itself after a few minutes.")
        toggle = InlineKeyboardButton(_("Turn discreet messages off"),
                                      callback_data=HelpPress("discreet_off").pack())
    else:
        state = _("<b>Discreet messages are off.</b> My messages arrive with a sound and show "
                  "their content at once, also in the notification.")
        toggle = InlineKeyboardButton(_("Turn discreet messages on"),
                                      callback_data=HelpPress("discreet_on").pack())
    lines = ["🔒 <b>" + _("Privacy on this phone") + "</b>", "", state, ""]
    rows = [[toggle]] if known else []
    if has_pin:
        lines.append(_("<b>Your PIN is set.</b> /status, /dataku, /tambah, opening a message and "
                       "replying ask for it first."))
        rows.append([InlineKeyboardButton(_("Change the PIN"),
                                          callback_data=HelpPress("pin").pack()),
                     InlineKeyboardButton(_("Remove the PIN"),
                                          callback_data=HelpPress("pin_off").pack())])
    elif reported:
        lines.append(_("With a PIN, someone else holding this phone cannot see or add to what "
                       "you sent. /lapor always works, even if you forget the PIN."))
        rows.append([InlineKeyboardButton(_("🔑 Choose a PIN"),
                                          callback_data=HelpPress("pin").pack())])
    lines.append(_("/hapus_chat deletes our conversation from this phone."))
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def pin_offer(_: Translate) -> list[InlineKeyboardButton]:
    """Under the reference: choose a PIN now."""
    return [InlineKeyboardButton(_("🔑 Choose a PIN"), callback_data=HelpPress("pin").pack())]
