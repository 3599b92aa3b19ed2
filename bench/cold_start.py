"""(f) Cold start: from starting the process to its first ``getUpdates``.

``python -m bot run`` (what ``ppa-bot run`` runs) is started against a fake Bot API server on
loopback (``tests/fake_bot_api.py``). First start: an empty database, so the migrations run and the
shipped Paser regions are imported. Restart: the same database again (nothing to migrate). The
interpreter's own start and every import are included.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, TOKEN, Databases
from tests.fake_bot_api import Call, FakeBotApi

RESTARTS = 5


async def start_once(api: FakeBotApi, url: str, workdir: Path) -> float:
    seen = len(api.calls)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PPA_BOT_")}
    env |= {"PPA_BOT_CONFIG": "",
            "PPA_BOT_TELEGRAM__TOKEN": TOKEN,
            "PPA_BOT_TELEGRAM__BASE_URL": api.base_url,
            "PPA_BOT_TELEGRAM__BASE_FILE_URL": api.base_file_url,
            "PPA_BOT_DATABASE__URL": url,
            "PPA_BOT_SECURITY__KEY_FILE": str(workdir / "bench.key"),
            "PYTHONPATH": str(ROOT)}
    started = time.monotonic()  # the clock the fake server stamps its calls with
    with (workdir / "bot.log").open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=workdir, env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

    def first_poll() -> Call | None:
        return next((c for c in api.calls[seen:] if c.method == "getUpdates"), None)

    try:
        deadline = time.monotonic() + 120
        while (call := first_poll()) is None:
            if process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the bot never polled: see {workdir / 'bot.log'}")
            await asyncio.sleep(0.005)  # the time is the fake server's stamp, not this loop's
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=30)
            except TimeoutError:
                process.kill()
                await process.wait()
    return float(call.at - started)


async def measure(url: str, workdir: Path) -> dict[str, Any]:
    api = await FakeBotApi(TOKEN).start()
    try:
        first = await start_once(api, url, workdir)
        restarts = [await start_once(api, url, workdir) for _ in range(RESTARTS)]
    finally:
        await api.stop()
    return {"first": first, "restart": statistics.median(restarts), "restart_max": max(restarts)}


def run(databases: Databases, *, quick: bool) -> list[dict[str, Any]]:
    results = []
    for backend in databases.backends:
        url = databases.fresh(backend, empty=True)
        workdir = Path(databases.workdir) / f"cold-{backend}"
        workdir.mkdir(exist_ok=True)
        try:
            figures = asyncio.run(measure(url, workdir))
        finally:
            databases.drop(url)
        figures["backend"] = backend
        print(f"(f) cold start to first getUpdates [{backend}]: first start (migrate, import "
              f"regions) {figures['first']:.2f} s; restart median {figures['restart']:.2f} s "
              f"(max {figures['restart_max']:.2f} s, {RESTARTS} restarts)")
        results.append(figures)
    return results
