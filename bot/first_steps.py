"""What a new district does next, printed by ``ppa-bot run`` (and so ``make run``) at start-up
while it is not done: make the first admin, add the bot to a village group, send ``/daftar``."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Responder
from models.responder import GROUP, OFFICER

VILLAGE_CODE_PARTS = 4  # 64.01.05.2009


async def next_steps(sessions: async_sessionmaker[AsyncSession], username: str) -> list[str]:
    """The three steps with what is done marked; empty once there is an admin and a village
    group."""
    async with sessions() as session:
        admins = await session.scalar(select(func.count()).select_from(Responder).where(
            Responder.kind == OFFICER, Responder.is_admin.is_(True), Responder.active.is_(True)))
        groups = await session.scalars(select(Responder.region_code).where(
            Responder.kind == GROUP, Responder.active.is_(True)))
        village_groups = sum(1 for code in groups if code.count(".") == VILLAGE_CODE_PARTS - 1)
    if admins and village_groups:
        return []
    bot = f"@{username}" if username else "the bot"
    link = f"https://t.me/{username}" if username else "the bot's t.me link"

    def mark(done: bool) -> str:
        return "[done] " if done else ""

    return [
        "Next steps for a new district:",
        f"  1. {mark(bool(admins))}Make the first admin: ppa-bot admin add TELEGRAM_ID --name "
        f"\"NAME\" (a person's numeric id: ask @userinfobot), then that person opens {link} "
        "and sends /start.",
        f"  2. {mark(bool(village_groups))}An activist adds {bot} to the village's PAPTBM group "
        "in Telegram (a normal member: no admin rights).",
        f"  3. {mark(bool(village_groups))}In that group they send /daftar and choose the "
        "village; an admin approves it with Setujui in the bot's chat. Posters with the bot's "
        "link: ppa-bot poster --all --out posters.zip.",
    ]
