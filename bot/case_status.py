"""Case statuses and the gentle public words a reporter reads for each (never the internal name)."""

from __future__ import annotations

from bot.i18n import N_

# Public words for each status: what a reporter reads, never the internal stage name.
STATUS_WORDS = {
    "baru": N_("received, waiting for an officer"),
    "diterima": N_("an officer is handling it"),
    "penjangkauan": N_("an officer is reaching out"),
    "pengelolaan": N_("being handled"),
    "pendampingan": N_("support is being given"),
    "dirujuk": N_("passed on to a partner service"),
    "selesai": N_("completed"),
    "ditutup": N_("closed"),
}
