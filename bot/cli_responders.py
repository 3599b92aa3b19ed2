"""``ppa-bot responders …``: the district's IT staff register who receives alerts, and enrol
village group members who may read their village's cases.

Works while the bot runs: the bot reads responders from the database for every alert, so a group
added here receives the very next one, and a revoked one is skipped from then on (its open cases
move to the next tier and the admins are told, through the outbox the running bot sends).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from bot.config import Settings
from bot.domain.tiers import tier_of
from bot.services import enrolment
from bot.services.enrolment import EnrolmentError
from bot.services.responders import Overview, ResponderError, add_group, add_officer, overview
from models import GroupMember, Responder
from models.responder import GROUP

if TYPE_CHECKING:
    from bot.runtime import Runtime

T = TypeVar("T")


def add_parser(sub: argparse._SubParsersAction) -> None:
    responders = sub.add_parser(
        "responders", help="who receives alerts: village groups and officers",
        description="Register the village PAPTBM groups and the officers who receive alerts. "
                    "Safe while the bot runs.")
    actions = responders.add_subparsers(dest="responders_command", required=True, metavar="ACTION")

    group = actions.add_parser(
        "add-group", help="register a group chat for a village, kecamatan or the kabupaten",
        description="Register (or re-register) a Telegram group that receives alerts. The bot must "
                    "be a member of the group; it tells the admins a group's id when it is added.")
    group.add_argument("chat_id", type=int,
                       help="the group's chat id (negative, e.g. -1001234567890)")
    group.add_argument("--region", required=True,
                       help="Kemendagri code of the village (64.01.05.2009), kecamatan (64.01.05) "
                            "or kabupaten (64.01)")
    group.add_argument("--title", help="a name for the group (default: PAPTBM <region>)")
    group.set_defaults(func=cmd_add_group)

    officer = actions.add_parser(
        "add-officer", help="register an officer (or admin) by Telegram user id",
        description="Register (or update) an officer who receives alerts in private chat and may "
                    "see details of cases in their region. The officer must open the bot and "
                    "press Start once, or Telegram will not let the bot write to them.")
    officer.add_argument("user_id", type=int, help="the officer's Telegram user id")
    officer.add_argument("--region", required=True,
                         help="Kemendagri code of the region the officer covers")
    officer.add_argument("--name", required=True, help="shown when the officer takes a case")
    officer.add_argument("--admin", action="store_true",
                         help="also an admin: told when a group or officer can no longer be "
                              "reached")
    officer.set_defaults(func=cmd_add_officer)

    member = actions.add_parser(
        "add-member", help="enrol a person in a village group (reads that village's cases)",
        description="Enrol a member of a registered village group: while they stay in the "
                    "group, they may read the details of that village's cases in private chat. "
                    "Recorded in the group's enrolment history; the person is told by the "
                    "running bot.")
    member.add_argument("chat_id", type=int, metavar="GROUP_CHAT_ID",
                        help="the village group's chat id (negative)")
    member.add_argument("user_id", type=int, help="the person's Telegram user id")
    member.add_argument("--name", required=True, help="their name, shown to officers")
    member.set_defaults(func=cmd_add_member)

    unenrol = actions.add_parser(
        "remove-member", help="end a person's enrolment in a village group",
        description="End a member's enrolment at once (recorded; the person is told).")
    unenrol.add_argument("chat_id", type=int, metavar="GROUP_CHAT_ID")
    unenrol.add_argument("user_id", type=int)
    unenrol.set_defaults(func=cmd_remove_member)

    listing = actions.add_parser(
        "list", help="responders, villages with an active group, unrouted cases",
        description="Show every responder (with the enrolled members of each village group), "
                    "which villages have an active group, and every case that nobody receives.")
    listing.set_defaults(func=cmd_list)

    revoke = actions.add_parser(
        "revoke", help="stop sending alerts to a group or officer",
        description="Deactivate a responder by its chat id (group) or user id (officer). Its open "
                    "cases go to the next tier and the admins are told.")
    revoke.add_argument("chat_id", type=int, metavar="CHAT_ID|USER_ID")
    revoke.set_defaults(func=cmd_revoke)


def _run(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run ``work(runtime)`` against the database, prepared first as ``ppa-bot run`` does (a new
    one also gets its key file, as at the bot's first start); the runtime is closed after."""
    from bot.bootstrap import prepare
    from bot.runtime import Runtime, open_vault

    vault = open_vault(settings, create=prepare(settings))

    async def go() -> T:
        rt = Runtime.create(settings, vault=vault)
        try:
            await rt.load_regions()
            return await work(rt)
        finally:
            await rt.engine.dispose()

    return asyncio.run(go())


def _describe(responder: Responder, names: dict[str, str]) -> str:
    where = names.get(responder.region_code, "?")
    role = responder.kind + (" (admin)" if responder.is_admin else "")
    return (f"{role} {responder.chat_id} “{responder.name}”, {tier_of(responder.region_code)} "
            f"tier, region {responder.region_code} {where}")


def cmd_add_group(args: argparse.Namespace, settings: Settings) -> int:
    async def work(rt: Runtime) -> tuple[str, str]:
        async with rt.sessions.begin() as session:
            responder, what = await add_group(session, args.chat_id, args.region, args.title,
                                              rt.clock.now())
            names = {code: place.name for code, place in rt.regions.places.items()}
            return what, _describe(responder, names)

    return _report(settings, work)


