"""MongoDB client construction and small helpers; repositories live in each service."""

from __future__ import annotations

import asyncio
import logging

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from shared.documents import Document as Document

log = logging.getLogger(__name__)


def connect(url: str, *, timeout_ms: int = 3000) -> AsyncMongoClient[Document]:
    """A client that fails fast (a few seconds) when the server is unreachable."""
    return AsyncMongoClient(
        url,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=max(timeout_ms * 3, 10000),
        tz_aware=True,
        uuidRepresentation="standard",
        appname="layanan-pengaduan",
    )


async def close(client: AsyncMongoClient[Document], *, timeout_s: float = 5.0) -> None:
    """Close the client, but not for ever: on Python 3.11, cancelling a task while PyMongo
    waits in server selection (`asyncio.wait_for` around a condition's wait) can leave the
    topology's lock held by nobody, and `close()` then waits for it without end (seen when a
    service stopped with its database unreachable). What is left is cancelled with the loop."""
    try:
        async with asyncio.timeout(timeout_s):
            await client.close()
    except TimeoutError:
        log.warning("the MongoDB client did not close in %.0fs; leaving it", timeout_s)


async def ping(db: AsyncDatabase[Document]) -> bool:
    try:
        await db.command("ping")
    except PyMongoError:
        return False
    return True
