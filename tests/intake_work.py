"""An officer recording a case that came another way (``/kasus_baru``), as they answer the report
form's officer mode: ordinary answers until a question, or the whole record saved."""

from __future__ import annotations

from bot.callback_data import IntakePress
from bot.domain import form
from bot.domain.form import DraftView
from tests.case_work import MODANG
from tests.harness import Person, reference_in

STORY = "Ibu Dewi datang ke UPTD: suaminya memukulnya semalam."
PHONE = "0812 9999 1111"


async def intake_draft(officer: Person) -> DraftView | None:
    return (await officer.harness.runtime.intake.current(officer.user_id)).draft


async def picks(officer: Person, value: str, action: str = "choose") -> None:
    await officer.picks(value, action)


async def records_until(officer: Person, step: str, *, channel: str = "datang_langsung",
                        danger: bool = False) -> None:
    """/kasus_baru (or its resumption), ordinary answers until ``step`` is asked."""
    if await intake_draft(officer) is None:
        await officer.sends("/kasus_baru")
    answers = {form.CHANNEL: channel, form.DANGER: form.YES if danger else form.NO,
               form.VICTIM_CATEGORY: form.WOMAN, form.VICTIM_AGE: "25-44",
               form.VICTIM_COUNT: "1", form.KECAMATAN: "64.01.05", form.VILLAGE: MODANG,
               form.PLACE: "rumah_tangga", form.WHEN: "today",
               form.PERPETRATOR: "suami_istri"}
    for _attempt in range(len(form.INTAKE_ORDER) + 2):
        draft = await intake_draft(officer)
        assert draft is not None
        if draft.step == step:
            return
        if draft.step == form.TYPES:
            await picks(officer, "fisik", "toggle")
            await picks(officer, "", "done")
        elif draft.step == form.STORY:
            await officer.sends(STORY)
            await officer.presses_data(IntakePress(draft.nonce, form.STORY, "done", "").pack())
        elif draft.step == form.LANDMARK:
            await picks(officer, "", "skip")
        elif draft.step == form.PHONE:
            await officer.sends(PHONE)
        else:
            await picks(officer, answers[draft.step])
    raise AssertionError(f"never reached {step}")


async def records_case(officer: Person, **kwargs: str | bool) -> str:
    await records_until(officer, form.REVIEW, **kwargs)  # type: ignore[arg-type]
    await picks(officer, "", "submit")
    return reference_in(officer.last_text())

