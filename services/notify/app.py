"""Composition root of notify: settings in, a FastAPI app out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request

from services.notify.api import router
from services.notify.channels import Channel, LogChannel
from services.notify.handlers import build_handlers
from services.notify.repository import DeliveryRepository, TicketContacts
from services.notify.settings import NotifySettings
from shared import topics
from shared.http import build_app
from shared.kafka import ConsumeLoop, KafkaPublisher
from shared.mongo import connect, ping
from shared.supervise import keep_running

DESCRIPTION = """Notify of Layanan Pengaduan: every outbound message, exactly once per event,
recipient and channel, with a delivery log."""


async def readiness(request: Request) -> dict[str, str]:
    db_ok = await ping(request.state.db)
    consuming = request.state.consumer.connected.is_set()
    return {"mongodb": "ok" if db_ok else "down", "kafka": "ok" if consuming else "down"}


def create_app(settings: NotifySettings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        client = connect(settings.mongodb_url, timeout_ms=settings.mongodb_timeout_ms)
        db = client[settings.mongodb_database]
        deliveries = DeliveryRepository(db)
        channels: dict[str, Channel] = {"log": LogChannel()}
        publisher = KafkaPublisher(settings.kafka_bootstrap_servers, client_id="notify")
        consumer = ConsumeLoop(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=settings.consumer_group,
            topics=[topics.TICKETS],
            handlers=build_handlers(
                deliveries=deliveries, contacts=TicketContacts(db), channels=channels
            ),
            dead_letter_topic=topics.DLQ_NOTIFY,
            publisher=publisher,
        )

        async def run() -> None:
            await deliveries.ensure_indexes()
            await consumer.run()

        background = asyncio.create_task(keep_running("notify-consumer", run))
        try:
            yield {"db": db, "deliveries": deliveries, "consumer": consumer}
        finally:
            background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await background
            await publisher.close()
            await client.close()

    app = build_app(
        settings=settings,
        title="Layanan Pengaduan: notify",
        description=DESCRIPTION,
        lifespan=lifespan,
        readiness=readiness,
    )
    app.include_router(router)
    return app
