"""Services and referrals in private chat: the case card's "Layanan" and its menus, the reporter's
answer to a consent question, the provider's name typed, and ``/layanan`` (the provider directory,
admins). Thin: every call goes to ``bot/services/referrals.py`` or ``bot/services/providers.py``,
which authorise it again."""

from __future__ import annotations

from html import escape
from typing import Any

from telegram import ForceReply, InlineKeyboardMarkup, Update

from bot.callback_data import ConsentPress, ProviderPress, ServicePress
from bot.context import BotContext
from bot.domain import services as rules
from bot.i18n import Translate, translator
from bot.services.cases import CaseOutcome, Result
from bot.services.providers import DirectoryOutcome
from bot.services.referrals import Done, ServiceOutcome
from bot.views import cases as case_view
from bot.views import services as view
from bot.views.alerts import local_time
from handlers.cases import in_place, person, problem_text, tell
from handlers.common import answer, language_of, pressed_as, replace_or_reply, reply


async def _translate(update: Update, context: BotContext) -> Translate:
    return translator(await language_of(update, context))


def done_text(done: Done | Result, _: Translate) -> str | None:
    """What went wrong, in words; None when it went well."""
    if isinstance(done, Result):
        return problem_text(done, _)
    if done.outcome in (ServiceOutcome.OK, ServiceOutcome.DUPLICATE):
        return None
    if done.outcome == ServiceOutcome.REFUSED and done.refusal is not None:
        return done.refusal.explain(_)
    if done.outcome == ServiceOutcome.UNREACHABLE:
        return case_view.unreachable_text(done.reason, _)
    if done.outcome == ServiceOutcome.TOO_LONG:
        return _("Please write a name of at most 120 characters.")
    return _("That button is no longer active.")


async def _show(update: Update, params: dict[str, Any]) -> None:
    await in_place(update, params["text"], _markup(params) or InlineKeyboardMarkup([]))


