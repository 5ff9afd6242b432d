"""Frames from the tablet's camera, through Kivy's Camera widget (a FrameSource)."""

from __future__ import annotations

import logging

from kivy.uix.camera import Camera
from PIL import Image

log = logging.getLogger(__name__)


class KivyCameraSource:
    """Hand out the camera's current picture; the widget doubles as the preview."""

    def __init__(self, resolution: tuple[int, int] = (1280, 720)):
        self.widget = Camera(play=False, resolution=resolution, index=0)

    def start(self) -> None:
        """Turn the camera on."""
        self.widget.play = True

    def stop(self) -> None:
        """Turn the camera off."""
        self.widget.play = False

    def grab(self) -> Image.Image | None:
        """Return the current picture, or None before the first one arrives."""
        texture = self.widget.texture
        if texture is None:
            return None
        # The texture is the camera's CPU-side buffer: reading it costs one copy.
        return Image.frombytes("RGBA", texture.size, texture.pixels)


def open_camera() -> KivyCameraSource | None:
    """Return the device camera as a frame source, or None when there is none."""
    try:
        source = KivyCameraSource()
    except Exception as error:  # no provider, no device, no permission
        log.info("no camera: %s", error)
        return None
    if getattr(source.widget, "_camera", None) is None:
        return None
    return source
