"""Composition root of notify: settings in, a FastAPI app out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI, Request
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from services.notify import recipients
from services.notify.api import router
from services.notify.channels import build_channels
from services.notify.digests import DigestBuilder
from services.notify.dispatch import (
    Clock,
    DeadLetters,
    Dispatcher,
    KafkaDeadLetters,
    retry_policy,
)
from services.notify.handlers import build_handlers
from services.notify.notifier import ChatReplies, Notifier, NotifyConfig
from services.notify.oncall import OncallRelay
from services.notify.oncall import router as oncall_router
from services.notify.rendering import Links, Renderer
from services.notify.repository import (
    ChatDirectory,
    DeliveryRepository,
    DigestRepository,
    StaffDirectory,
    SupporterContacts,
    TicketContacts,
    anonymise_deliveries,
    anonymise_digest_items,
)
from services.notify.settings import NotifySettings
from shared import topics
from shared.catalogue import CatalogueStore
from shared.events import utcnow
from shared.http import build_app
from shared.kafka import ConsumeLoop, KafkaPublisher
from shared.mongo import Document, connect, ping
from shared.mongo import close as close_client
from shared.supervise import keep_running, raise_if_stopping, stop

DESCRIPTION = """Notify of Layanan Pengaduan: every outbound message (email, WhatsApp, SMS,
webhooks), exactly once per event, recipient and channel, with retries, a delivery log and
template previews."""


async def readiness(request: Request) -> dict[str, str]:
    db_ok = await ping(request.state.db)
    consuming = request.state.consumer.connected.is_set()
    return {"mongodb": "ok" if db_ok else "down", "kafka": "ok" if consuming else "down"}


def renderer_for(settings: NotifySettings) -> Renderer:
    return Renderer(
        links=Links(settings.public_base_url, settings.console_base_url),
        organisation=settings.organisation,
        tz=ZoneInfo(settings.timezone),
    )


@dataclass(frozen=True)
class Notify:
    """Notify's parts, wired: what the lifespan runs and the tests drive."""

    deliveries: DeliveryRepository
    digests: DigestRepository
    catalogue: CatalogueStore
    renderer: Renderer
    dispatcher: Dispatcher
    notifier: Notifier
    digest_builder: DigestBuilder
    chat_replies: ChatReplies


def wire(
    settings: NotifySettings,
    db: AsyncDatabase[Document],
    *,
    http: httpx.AsyncClient,
    dead_letters: DeadLetters,
    clock: Clock = utcnow,
) -> Notify:
    """Repositories, channels, sender, notifier and digest builder over one database."""
    deliveries = DeliveryRepository(db)
    digests = DigestRepository(db)
    staff = StaffDirectory(db, default_lang=settings.default_language)
    catalogue = CatalogueStore(db)
    renderer = renderer_for(settings)
    config = NotifyConfig.of(settings)
    dispatcher = Dispatcher(
        deliveries=deliveries,
        channels=build_channels(settings, http),
        policy=retry_policy(settings),
        dead_letters=dead_letters,
        clock=clock,
    )

    async def opd_names() -> Mapping[str, str]:
        return {o.code: o.name for o in (await catalogue.get()).opds}

    notifier = Notifier(
        deliveries=deliveries,
        digests=digests,
        tickets=TicketContacts(db),
        staff=staff,
        opd_names=opd_names,
        renderer=renderer,
        dispatcher=dispatcher,
        config=config,
        clock=clock,
        supporters=SupporterContacts(db),
    )
    digest_builder = DigestBuilder(
        digests=digests,
        deliveries=deliveries,
        staff=staff,
        renderer=renderer,
        dispatcher=dispatcher,
        config=config,
        poll_s=settings.digest.poll_seconds,
        clock=clock,
    )
    chat_replies = ChatReplies(
        deliveries=deliveries, chats=ChatDirectory(db), dispatcher=dispatcher, clock=clock
    )
    return Notify(
        deliveries, digests, catalogue, renderer, dispatcher, notifier, digest_builder, chat_replies
    )


def create_app(settings: NotifySettings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        client = connect(settings.mongodb_url, timeout_ms=settings.mongodb_timeout_ms)
        db = client[settings.mongodb_database]
        http = httpx.AsyncClient(follow_redirects=False)
        publisher = KafkaPublisher(settings.kafka(), client_id="notify")
        notify = wire(settings, db, http=http, dead_letters=KafkaDeadLetters(publisher))
        consumer = ConsumeLoop(
            bootstrap_servers=settings.kafka(),
            group_id=settings.consumer_group,
            topics=[topics.TICKETS, topics.CHATS],
            handlers=build_handlers(notifier=notify.notifier, chat_replies=notify.chat_replies),
            dead_letter_topic=topics.DLQ_NOTIFY,
            publisher=publisher,
            # One event at a time: a crash then leaves at most one message in the window
            # between send and record (docs/notify.md, "The crash window").
            parallel_partitions=False,
        )

        async def consume() -> None:
            await notify.deliveries.ensure_indexes()
            await notify.digests.ensure_indexes()
            await consumer.run()

        async def housekeeping() -> None:
            """Hourly: anonymise finished deliveries and digest items past the contact
            retention period."""
            while True:
                raise_if_stopping()  # a call may have swallowed the request to stop
                cutoff = utcnow() - timedelta(days=settings.contact_retention_days)
                with contextlib.suppress(PyMongoError):
                    await anonymise_deliveries(db, before=cutoff, mask=recipients.mask, pause_s=1.0)
                    await anonymise_digest_items(db, before=cutoff)
                raise_if_stopping()
                await asyncio.sleep(3600)

        loops: dict[str, Callable[[], Awaitable[None]]] = {
            "notify-consumer": consume,
            "notify-retry": notify.dispatcher.run,
            "notify-digest": notify.digest_builder.run,
            "notify-housekeeping": housekeeping,
        }
        background = [asyncio.create_task(keep_running(n, loop)) for n, loop in loops.items()]
        try:
            yield {
                "db": db,
                "deliveries": notify.deliveries,
                "digests": notify.digests,
                "consumer": consumer,
                "renderer": notify.renderer,
                "catalogue": notify.catalogue,
                "oncall": OncallRelay(
                    settings=settings.oncall,
                    deliveries=notify.deliveries,
                    dispatcher=notify.dispatcher,
                    clock=utcnow,
                ),
            }
        finally:
            await stop(background)
            await http.aclose()
            await publisher.close()
            await close_client(client)

    app = build_app(
        settings=settings,
        title="Layanan Pengaduan: notify",
        description=DESCRIPTION,
        lifespan=lifespan,
        readiness=readiness,
    )
    app.include_router(router)
    app.include_router(oncall_router)
    return app
