"""Draw a tablet pairing code as an inline SVG QR code (no network, no image files)."""

from __future__ import annotations

import io

import segno
from markupsafe import Markup


def qr_svg(payload: str) -> Markup:
    """Return payload as an SVG QR code safe to place in a page."""
    buffer = io.BytesIO()
    # A viewBox and no width/height (omitsize), so the stylesheet scales the whole symbol
    # instead of cropping it; a white quiet zone of 4 modules, which scanners need, whatever
    # colour the page behind it has.
    segno.make(payload, error="m").save(
        buffer,
        kind="svg",
        scale=6,
        border=4,
        light="#fff",
        omitsize=True,
        xmldecl=False,
        svgns=True,
        title="Pairing code",
    )
    # segno writes the SVG itself; nothing in it comes from the user but the code's bits.
    return Markup(buffer.getvalue().decode())  # noqa: S704