async def on_service_button(update: Update, context: BotContext) -> None:
    """Every button of a case's services, re-authorised by the service at press time."""
    query = update.callback_query
    assert query is not None
    _ = await _translate(update, context)
    pressed = await pressed_as(query, ServicePress, _)
    if pressed is None:
        return
    rt = context.runtime
    user_id, name = person(update)
    key = update.update_id
    case_id = await rt.cases.resolve(pressed.case)
    if case_id is None:
        await tell(update, _("That button is no longer active."))
        return
    action, value, number = pressed.action, pressed.value, pressed.number
    if action in ("list", "kinds", "add", "show", "consent"):
        kind = value if action == "add" else None
        if kind is not None and kind not in rules.KINDS:
            await tell(update, _("That button is no longer active."))
            return
        found = await rt.referrals.list(user_id, name, case_id, kind=kind)
        if isinstance(found, Result):
            await tell(update, problem_text(found, _))
            return
        if action != "list" and action != "show" and not found.may_change():
            await tell(update, problem_text(Result(
                outcome=CaseOutcome.OUT_OF_SCOPE, case=found.case, actor=found.actor,
                reference=found.case.reference, action="services"), _))
            return
        service = next((s for s in found.services if s.number == number), None)
        if action == "kinds":
            params = view.kinds_menu(found.case, _)
        elif action == "add":
            refusal = rules.check_new(value, found.case.violence_types)
            if refusal is not None:  # a forged or old button: the service refuses and records it
                refused = await rt.referrals.add(user_id, name, case_id, value, key)
                await tell(update, done_text(refused, _) or refusal.explain(_))
                return
            params = view.providers_menu(found, value, rt.settings, _)
        elif action in ("show", "consent") and service is not None:
            params = view.service_detail(found, service, rt.settings, _) if action == "show" \
                else view.consent_via_menu(found.case, service, value == "y", _)
        else:
            params = view.services_list(found, _)
        await answer(query)
        await _show(update, params)
        return
    if action == "type":
        started = await rt.referrals.begin_typing(user_id, name, case_id, value)
        problem = done_text(started, _)
        if problem is not None:
            await tell(update, problem)
            return
        assert isinstance(started, Done) and started.case is not None
        await answer(query)
        await reply(update, view.type_prompt(started.case, value, _),
                    ForceReply(input_field_placeholder=_("Provider's name")[:64]))
        return
    done: Done | Result
    if action == "prov":
        kind, _sep, provider = value.partition(":")
        done = await rt.referrals.add(user_id, name, case_id, kind, key,
                                      provider_id=int(provider) if provider.isdigit() else None)
        success = _("Service added: {kind}.").format(kind=rules.kind_name(kind, _))
    elif action == "move":
        done = await rt.referrals.move(user_id, name, case_id, number, value, key)
        success = _("Service {number} is now {status}.").format(
            number=number, status=_(rules.STATUS_NAMES.get(value, value)).lower())
    elif action == "follow":
        done = await rt.referrals.followed_up(user_id, name, case_id, number, key)
        success = _("Recorded. The next follow-up is due {time}.").format(
            time=local_time(done.due, rt.settings)) if isinstance(done, Done) and done.due \
            else _("Recorded.")
    elif action == "ask":
        done = await rt.referrals.ask_consent(user_id, name, case_id, number, key)
        success = _("The question was queued for the reporter, discreetly; their answer will "
                    "be recorded here and you will be told.")
        if isinstance(done, Done) and done.due is not None:
            success += " " + _("It waits for their safe time: {time}.").format(
                time=local_time(done.due, rt.settings))
    elif action == "via":
        answer_code, _sep, way = value.partition(".")
        done = await rt.referrals.record_consent(user_id, name, case_id, number,
                                                 answer_code == "y", way, key)
        success = _("The survivor's answer was recorded.")
    else:
        await tell(update, _("That button is no longer active."))
        return
    problem = done_text(done, _)
    await tell(update, problem or success)
    if problem is None or (isinstance(done, Done) and done.outcome == ServiceOutcome.REFUSED):
        found = await rt.referrals.list(user_id, name, case_id)
        if not isinstance(found, Result):
            service = next((s for s in found.services if s.number == number), None)
            params = view.service_detail(found, service, rt.settings, _) \
                if service is not None and action != "prov" else view.services_list(found, _)
            await _show(update, params)


