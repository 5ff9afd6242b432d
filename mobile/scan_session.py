"""Scan from a screen: the camera in the screen's preview, frames decoded on Kivy's clock.

Badges on the capture screen and the pairing code on the pairing screen both scan this way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic

from kivy.app import App
from kivy.clock import Clock

from mobile.scanning import CodeReader, Read

SCAN_POLL = 0.2  # seconds between frames handed to the decoder


class ScanSession(Generic[Read]):
    """Look for a code parse accepts; on_read gets it on the UI thread, once per start.

    on_active hears each start and stop (True, False), so a screen's "scanning" property
    follows the session instead of being kept in step by hand.
    """

    def __init__(
        self,
        parse: Callable[[str], Read | None],
        on_read: Callable[[Read], object],
        on_active: Callable[[bool], object],
    ):
        self._parse = parse
        self._on_read = on_read
        self._on_active = on_active
        self._reader: CodeReader[Read] | None = None
        self._event: Any = None

    @property
    def active(self) -> bool:
        """Tell whether the camera is on and frames are being decoded."""
        return self._event is not None

    def start(self, preview: Any) -> bool:
        """Turn the camera on with its picture in preview; False when there is no camera."""
        source = App.get_running_app().camera_in(preview)
        if source is None:
            return False
        if self._reader is None:
            self._reader = CodeReader(
                source,
                self._parse,
                lambda read: Clock.schedule_once(lambda _dt: self._read(read)),
            )
        self._reader.start()
        self._event = Clock.schedule_interval(self._poll, SCAN_POLL)
        self._on_active(True)
        return True

    def _poll(self, _dt: float) -> None:
        # Returns None on purpose: Kivy cancels an interval whose callback returns False,
        # and poll() is False whenever no frame is ready or the decoder is busy.
        if self._reader is not None:
            self._reader.poll()

    def _read(self, read: Read) -> None:
        if self.active:
            self.stop()
            self._on_read(read)

    def stop(self) -> None:
        """Turn the camera off; a frame being decoded is ignored."""
        if self._event is not None:
            self._event.cancel()
            self._event = None
            if self._reader is not None:
                self._reader.stop()
            self._on_active(False)
