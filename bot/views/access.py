"""Who reads what, in words: every sentence the bot says about it (the consent notice,
``/bantuan``, the note and reply confirmations) and the table of SECURITY.md are written here from
the rows of ``bot/domain/access.py``, so that they cannot say more or less than the rule does.
"""

from __future__ import annotations

from bot.domain.access import (
    ACCESS,
    ADMIN,
    GROUP_MEMBER,
    HANDLER,
    KABUPATEN_OFFICER,
    KECAMATAN_OFFICER,
    MESSAGES,
    NOTES,
    OFFICER_ROLES,
    PHONE,
    REPORT,
    REPORTER,
    ROLES,
    STRANGER,
    SUMMARY,
    TEAM_NOTES,
    VILLAGE_MEMBER,
    readers,
)
from bot.i18n import N_, Translate, translator

# Each role as a reader, in the words of a sentence ("... is read by <role>, <role> and <role>").
ROLE_WORDS = {
    ADMIN: N_("the district admins (DP2KBP3A)"),
    KABUPATEN_OFFICER: N_("the kabupaten officers (UPTD PPA)"),
    KECAMATAN_OFFICER: N_("the officers of the kecamatan"),
    HANDLER: N_("the PAPTBM member who takes the case"),
    VILLAGE_MEMBER: N_("the PAPTBM members of the village whom the district enrolled"),
    GROUP_MEMBER: N_("everyone in the village's group chat"),
    REPORTER: N_("the reporter"),
    STRANGER: N_("anyone else"),
}
# Several roles said at once, when all of them read it.
ALL_OFFICERS = N_("the protection officers of the kecamatan, the kabupaten (UPTD PPA) and the "
                  "district (DP2KBP3A)")
ALL_VILLAGE = N_("the PAPTBM members of the village whom the district enrolled")
NOBODY = N_("nobody")
# What of a case is read, in words.
ITEM_WORDS = {
    SUMMARY: N_("the type of case, the victim's age group, the village and the time"),
    REPORT: N_("the full report: the story, the place, the victim, the perpetrator and the files "
               "sent with it"),
    PHONE: N_("the phone number the reporter chose to share"),
    MESSAGES: N_("the reporter's later messages and files, and the replies to them"),
    NOTES: N_("the officers' notes"),
    TEAM_NOTES: N_("the notes for the village team"),
}


def reader_words(roles: tuple[str, ...], _: Translate) -> str:
    """``(handler, kecamatan officer, ...)`` as one phrase: "the protection officers of ... and
    the PAPTBM member who takes the case"."""
    phrases: list[str] = []
    rest = list(roles)
    if all(role in rest for role in OFFICER_ROLES):
        phrases.append(_(ALL_OFFICERS))
        rest = [role for role in rest if role not in OFFICER_ROLES]
    if HANDLER in rest and VILLAGE_MEMBER in rest:
        phrases.append(_(ALL_VILLAGE))
        rest = [role for role in rest if role not in (HANDLER, VILLAGE_MEMBER)]
    phrases += [_(ROLE_WORDS[role]) for role in rest]
    if not phrases:
        return _(NOBODY)
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " " + _("and") + " " + phrases[-1]


def readers_text(item: str, _: Translate) -> str:
    """Who reads this of a case, as the table says."""
    return reader_words(readers(item), _)


def only_for(item: str, _: Translate) -> str:
    """Who reads something that is not everyone's, as a clause: "read only by ..."."""
    return _("read only by {readers}").format(readers=readers_text(item, _))


def extra_readers(item: str, beyond: str) -> tuple[str, ...]:
    """Who reads ``item`` but not ``beyond`` (e.g. who reads a shared note and not a private
    one: the village team)."""
    return tuple(role for role in readers(item) if role not in readers(beyond))


# ---- the reporter's side: consent and /bantuan ---------------------------------------------------
# Shorter words for the reporter, who reads on a small phone, perhaps in a hurry.
REPORTER_ROLE_WORDS = {
    ADMIN: N_("DP2KBP3A admins"),
    KABUPATEN_OFFICER: N_("UPTD PPA officers"),
    KECAMATAN_OFFICER: N_("kecamatan officers"),
    HANDLER: N_("the PAPTBM member handling it"),
    VILLAGE_MEMBER: N_("enrolled PAPTBM members"),
    GROUP_MEMBER: N_("the village group"),
    REPORTER: N_("you"),
    STRANGER: N_("anyone else"),
}
REPORTER_ITEM_WORDS = {
    SUMMARY: N_("case type, village, time"),
    REPORT: N_("story, place"),
    PHONE: N_("phone"),
    MESSAGES: N_("follow-up messages"),
}


