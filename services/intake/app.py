"""Composition root of intake: settings in, a FastAPI app out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI, Request
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from services.intake import api_keys, canary
from services.intake.api import router
from services.intake.chat.api import WEBHOOK_PATH
from services.intake.chat.api import router as chat_router
from services.intake.chat.media import GraphMedia
from services.intake.chat.repository import ConversationRepository
from services.intake.chat.service import ChatContext
from services.intake.open311.api import router as open311_router
from services.intake.photos import PhotoGate
from services.intake.ratelimit import AddressLimiter
from services.intake.repository import (
    DuplicateMarkers,
    IdempotencyRepository,
    TicketRepository,
)
from services.intake.service import IntakeContext
from services.intake.settings import IntakeSettings
from services.intake.statistics import router as statistics_router
from services.intake.support import NearbyReports, SupportRepository
from services.intake.web.page import WEB_UPLOAD_PATH, static_files, web_upload_limit
from services.intake.web.routes import router as web_router
from shared import topics
from shared.catalogue import CatalogueStore
from shared.events import utcnow
from shared.http import build_app
from shared.kafka import KafkaPublisher, kafka_answers
from shared.mongo import Document, connect, ping
from shared.mongo import close as close_client
from shared.outbox import OutboxRelay
from shared.photos import PhotoStore
from shared.statistics.store import StatisticsReader, StatisticsStore
from shared.supervise import keep_running, raise_if_stopping, stop
from shared.tickets import COLLECTION

log = logging.getLogger(__name__)

PHOTO_UPLOAD_PATH = r"^/api/v1/complaints/[^/]+/photos$"
MULTIPART_SLACK = 64 * 1024  # form fields and part headers around the photo itself
WEBHOOK_MAX_BYTES = 512 * 1024  # the platform may batch many statuses in one call
DESCRIPTION = """Citizens' front door of Layanan Pengaduan: submit a complaint, suggestion or
information request and follow it with its tracking code. No account needed."""


async def readiness(request: Request) -> dict[str, str]:
    """MongoDB must answer; Kafka being down only delays routing (the outbox waits)."""
    settings: IntakeSettings = request.app.state.settings
    db_ok = await ping(request.state.db)
    kafka_ok = await kafka_answers(settings.kafka())
    return {"mongodb": "ok" if db_ok else "down", "kafka": "ok" if kafka_ok else "degraded"}


async def _housekeeping(
    db: AsyncDatabase[Document],
    tickets: TicketRepository,
    conversations: ConversationRepository,
    settings: IntakeSettings,
) -> None:
    """Hourly: indexes if missing, forget idempotency keys and duplicate markers past their use,
    and conversations untouched for the contact retention period (UU 27/2022)."""
    while True:
        raise_if_stopping()  # a call may have swallowed the request to stop
        await asyncio.sleep(3600)
        now = utcnow()
        with contextlib.suppress(PyMongoError):
            await tickets.ensure_indexes()
            await conversations.ensure_indexes()
            await IdempotencyRepository(db).purge_before(
                now - timedelta(hours=settings.idempotency_window_hours)
            )
            await DuplicateMarkers(db).purge_before(
                now - timedelta(minutes=settings.duplicate_window_minutes)
            )
            await conversations.purge_before(now - timedelta(days=settings.contact_retention_days))
        raise_if_stopping()


def create_app(settings: IntakeSettings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        client = connect(settings.mongodb_url, timeout_ms=settings.mongodb_timeout_ms)
        db = client[settings.mongodb_database]
        publisher = KafkaPublisher(settings.kafka(), client_id="intake")
        tickets = TicketRepository(db)
        relay = OutboxRelay(
            collection=db[COLLECTION],
            locks=tickets.locks,
            publisher=publisher,
            topic=topics.TICKETS,
            producer="intake",
            poll_interval_s=settings.outbox_poll_interval_s,
            sweep_interval_s=settings.outbox_sweep_interval_s,
        )
        tickets.on_outbox(relay.notify)
        conversations = ConversationRepository(db)
        chat_relay = OutboxRelay(
            collection=conversations.collection,
            locks=conversations.locks,
            publisher=publisher,
            topic=topics.CHATS,
            producer="intake",
            poll_interval_s=settings.outbox_poll_interval_s,
            sweep_interval_s=settings.outbox_sweep_interval_s,
        )
        conversations.on_outbox(chat_relay.notify)
        http = httpx.AsyncClient(follow_redirects=False)
        try:
            await tickets.ensure_indexes()
            await conversations.ensure_indexes()
        except PyMongoError as exc:  # the database may come later; housekeeping retries
            log.warning("could not create indexes at start: %s", type(exc).__name__)
        await api_keys.seed_dev_key(db, settings)
        background = [
            asyncio.create_task(keep_running("intake-outbox", relay.run)),
            asyncio.create_task(keep_running("intake-chat-outbox", chat_relay.run)),
            asyncio.create_task(
                keep_running(
                    "intake-housekeeping",
                    lambda: _housekeeping(db, tickets, conversations, settings),
                )
            ),
        ]
        supporters = SupportRepository(db)
        try:
            ctx = IntakeContext(
                settings=settings,
                tickets=tickets,
                catalogue=CatalogueStore(db),
                idempotency=IdempotencyRepository(db),
                duplicates=DuplicateMarkers(db),
                photos=PhotoStore(db),
                photo_gate=PhotoGate(
                    decoders=settings.photo_decoders,
                    in_flight=settings.photo_uploads_in_flight,
                    max_pixels=settings.photo_max_pixels,
                    max_side=settings.photo_max_side,
                ),
                rate_limiter=AddressLimiter(per_minute=settings.rate_limit_per_minute),
                supporters=supporters,
                nearby=NearbyReports(db, supporters),
                support_limiter=AddressLimiter(per_minute=settings.support_per_minute),
                statistics=StatisticsReader(
                    StatisticsStore(db), ttl_s=settings.statistics.cache_seconds
                ),
            )
            chat = ChatContext(
                intake=ctx,
                conversations=conversations,
                media=GraphMedia(
                    http,
                    graph_url=settings.whatsapp.graph_url,
                    access_token=(
                        settings.whatsapp.access_token.get_secret_value()
                        if settings.whatsapp.access_token
                        else None
                    ),
                    timeout_s=settings.whatsapp.media_timeout_seconds,
                    max_bytes=settings.photo_max_bytes,
                ),
                wake_relay=chat_relay.wake,
            )
            if settings.canary_interval_s > 0:
                background.append(
                    asyncio.create_task(
                        keep_running(
                            "intake-canary",
                            lambda: canary.run(ctx, interval_s=settings.canary_interval_s),
                        )
                    )
                )
            yield {"db": db, "intake": ctx, "chat": chat}
        finally:
            await stop(background)
            await http.aclose()
            await publisher.close()
            await close_client(client)

    app = build_app(
        settings=settings,
        title="Layanan Pengaduan: intake",
        description=DESCRIPTION,
        lifespan=lifespan,
        readiness=readiness,
        body_limit_overrides=[
            (PHOTO_UPLOAD_PATH, settings.photo_max_bytes + MULTIPART_SLACK),
            (WEB_UPLOAD_PATH, web_upload_limit(settings)),
            (WEBHOOK_PATH, WEBHOOK_MAX_BYTES),
        ],
    )
    app.include_router(router)
    app.include_router(web_router)
    app.include_router(open311_router)
    app.include_router(chat_router)
    app.include_router(statistics_router)
    app.mount("/static", static_files(), name="static")
    return app
