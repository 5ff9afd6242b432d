"""Make the JPEG a card photo is kept and sent as: upright, at most 1600 pixels on its long side.

1600 pixels keep a card's smallest type legible for OCR (docs/business-cards.md) while the file
stays a few hundred kilobytes, a handful of upload chunks on a booth's network.
"""

from __future__ import annotations

import io
from typing import Any

MAX_SIDE = 1600
QUALITY = 85


def prepare_photo(image: bytes | Any) -> bytes:
    """Return image (encoded bytes, or a PIL image) as an RGB JPEG no larger than MAX_SIDE."""
    from PIL import Image, ImageOps  # the app's dependency; the server never calls this

    if isinstance(image, Image.Image):
        upright = image.convert("RGB")
    else:
        with Image.open(io.BytesIO(image)) as picture:
            upright = ImageOps.exif_transpose(picture).convert("RGB")
    upright.thumbnail((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()
