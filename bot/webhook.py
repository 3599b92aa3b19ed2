"""Webhook mode: a small tornado server in front of the Application.

``POST <webhook.path>`` takes updates only with Telegram's secret token header; ``GET /healthz``
answers health checks. SIGTERM stops taking updates, finishes the ones in flight, flushes the outbox
and shuts down.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from telegram import Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer
from tornado.web import Application as WebApplication
from tornado.web import RequestHandler

from bot.health import health_report, is_healthy
from bot.runtime import Runtime

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
MAX_BODY = 1024 * 1024


class UpdateHandler(RequestHandler):
    """Handles the update before answering 200: Telegram re-sends anything not answered, so a
    crash mid-update loses nothing (a repeat is recognised by its update id). One update at a
    time, in order, as with polling."""

    def initialize(self, ptb: Application, secret: str, lock: asyncio.Lock) -> None:
        self.ptb = ptb
        self.secret = secret
        self.lock = lock

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("webhook request without the right secret token refused")
            self.set_status(403)
            return
        try:
            payload = json.loads(self.request.body)
            update = Update.de_json(payload, self.ptb.bot)
        except (ValueError, TypeError, KeyError):
            self.set_status(400)
            return
        async with self.lock:
            await self.ptb.process_update(update)
        self.set_status(200)


class HealthHandler(RequestHandler):
    def initialize(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def get(self) -> None:
        report: dict[str, Any] = await health_report(self.runtime.sessions,
                                                     self.runtime.clock.now())
        report["updates"] = self.runtime.metrics["updates"]
        report["alerts_sent"] = self.runtime.sender.sent
        report["alerts_failed"] = self.runtime.sender.failed
        self.set_status(200 if is_healthy(report) else 503)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(report))


def web_app(application: Application, rt: Runtime, lock: asyncio.Lock) -> WebApplication:
    return WebApplication([
        (rt.settings.webhook.path, UpdateHandler,
         {"ptb": application, "secret": rt.settings.webhook.secret_token, "lock": lock}),
        (r"/healthz", HealthHandler, {"runtime": rt}),
    ])


async def serve(application: Application, rt: Runtime,
                stop: asyncio.Event) -> None:
    """Run until ``stop`` is set; then drain updates in flight and the outbox, and shut down."""
    from bot.app import post_init, stop_application

    settings = rt.settings
    await application.initialize()
    await post_init(application)
    await application.start()
    in_flight = asyncio.Lock()
    server = HTTPServer(web_app(application, rt, in_flight), max_body_size=MAX_BODY)
    server.listen(settings.webhook.port, address=settings.webhook.listen)
    await application.bot.set_webhook(
        settings.webhook.url, secret_token=settings.webhook.secret_token, max_connections=4,
        allowed_updates=["message", "edited_message", "callback_query", "my_chat_member",
                         "chat_member"])
    log.info("webhook server listening on %s:%s", settings.webhook.listen, settings.webhook.port)
    try:
        await stop.wait()
    finally:
        log.info("stopping: finishing updates in flight and flushing the outbox")
        server.stop()  # no new connections
        # The update being handled, if any, is finished before the application stops.
        await stop_application(application, in_flight)


def run_webhook(application: Application, rt: Runtime) -> None:
    from bot.app import run_until_signalled

    run_until_signalled(lambda stop: serve(application, rt, stop))
