"""Composition root of intake: settings in, a FastAPI app out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request

from services.intake.api import router
from services.intake.repository import TicketRepository
from services.intake.settings import IntakeSettings
from shared import topics
from shared.catalogue import CatalogueStore
from shared.http import build_app
from shared.kafka import KafkaPublisher, kafka_answers
from shared.mongo import connect, ping
from shared.outbox import OutboxRelay
from shared.supervise import keep_running
from shared.tickets import COLLECTION

DESCRIPTION = """Citizens' front door of Layanan Pengaduan: submit a complaint, suggestion or
information request and follow it with its tracking code. No account needed."""


async def readiness(request: Request) -> dict[str, str]:
    """MongoDB must answer; Kafka being down only delays routing (the outbox waits)."""
    settings: IntakeSettings = request.app.state.settings
    db_ok = await ping(request.state.db)
    kafka_ok = await kafka_answers(settings.kafka_bootstrap_servers)
    return {"mongodb": "ok" if db_ok else "down", "kafka": "ok" if kafka_ok else "degraded"}


def create_app(settings: IntakeSettings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        client = connect(settings.mongodb_url, timeout_ms=settings.mongodb_timeout_ms)
        db = client[settings.mongodb_database]
        publisher = KafkaPublisher(settings.kafka_bootstrap_servers, client_id="intake")
        relay = OutboxRelay(
            collection=db[COLLECTION],
            publisher=publisher,
            topic=topics.TICKETS,
            producer="intake",
            poll_interval_s=settings.outbox_poll_interval_s,
        )
        relay_task = asyncio.create_task(keep_running("intake-outbox", relay.run))
        try:
            yield {
                "db": db,
                "tickets": TicketRepository(db),
                "catalogue": CatalogueStore(db),
                "relay": relay,
            }
        finally:
            relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay_task
            await publisher.close()
            await client.close()

    app = build_app(
        settings=settings,
        title="Layanan Pengaduan: intake",
        description=DESCRIPTION,
        lifespan=lifespan,
        readiness=readiness,
    )
    app.include_router(router)
    return app
