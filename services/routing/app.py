"""Composition root of routing: settings in, a FastAPI app out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from pymongo.asynchronous.database import AsyncDatabase

from services.routing import service, statistics
from services.routing.accounts import seed_dev_accounts
from services.routing.api import router
from services.routing.cluster_api import router as cluster_router
from services.routing.cluster_service import Clusters
from services.routing.cluster_store import ClusterRepository
from services.routing.clustering import Matcher
from services.routing.deadlines import DeadlineScheduler
from services.routing.handlers import CONSUMER_CONCURRENCY, build_handlers
from services.routing.housekeeping import Housekeeping
from services.routing.learning import ModelStore, retrain_loop
from services.routing.ops_counts import BacklogQueries, OpsCounts
from services.routing.queries import TicketQueries
from services.routing.reports import router as reports_router
from services.routing.repository import AccountRepository, LoginThrottle, TicketRepository
from services.routing.settings import RoutingSettings
from services.routing.staff import RoutingContext
from services.routing.startup import Startup
from services.routing.supporter_purge import SupporterContactPurge
from services.routing.throughput_api import router as throughput_router
from services.routing.web.page import STATIC_PATH, static_files
from services.routing.web.routes import router as console_router
from shared import topics
from shared.auth import PasswordHashing
from shared.catalogue import CatalogueStore, seed_catalogue
from shared.http import build_app
from shared.kafka import ConsumeLoop, KafkaPublisher, ensure_topics
from shared.mongo import Document, connect, ping
from shared.mongo import close as close_client
from shared.outbox import OutboxRelay
from shared.statistics.store import StatisticsReader, StatisticsStore
from shared.supervise import stop
from shared.tickets import COLLECTION

log = logging.getLogger(__name__)

DESCRIPTION = """Routing of Layanan Pengaduan: classification to the responsible OPD, deadlines,
and the API for officers, supervisors, admins and auditors."""


async def readiness(request: Request) -> dict[str, str]:
    """MongoDB must answer and the database's start-up be done; Kafka being down only delays
    events (they wait in the outboxes), so it is reported as degraded and the officer
    console stays in service."""
    startup: Startup = request.state.startup
    db_ok = await ping(request.state.db)
    consuming = request.state.consumer.connected.is_set()
    return {
        "mongodb": "ok" if db_ok else "down",
        "startup": "ok" if startup.prepared.is_set() else "down",
        "kafka": "ok" if consuming else "degraded",
    }


def liveness(request: Request) -> bool:
    startup: Startup = request.app.state.startup
    return startup.alive()


async def prepare_database(
    settings: RoutingSettings,
    db: AsyncDatabase[Document],
    accounts: AccountRepository,
    catalogue: CatalogueStore,
    queries: TicketQueries,
) -> None:
    """Seed the catalogue (and dev accounts) and create the indexes."""
    await seed_catalogue(db)
    await queries.ensure_indexes()
    if settings.seed_dev_accounts:
        created = await seed_dev_accounts(accounts=accounts, catalogue=await catalogue.get())
        if created:
            log.info("seeded %d development accounts", created)


def create_app(settings: RoutingSettings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(this: FastAPI) -> AsyncIterator[dict[str, Any]]:
        client = connect(settings.mongodb_url, timeout_ms=settings.mongodb_timeout_ms)
        db = client[settings.mongodb_database]
        tickets = TicketRepository(db, batch_locks=True)
        accounts = AccountRepository(
            db,
            passwords=PasswordHashing(
                concurrency=settings.password_hashing_concurrency,
                max_waiting=settings.password_hashing_max_waiting,
            ),
        )
        catalogue = CatalogueStore(db)
        queries = TicketQueries(db[COLLECTION])
        throttle = LoginThrottle(
            db,
            max_failures=settings.login_max_failures,
            max_failures_per_address=settings.login_max_failures_per_address,
            window=timedelta(minutes=settings.login_lock_minutes),
        )
        models = ModelStore(db, cache_dir=settings.model_cache_dir)
        cluster_store = ClusterRepository(db)
        clusters = Clusters(
            tickets=tickets,
            store=cluster_store,
            matcher=Matcher(
                threshold=settings.cluster_threshold,
                window=timedelta(days=settings.cluster_window_days),
                max_distance_m=settings.cluster_distance_m,
            ),
        )
        proposals = clusters if settings.cluster_proposals else None

        publisher = KafkaPublisher(settings.kafka(), client_id="routing")
        relay = OutboxRelay(
            collection=db[COLLECTION],
            locks=tickets.locks,
            publisher=publisher,
            topic=topics.TICKETS,
            producer=service.PRODUCER,
            poll_interval_s=settings.outbox_poll_interval_s,
            sweep_interval_s=settings.outbox_sweep_interval_s,
        )
        tickets.on_outbox(relay.notify)

        async def route_stale(tracking_code: str) -> bool:
            return await service.route_submitted_ticket(
                tracking_code=tracking_code,
                tickets=tickets,
                catalogue=await catalogue.get(),
                threshold=settings.confidence_threshold,
                calendar=settings.calendar(),
                model=await models.active_model(),
                choice_timeout=timedelta(minutes=settings.chat_choice_timeout_minutes),
                clusters=proposals,
            )

        deadlines = DeadlineScheduler(tickets, settings.calendar())
        housekeeping = Housekeeping(
            tickets,
            contact_retention=timedelta(days=settings.contact_retention_days),
            route_stale=route_stale,
            supporter_purge=SupporterContactPurge(
                db, retention=timedelta(days=settings.contact_retention_days)
            ),
            sign_in_attempts=throttle,
        )
        statistics_consumer = statistics.consumer(
            settings, statistics.projector(settings, db), publisher
        )
        consumer = ConsumeLoop(
            bootstrap_servers=settings.kafka(),
            group_id=settings.consumer_group,
            topics=[topics.TICKETS],
            handlers=build_handlers(
                settings=settings,
                tickets=tickets,
                catalogue=catalogue,
                models=models,
                clusters=proposals,
            ),
            dead_letter_topic=topics.DLQ_ROUTING,
            publisher=publisher,
            concurrency=CONSUMER_CONCURRENCY,
        )

        async def load_model() -> None:
            await asyncio.to_thread(models.packaged)  # load or train, off the event loop

        startup = Startup(timeout_s=settings.startup_timeout_s)
        this.state.startup = startup
        run_startup = startup.run(
            database=[
                ("database", lambda: prepare_database(settings, db, accounts, catalogue, queries)),
                ("throttle-indexes", throttle.ensure_indexes),
                ("cluster-indexes", cluster_store.ensure_indexes),
                ("model", load_model),
            ],
            database_loops=[
                (
                    "routing-deadlines",
                    lambda: deadlines.run(interval_s=settings.deadline_interval_s),
                ),
                (
                    "routing-housekeeping",
                    lambda: housekeeping.run(interval_s=settings.deadline_interval_s),
                ),
                (
                    "routing-ops-counts",
                    lambda: OpsCounts(BacklogQueries(db)).run(
                        catalogue, interval_s=settings.ops_count_interval_s
                    ),
                ),
                (
                    "routing-retrain",
                    lambda: retrain_loop(
                        models,
                        catalogue,
                        threshold=settings.confidence_threshold,
                        interval=timedelta(seconds=settings.retrain_interval_s),
                    ),
                ),
            ],
            kafka=[("topics", lambda: ensure_topics(settings.kafka()))],
            kafka_loops=[
                ("routing-consumer", consumer.run),
                *(
                    [("routing-statistics", statistics_consumer.run)]
                    if settings.statistics_consumer
                    else []
                ),
                ("routing-outbox", relay.run),
            ],
        )

        background = asyncio.create_task(run_startup, name="routing-background")
        try:
            yield {
                "db": db,
                "startup": startup,
                "consumer": consumer,
                "routing": RoutingContext(
                    settings=settings,
                    tickets=tickets,
                    queries=queries,
                    accounts=accounts,
                    catalogue=catalogue,
                    models=models,
                    statistics=StatisticsReader(StatisticsStore(db), ttl_s=30.0),
                    clusters=clusters,
                ),
                "throttle": throttle,
            }
        finally:
            await stop([background])
            await publisher.close()
            await close_client(client)

    app = build_app(
        settings=settings,
        title="Layanan Pengaduan: routing",
        description=DESCRIPTION,
        lifespan=lifespan,
        readiness=readiness,
        liveness=liveness,
    )
    app.include_router(throughput_router)  # first: /tickets/forecast before /tickets/{code}
    app.include_router(router)
    app.include_router(cluster_router)
    app.include_router(console_router)
    app.include_router(reports_router)
    app.mount(STATIC_PATH, static_files(), name="console-static")
    return app