async def typed_provider(update: Update, context: BotContext) -> bool:
    """The provider's name an officer was asked to type ("✏️ Ketik nama lembaga")."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    rt = context.runtime
    if await rt.referrals.typing(user.id) is None:
        return False
    _ = await _translate(update, context)
    if message.text is None:
        await reply(update, _("Only text can be saved here. Write it as a message, or send "
                              "/batal."))
        return True
    if message.text.strip().startswith("/batal"):
        await rt.referrals.stop_typing(user.id)
        await reply(update, _("Cancelled."))
        return True
    done = await rt.referrals.finish_typing(user.id, user.full_name, message.text,
                                            update.update_id)
    problem = done_text(done, _)
    if problem is not None:
        await reply(update, problem)
        return True
    assert isinstance(done, Done) and done.service is not None and done.case is not None
    await reply(update, _("Service added: {kind}, {provider}.").format(
        kind=rules.kind_name(done.service.kind, _),
        provider=escape(done.service.provider_name or "")))
    found = await rt.referrals.list(user.id, user.full_name, done.case.id)
    if not isinstance(found, Result):
        params = view.services_list(found, _)
        await reply(update, params["text"], _markup(params))
    return True


def _markup(params: dict[str, Any]) -> InlineKeyboardMarkup | None:
    markup = params.get("reply_markup")
    return InlineKeyboardMarkup.de_json(markup, None) if markup else None


# ---- the reporter's answer ----------------------------------------------------------------------

async def on_consent_button(update: Update, context: BotContext) -> None:
    """"Setuju" / "Tidak" under the question about a referral (the reporter's own chat)."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    language = await language_of(update, context)
    _ = translator(language)
    pressed = await pressed_as(query, ConsentPress, _)
    if pressed is None:
        return
    done = await context.runtime.referrals.answer_consent(update.effective_user.id,
                                                          pressed.service_id, pressed.given)
    if done.outcome == ServiceOutcome.GONE:
        await answer(query, _("This message is no longer available."))
        return
    if done.outcome == ServiceOutcome.ALREADY:
        await answer(query, _("Your answer was already recorded."))
        return
    thanks = _("Thank you. Your answer was recorded: {answer}.").format(
        answer=_("you agree") if pressed.given else _("you do not agree"))
    await answer(query, thanks)
    await replace_or_reply(update, thanks)


# ---- /layanan (admins) --------------------------------------------------------------------------

async def directory_command(update: Update, context: BotContext) -> None:
    """/layanan: the provider directory; /layanan tambah KIND | Name | Kecamatan;
    /layanan ubah ID | Name | Kecamatan."""
    _ = await _translate(update, context)
    rt = context.runtime
    user_id, _name = person(update)
    if not await rt.directory.is_admin(user_id):
        await reply(update, _("This command is for the district's admins."))
        return
    message = update.effective_message
    text = (message.text or "") if message is not None else ""
    parts = text.split(maxsplit=2)
    if len(parts) < 2:
        params = view.directory_kinds(_)
        await reply(update, params["text"], _markup(params))
        return
    verb = parts[1].lower()
    rest = parts[2] if len(parts) > 2 else ""
    fields = [f.strip() for f in rest.split("|")]
    usage = _("Write it like this: <code>/layanan tambah kesehatan | Puskesmas Kuaro | "
              "Kuaro</code> or <code>/layanan ubah 12 | New name | Kecamatan</code>.")
    if verb in ("tambah", "add") and len(fields) in (2, 3):
        change = await rt.directory.add(user_id, fields[0], fields[1],
                                        fields[2] if len(fields) == 3 else "")
    elif verb in ("ubah", "edit") and len(fields) in (2, 3) and fields[0].lstrip("#").isdigit():
        change = await rt.directory.rename(user_id, int(fields[0].lstrip("#")), fields[1],
                                           fields[2] if len(fields) == 3 else "")
    else:
        await reply(update, usage)
        return
    if change.outcome == DirectoryOutcome.OK and change.provider is not None:
        await reply(update, "📒 " + _("Saved: #{id} {name} ({kind}).").format(
            id=change.provider.id, name=escape(change.provider.name),
            kind=rules.kind_name(change.provider.kind, _)))
    elif change.outcome == DirectoryOutcome.EXISTS:
        await reply(update, _("That provider is already in the directory."))
    elif change.outcome == DirectoryOutcome.MISSING:
        await reply(update, _("No provider has that number."))
    elif change.outcome == DirectoryOutcome.BAD:
        await reply(update, _("That could not be saved: {problem}.").format(
            problem=escape(change.problem or "")) + "\n" + usage)
    else:
        await reply(update, _("This command is for the district's admins."))


async def on_provider_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    _ = await _translate(update, context)
    pressed = await pressed_as(query, ProviderPress, _)
    if pressed is None:
        return
    rt = context.runtime
    user_id, _name = person(update)
    if pressed.action in ("off", "on"):
        change = await rt.directory.set_active(user_id, pressed.provider_id,
                                               pressed.action == "on")
        if change.outcome != DirectoryOutcome.OK:
            await answer(query, _("That button is no longer active."))
            return
    if pressed.action == "kinds":
        params = view.directory_kinds(_)
    else:
        kind = pressed.value if pressed.value in rules.KINDS else rules.KINDS[0]
        providers = await rt.directory.of_kind(user_id, kind)
        if providers is None:
            await answer(query)
            return
        params = view.directory_list(kind, providers, pressed.page, _)
    await answer(query)
    await replace_or_reply(update, params["text"], _markup(params))
