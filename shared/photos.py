"""Complaint photos in GridFS: intake writes them, intake and the officers' console read them."""

from __future__ import annotations

import uuid

from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo.asynchronous.database import AsyncDatabase

from shared.mongo import Document

PHOTO_BUCKET = "photos"


class PhotoStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._bucket = AsyncGridFSBucket(db, bucket_name=PHOTO_BUCKET)

    async def put(self, data: bytes, *, content_type: str, tracking_code: str) -> str:
        photo_id = uuid.uuid4().hex
        await self._bucket.upload_from_stream_with_id(
            photo_id,
            f"{tracking_code}/{photo_id}",
            data,
            metadata={"content_type": content_type, "tracking_code": tracking_code},
        )
        return photo_id

    async def get(self, photo_id: str) -> bytes | None:
        try:
            stream = await self._bucket.open_download_stream(photo_id)
        except NoFile:
            return None
        data: bytes = await stream.read()
        return data

    async def delete(self, photo_id: str) -> None:
        """Remove a stored photo (one that could not be attached after all)."""
        try:
            await self._bucket.delete(photo_id)
        except NoFile:
            return
