"""Pure photo handling: recognise the image from its bytes and re-encode it without metadata."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PIXELS = 40_000_000


class NotAnImage(ValueError):
    pass


def clean_image(data: bytes) -> tuple[bytes, str]:
    """The image re-encoded with no EXIF/XMP/GPS metadata, and its content type.

    The type comes from the content, never from a file name; anything else is NotAnImage.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format or ""
                probe.verify()
            if kind not in ALLOWED:
                raise NotAnImage(kind or "unknown")
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise NotAnImage("too many pixels")
                upright = ImageOps.exif_transpose(image)
                out = io.BytesIO()
                if kind == "JPEG":
                    upright.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
                elif kind == "PNG":
                    upright.save(out, "PNG", optimize=True)
                else:
                    upright.save(out, "WEBP", quality=85)
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise NotAnImage(str(exc)) from exc
    return out.getvalue(), ALLOWED[kind]
