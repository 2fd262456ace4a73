"""Photo handling: recognise the image from its bytes, bound what decoding it may cost, and
re-encode it without metadata.

A small file can hold a huge image (a "decompression bomb": 600 KB of JPEG for 40 megapixels,
a few KB of PNG for a gigapixel). The pixel count is read from the header and checked before
anything is decoded; a JPEG is decoded straight at a reduced scale when it is larger than what
is stored; decoding runs in a worker thread, a few at a time (`PhotoGate`).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import warnings
from collections.abc import AsyncIterator

from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PIXELS = 16_000_000
MAX_SIDE = 2560  # photos are stored at most this many pixels wide and high


class NotAnImage(ValueError):
    """Not a JPEG, PNG or WebP image, or a damaged one (HTTP 415)."""


class TooManyPixels(ValueError):
    """An image with more pixels than allowed: refused before it is decoded (HTTP 413)."""


class GateFull(Exception):
    """Too many photos are waiting to be decoded: try again shortly (HTTP 503)."""


def clean_image(
    data: bytes, *, max_pixels: int = MAX_PIXELS, max_side: int = MAX_SIDE
) -> tuple[bytes, str]:
    """The image re-encoded with no EXIF/XMP/GPS metadata, at most `max_side` pixels wide and
    high, and its content type.

    The type comes from the content, never from a file name; anything else is NotAnImage.
    Memory: at most about `max_pixels` x 4 bytes while decoding.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:  # reads the header only
                kind = probe.format or ""
                width, height = probe.size
                if kind not in ALLOWED:
                    raise NotAnImage(kind or "unknown")
                if width * height > max_pixels:
                    raise TooManyPixels(f"{width}x{height}")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                if kind == "JPEG":
                    image.draft("RGB", (max_side, max_side))  # decode at 1/2, 1/4 or 1/8
                image.thumbnail((max_side, max_side))
                upright = ImageOps.exif_transpose(image)
                out = io.BytesIO()
                if kind == "JPEG":
                    upright.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
                elif kind == "PNG":
                    upright.save(out, "PNG", optimize=True)
                else:
                    upright.save(out, "WEBP", quality=85)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooManyPixels(str(exc)) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, (NotAnImage, TooManyPixels)):
            raise
        raise NotAnImage(str(exc)) from exc
    return out.getvalue(), ALLOWED[kind]


class PhotoGate:
    """Bounds what photos cost at once: `in_flight` uploads held in memory (more are refused
    at once with GateFull) and `decoders` decodings, each in a worker thread."""

    def __init__(
        self,
        *,
        decoders: int = 1,
        in_flight: int = 8,
        max_pixels: int = MAX_PIXELS,
        max_side: int = MAX_SIDE,
    ) -> None:
        self._decoding = asyncio.Semaphore(decoders)
        self._in_flight = in_flight
        self._admitted = 0
        self._max_pixels = max_pixels
        self._max_side = max_side

    @contextlib.asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """Hold a place for one upload (its bytes and its decoding); GateFull when none is free."""
        if self._admitted >= self._in_flight:
            raise GateFull
        self._admitted += 1
        try:
            yield
        finally:
            self._admitted -= 1

    async def clean(self, data: bytes) -> tuple[bytes, str]:
        """`clean_image` in a worker thread, once a decoder is free."""
        async with self._decoding:
            return await asyncio.to_thread(
                clean_image, data, max_pixels=self._max_pixels, max_side=self._max_side
            )
