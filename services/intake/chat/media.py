"""Photos sent in WhatsApp, fetched from the Graph API: `GET <graph_url>/<media id>` gives a
short-lived URL, and that URL (with the same bearer token) gives the bytes."""

from __future__ import annotations

from typing import Protocol

import httpx


class MediaUnavailable(Exception):
    """The photo could not be fetched (expired, refused, too large, or the API is away)."""


class MediaSource(Protocol):
    async def fetch(self, media_id: str) -> bytes:
        """The photo's bytes, or MediaUnavailable."""


class GraphMedia:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        graph_url: str,
        access_token: str | None,
        timeout_s: float,
        max_bytes: int,
    ) -> None:
        self._client = client
        self._graph_url = graph_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        self._timeout_s = timeout_s
        self._max_bytes = max_bytes

    async def fetch(self, media_id: str) -> bytes:
        if not media_id or "/" in media_id:
            raise MediaUnavailable("no media id")
        try:
            meta = await self._client.get(
                f"{self._graph_url}/{media_id}", headers=self._headers, timeout=self._timeout_s
            )
            meta.raise_for_status()
            url = meta.json().get("url")
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise MediaUnavailable("no media URL")
            data = bytearray()
            async with self._client.stream(
                "GET", url, headers=self._headers, timeout=self._timeout_s
            ) as response:
                response.raise_for_status()
                async for chunk in response.aiter_bytes():
                    data.extend(chunk)
                    if len(data) > self._max_bytes:
                        break  # add_photo refuses it as too large
        except (httpx.HTTPError, ValueError) as exc:
            raise MediaUnavailable(type(exc).__name__) from exc
        return bytes(data)