def _grouped(skip: tuple[str, ...]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """The reporter's data (summary, report, phone, messages), grouped by who reads them
    (leaving out the roles in ``skip``, said once for all)."""
    groups: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    for item in REPORTER_ITEM_WORDS:
        who = tuple(role for role in readers(item) if role not in skip)
        for index, (items, roles) in enumerate(groups):
            if roles == who:
                groups[index] = ((*items, item), roles)
                break
        else:
            groups.append(((item,), who))
    return groups


def officers_read_all() -> bool:
    """Whether every officer role reads every part of a report (then said once)."""
    return all(role in readers(item) for item in REPORTER_ITEM_WORDS for role in OFFICER_ROLES)


def reporter_words(roles: tuple[str, ...], _: Translate) -> str:
    """Who reads it, in the reporter's short words, as a list."""
    rest = list(roles)
    if HANDLER in rest and VILLAGE_MEMBER in rest:
        rest.remove(HANDLER)  # every enrolled member: the one handling it is one of them
    return ", ".join(_(REPORTER_ROLE_WORDS[role]) for role in rest) or _(NOBODY)


def who_reads_lines(_: Translate) -> list[str]:
    """Who reads each part of a report, from the table: the officers once (when they read it all),
    then one line per set of parts with the same other readers."""
    skip = OFFICER_ROLES if officers_read_all() else ()
    lines = [_("PPA officers read all of it. Also:")] if skip else []
    for items, roles in _grouped(skip):
        subject = ", ".join(_(REPORTER_ITEM_WORDS[item]) for item in items)
        lines.append("• " + _("{what}: {readers}.").format(
            what=subject[:1].upper() + subject[1:], readers=reporter_words(roles, _)))
    return lines


def consent_lines(_: Translate, kabupaten: str) -> list[str]:
    """The consent notice's word on who reads what (the report's privacy question), from the
    table."""
    return ["<b>" + _("Privacy") + "</b> · " + _("Kabupaten {kabupaten}, encrypted.").format(
        kabupaten=kabupaten), *who_reads_lines(_)]


def help_lines(_: Translate) -> list[str]:
    """``/bantuan``'s word on who reads a report."""
    return ["<b>" + _("Who reads your report") + "</b>", *who_reads_lines(_),
            _("Your Telegram account is shown to no one.")]


# ---- the officers' side: notes and replies -------------------------------------------------------

def note_readers(team: bool, _: Translate) -> str:
    """Who reads a note: every officer's note is read by the roles that read NOTES; a note for the
    village team also by those that read TEAM_NOTES."""
    return reader_words(readers(TEAM_NOTES if team else NOTES), _)


def team_words(_: Translate) -> str:
    """Who a note marked for the village team reaches besides the officers."""
    return reader_words(extra_readers(TEAM_NOTES, NOTES), _)


def reply_readers(_: Translate) -> str:
    """Who reads, in the case's history, the messages exchanged with the reporter."""
    return readers_text(MESSAGES, _)


# ---- SECURITY.md ---------------------------------------------------------------------------------

SECURITY_BEGIN = "<!-- access table: generated from bot/domain/access.py -->"
SECURITY_END = "<!-- end of access table -->"


def security_table() -> str:
    """The roles × (actions, reads) table of SECURITY.md, in English, from ``ACCESS``."""
    _ = translator("en")
    lines = [SECURITY_BEGIN,
             "| role | may | reads of a case | only while the case is open |",
             "|---|---|---|---|"]
    for role in ROLES:
        row = ACCESS[role]
        does = ", ".join(sorted(row.does)) or "–"
        reads = ", ".join(item for item in (SUMMARY, REPORT, PHONE, MESSAGES, NOTES, TEAM_NOTES)
                          if item in row.reads) or "–"
        lines.append(f"| {role.replace('_', ' ')}: {_(ROLE_WORDS[role])} | {does} | {reads} | "
                     f"{'yes' if row.open_cases_only else 'no'} |")
    lines.append("")
    for item in (SUMMARY, REPORT, PHONE, MESSAGES, NOTES, TEAM_NOTES):
        lines.append(f"- **{item.replace('_', ' ')}** ({_(ITEM_WORDS[item])}): "
                     f"{readers_text(item, _)}.")
    lines.append(SECURITY_END)
    return "\n".join(lines)
