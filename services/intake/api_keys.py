"""Open311 API keys: one per client application, stored only as a SHA-256 hash.

`python -m services.intake.api_keys create --name "Aplikasi X" --contact dev@x.example` prints a
new key once; `list` shows the issued keys (never the keys themselves) and `revoke <id>` stops one.
In development the key `dev-open311-key` is seeded so local clients and checks can post.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import re
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from services.intake.settings import IntakeSettings
from services.intake.stores import ApiClientOf, ApiKeys
from shared.events import utcnow
from shared.mongo import Document, connect
from shared.settings import DEV_OPEN311_API_KEY

log = logging.getLogger(__name__)

COLLECTION = "open311_api_keys"
DEV_CLIENT_NAME = "Kunci pengembangan (development key)"
ID_LENGTH = 12  # the part of the hash `list` shows and `revoke` takes


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return secrets.token_urlsafe(32)


def key_acceptable(key: str | None, *, production: bool) -> bool:
    """Whether a presented key is worth looking up: present, and never the dev key in production."""
    if not key:
        return False
    return not (production and key == DEV_OPEN311_API_KEY)


@dataclass(frozen=True)
class ApiClient:
    """The client application a key was issued to."""

    id: str
    name: str
    contact: str


def _client(doc: Document) -> ApiClient:
    return ApiClient(id=str(doc["_id"])[:ID_LENGTH], name=doc["name"], contact=doc["contact"])


class ApiKeyRepository:
    """The `open311_api_keys` collection (intake is its only writer); `_id` is the key's hash."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._keys = db[COLLECTION]

    async def create(self, *, name: str, contact: str, now: datetime) -> str:
        """Issue a key for a client application; the key itself is returned once, never stored."""
        key = new_key()
        await self._keys.insert_one(
            {
                "_id": hash_key(key),
                "name": name,
                "contact": contact,
                "created_at": now,
                "revoked_at": None,
            }
        )
        return key

    async def ensure(self, key: str, *, name: str, contact: str, now: datetime) -> None:
        """Store a known key unless it exists already (never un-revokes it)."""
        await self._keys.update_one(
            {"_id": hash_key(key)},
            {
                "$setOnInsert": {
                    "name": name,
                    "contact": contact,
                    "created_at": now,
                    "revoked_at": None,
                }
            },
            upsert=True,
        )

    async def find(self, key: str) -> ApiClient | None:
        """The client a key belongs to, if the key was issued and not revoked."""
        doc = await self._keys.find_one({"_id": hash_key(key)})
        if doc is None or doc.get("revoked_at") is not None:
            return None
        return _client(doc)

    async def all(self) -> list[Document]:
        docs = await self._keys.find({}).sort("created_at", 1).to_list()
        return [{**doc, "_id": str(doc["_id"])[:ID_LENGTH]} for doc in docs]

    async def revoke(self, key_id: str, *, now: datetime) -> bool:
        """Revoke the one key whose hash starts with `key_id`; False if none or several match."""
        if not re.fullmatch(r"[0-9a-f]{6,64}", key_id):
            return False
        matches = await self._keys.find(
            {"_id": {"$regex": f"^{key_id}"}, "revoked_at": None}, {"_id": 1}
        ).to_list()
        if len(matches) != 1:
            return False
        await self._keys.update_one({"_id": matches[0]["_id"]}, {"$set": {"revoked_at": now}})
        return True


async def seed_dev_key(db: AsyncDatabase[Document], settings: IntakeSettings) -> None:
    """In development, make sure `dev-open311-key` exists (ARCHITECTURE.md's dev credentials)."""
    if settings.is_production:
        return
    try:
        await ApiKeyRepository(db).ensure(
            DEV_OPEN311_API_KEY, name=DEV_CLIENT_NAME, contact="-", now=utcnow()
        )
    except PyMongoError as exc:  # the database may come later; authenticate() seeds it then
        log.warning("could not seed the Open311 dev key: %s", type(exc).__name__)


async def authenticate(
    keys: ApiKeys, key: str | None, settings: IntakeSettings
) -> ApiClientOf | None:
    """The client application behind `key`, or None for a missing, unknown or revoked key."""
    if key is None or not key_acceptable(key, production=settings.is_production):
        return None
    client = await keys.find(key)
    if client is None and key == DEV_OPEN311_API_KEY:
        # Development only (key_acceptable refused it in production): seed it if the database
        # was down when the service started, unless it was revoked.
        await keys.ensure(key, name=DEV_CLIENT_NAME, contact="-", now=utcnow())
        client = await keys.find(key)
    return client


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m services.intake.api_keys", description="Manage Open311 API keys."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="issue a key to a client application")
    create.add_argument("--name", required=True, help="the client application")
    create.add_argument("--contact", required=True, help="who to contact about it")
    commands.add_parser("list", help="show issued keys (their ids, never the keys)")
    revoke = commands.add_parser("revoke", help="stop a key from working")
    revoke.add_argument("id", help="the key's id as `list` shows it")
    return parser


async def _run(args: argparse.Namespace, settings: IntakeSettings) -> int:
    client = connect(settings.mongodb_url, timeout_ms=settings.mongodb_timeout_ms)
    try:
        keys = ApiKeyRepository(client[settings.mongodb_database])
        if args.command == "create":
            key = await keys.create(name=args.name, contact=args.contact, now=utcnow())
            print(f"Open311 API key for {args.name} (shown only once; only its hash is kept):")
            print(key)
            return 0
        if args.command == "list":
            for doc in await keys.all():
                state = "revoked" if doc.get("revoked_at") else "active"
                created = doc["created_at"].isoformat()
                print("\t".join([doc["_id"], state, created, doc["name"], doc["contact"]]))
            return 0
        if await keys.revoke(args.id, now=utcnow()):
            print(f"revoked {args.id}")
            return 0
        print(f"no single active key with id {args.id}", file=sys.stderr)
        return 1
    finally:
        await client.close()


def main(argv: Sequence[str] | None = None, settings: IntakeSettings | None = None) -> int:
    args = _parser().parse_args(argv)
    return asyncio.run(_run(args, settings or IntakeSettings()))


if __name__ == "__main__":
    sys.exit(main())
