"""Photograph a business card on the capture screen: one still from the camera, as a JPEG.

The frame comes from the app's one frame source: Kivy's Camera on a tablet that has one,
the `--frames` folder on a desktop, a queue in the tests. The still is scaled and encoded off
the UI thread (sync/card_photo.py) and handed back on Kivy's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.clock import Clock

from sync.card_photo import prepare_photo

STILL_POLL = 0.1  # seconds between looks for the camera's first frame
STILL_TIMEOUT = 5.0  # give up when no frame arrives (a camera that never starts)


class StillCapture:
    """Take one still; on_photo gets the JPEG bytes (or None when no frame came)."""

    def __init__(self, on_photo: Callable[[bytes | None], object]):
        self._on_photo = on_photo
        self._event: Any = None
        self._source: Any = None
        self._waited = 0.0

    @property
    def active(self) -> bool:
        """Tell whether the camera is on, waiting for the still."""
        return self._event is not None

    def start(self, preview: Any) -> bool:
        """Turn the camera on with its picture in preview; False when there is no camera."""
        source = App.get_running_app().camera_in(preview)
        if source is None:
            return False
        self._source, self._waited = source, 0.0
        source.start()
        self._event = Clock.schedule_interval(self._poll, STILL_POLL)
        return True

    def _poll(self, dt: float) -> None:
        frame = self._source.grab()
        self._waited += dt
        if frame is None and self._waited < STILL_TIMEOUT:
            return
        self.stop()
        if frame is None:
            self._on_photo(None)
            return
        app = App.get_running_app()
        app.run_io(lambda: prepare_photo(frame), self._on_photo)

    def stop(self) -> None:
        """Turn the camera off."""
        if self._event is not None:
            self._event.cancel()
            self._event = None
            self._source.stop()
