"""MongoDB client construction and small helpers; repositories live in each service."""

from __future__ import annotations

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from shared.documents import Document as Document


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


async def ping(db: AsyncDatabase[Document]) -> bool:
    try:
        await db.command("ping")
    except PyMongoError:
        return False
    return True
