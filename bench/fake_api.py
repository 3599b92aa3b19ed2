"""The fake Bot API server of the process tests (``tests/fake_bot_api.py``) in a process of its
own, for the figures taken through PTB's real HTTP client (``HTTPXRequest``): the bot's process
then pays what a real deployment pays per request (HTTP/1.1 on a loopback socket, httpx, JSON),
and the server's own work runs on the other core, as Telegram's would run elsewhere.

    python -m bench.fake_api     prints the base URL, serves until its stdin is closed
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.fake_bot_api import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:BENCH-TOKEN-abcdefghijklmnopqrstuvwxyz"


class BenchBotApi(FakeBotApi):
    """The fake server, keeping only recent calls (a long run must not grow it), and answering
    every callback query: the bench makes its presses itself, each answered once and at once."""

    def __init__(self) -> None:
        super().__init__(TOKEN)
        self.calls = deque(maxlen=1000)  # type: ignore[assignment]
        from bench.evidence import bench_file  # (h): the 20 MB file a report came with

        self.chats.files[bench_file().file_id] = bench_file()

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "answerCallbackQuery":
            return True
        return super()._answer(method, params)


async def serve() -> None:
    api = await BenchBotApi().start()
    print(api.base_url, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until closed
    await api.stop()


@contextmanager
def fake_api_process() -> Iterator[str]:
    """A fake Bot API server in a process of its own; yields its base URL."""
    process = subprocess.Popen([sys.executable, "-m", "bench.fake_api"], cwd=ROOT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdin is not None and process.stdout is not None
    try:
        base_url = process.stdout.readline().strip()
        if not base_url.startswith("http"):
            raise RuntimeError("the fake Bot API did not start")
        yield base_url
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    asyncio.run(serve())