def cmd_add_officer(args: argparse.Namespace, settings: Settings) -> int:
    async def work(rt: Runtime) -> tuple[str, str]:
        async with rt.sessions.begin() as session:
            responder, what = await add_officer(session, args.user_id, args.region, args.name,
                                                args.admin, rt.clock.now())
            names = {code: place.name for code, place in rt.regions.places.items()}
            return what, _describe(responder, names)

    return _report(settings, work)


def cmd_add_member(args: argparse.Namespace, settings: Settings) -> int:
    async def work(rt: Runtime) -> str:
        async with rt.sessions.begin() as session:
            member, group = await enrolment.add_member(session, rt.vault, args.chat_id,
                                                       args.user_id, args.name, rt.clock.now())
            names = {code: place.name for code, place in rt.regions.places.items()}
            return (f"member {member.user_id} “{member.name}” of group {group.chat_id} "
                    f"“{group.name}”, village {group.region_code} "
                    f"{names.get(group.region_code, '?')}")

    try:
        description = _run(settings, work)
    except EnrolmentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"enrolled: {description}")
    print("They read the details of that village's cases in private chat while they are in the "
          "group; the running bot tells them.")
    return 0


def cmd_remove_member(args: argparse.Namespace, settings: Settings) -> int:
    async def work(rt: Runtime) -> str:
        async with rt.sessions.begin() as session:
            member = await enrolment.remove_member(session, rt.vault, args.chat_id,
                                                   args.user_id, rt.clock.now())
            return f"member {member.user_id} “{member.name}” of group {args.chat_id}"

    try:
        description = _run(settings, work)
    except EnrolmentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"removed: {description}")
    return 0


def _report(settings: Settings, work: Callable[[Runtime], Awaitable[tuple[str, str]]]) -> int:
    try:
        what, description = _run(settings, work)
    except ResponderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{what}: {description}")
    print("It receives alerts from the next report on; any unrouted case is sent to it at the "
          "bot's next escalation sweep.")
    return 0


def cmd_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async def work(rt: Runtime) -> tuple[str, list[str]] | None:
        done = await rt.escalation.revoke(args.chat_id)
        if done is None:
            return None
        responder, rerouted = done
        names = {code: place.name for code, place in rt.regions.places.items()}
        return _describe(responder, names), rerouted

    result = _run(settings, work)
    if result is None:
        print(f"error: no group or officer with id {args.chat_id}; see `ppa-bot responders list`",
              file=sys.stderr)
        return 1
    description, rerouted = result
    print(f"revoked: {description}")
    if rerouted:
        print(f"open cases passed to the next tier: {', '.join(rerouted)}")
    print("The admins are told by the running bot.")
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(rt: Runtime) -> tuple[Overview, dict[int, list[GroupMember]]]:
        async with rt.sessions() as session:
            found = await overview(session)
            members = {group.id: await enrolment.active_members(session, group.id)
                       for group in found.responders if group.kind == GROUP}
            return found, members

    found, members = _run(settings, work)
    print(render_overview(found, settings, members))
    return 0


def render_overview(view: Overview, settings: Settings,
                    members: dict[int, list[GroupMember]] | None = None) -> str:
    tz = settings.tz
    lines: list[str] = []
    if view.unrouted:
        lines += [f"!!! {len(view.unrouted)} UNROUTED CASE(S): nobody registered receives them !!!",
                  "    Register a group or officer for their area; the running bot sends them at "
                  "its next sweep."]
        for case in view.unrouted:
            local = case.created_at.astimezone(tz)
            lines.append(f"    {case.reference}  reported {local:%Y-%m-%d %H:%M} {local.tzname()}  "
                         f"{case.village_code} {view.region_names.get(case.village_code, '?')}")
        lines.append("")
    active = [r for r in view.responders if r.active]
    inactive = [r for r in view.responders if not r.active]
    lines.append(f"Responders: {len(active)} active, {len(inactive)} inactive")
    for responder in active:
        lines.append("  active    " + _describe(responder, view.region_names))
        for member in (members or {}).get(responder.id, []):
            lines.append(f"              member {member.user_id} “{member.name}”")
    for responder in inactive:
        since = responder.changed_at.astimezone(tz)
        lines.append("  INACTIVE  " + _describe(responder, view.region_names)
                     + f" ({responder.inactive_reason}, since {since:%Y-%m-%d %H:%M} "
                       f"{since.tzname()})")
    if not view.responders:
        lines.append("  (none yet: `ppa-bot responders add-group` / `add-officer`)")
    lines.append("")
    if view.kabupaten_responders == 0:
        lines.append("WARNING: nobody is registered at the kabupaten tier (UPTD PPA / DP2KBP3A): "
                     "urgent, sexual violence and trafficking reports need it.")
    lines.append(f"Villages with an active group: {view.villages_with_group} of {view.villages}")
    if view.villages_unreachable:
        lines.append(f"Villages no responder covers at any tier: {view.villages_unreachable}")
    for kecamatan in view.kecamatan:
        groups = ", ".join(kecamatan.with_group) if kecamatan.with_group else "none"
        lines.append(f"  {kecamatan.name} ({kecamatan.code}): {len(kecamatan.with_group)} of "
                     f"{kecamatan.villages} villages — {groups}; kecamatan responders: "
                     f"{kecamatan.responders}")
    return "\n".join(lines)
