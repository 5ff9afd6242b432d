"""Read codes from camera frames: where frames come from, and decoding them.

A FrameSource hands out the latest frame as a PIL image. On the tablet it wraps
Kivy's camera (mobile/camera.py); on a desktop or in tests it is a queue of images
or image files. A CodeReader decodes frames with zxing-cpp on a background thread,
one at a time (frames arriving while it is busy are skipped), until a code its parser
accepts turns up: a visitor's badge (read_badge, with sync/badge.py) or the
pairing QR code (sync/pairing_link.py).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from PIL import Image

from sync.badge import detect_format, parse_badge

Read = TypeVar("Read")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


class FrameSource(Protocol):
    """Something that produces camera frames."""

    def start(self) -> None:
        """Begin producing frames."""

    def stop(self) -> None:
        """Stop producing frames and release the camera."""

    def grab(self) -> Image.Image | None:
        """Return the newest frame not handed out yet, or None; called on the UI thread."""


class QueueFrameSource:
    """Frames pushed in by a test or a file feeder, handed out in order."""

    def __init__(self, frames: Iterable[Image.Image | str | Path] = ()):
        self._frames: collections.deque[Image.Image | str | Path] = collections.deque(frames)
        self._lock = threading.Lock()
        self.active = False

    def put(self, frame: Image.Image | str | Path) -> None:
        """Add a frame (an image or an image file's path)."""
        with self._lock:
            self._frames.append(frame)

    def start(self) -> None:
        """Begin handing out frames."""
        self.active = True

    def stop(self) -> None:
        """Stop handing out frames; queued frames stay for the next start."""
        self.active = False

    def grab(self) -> Image.Image | None:
        """Return the next queued frame while started, else None."""
        if not self.active:
            return None
        with self._lock:
            if not self._frames:
                return None
            frame = self._frames.popleft()
        if isinstance(frame, Image.Image):
            return frame
        with Image.open(frame) as image:
            image.load()
            return image


class ImageFileSource(QueueFrameSource):
    """Each start hands out the image files of a folder, one frame per file (desktop demo)."""

    def __init__(self, folder: str | Path):
        super().__init__()
        self.folder = Path(folder)
        self._next = 0

    def start(self) -> None:
        """Queue the folder's next image file."""
        files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if files:
            self.put(files[self._next % len(files)])
            self._next += 1
        super().start()


def decode_frame(image: Image.Image) -> list[str]:
    """Return the text of every barcode zxing-cpp finds in a frame."""
    import zxingcpp  # imported on first scan: it is not needed to start the app

    gray = image if image.mode == "L" else image.convert("L")
    return [result.text for result in zxingcpp.read_barcodes(gray) if result.text]


@dataclass(frozen=True)
class BadgeRead:
    """A decoded badge: its lead fields and which format it was."""

    fields: dict[str, str]
    format: str


def read_badge(text: str) -> BadgeRead:
    """Return the lead fields of one decoded code's text."""
    return BadgeRead(parse_badge(text), detect_format(text))


class CodeReader(Generic[Read]):
    """Decode frames from a source off the UI thread until one holds a code parse accepts.

    poll() is called on the UI thread (from a Clock interval); on_read is called on the
    decoding thread with what parse returned, once per start. A code parse refuses (it
    returns None: a badge held up to the pairing screen, say) is passed over.
    """

    def __init__(
        self,
        source: FrameSource,
        parse: Callable[[str], Read | None],
        on_read: Callable[[Read], object],
    ):
        self.source = source
        self._parse = parse
        self._on_read = on_read
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="code-decode")
        self._busy: Future[None] | None = None
        self._generation = 0
        self.scanning = False

    def start(self) -> None:
        """Start the source and look for a code."""
        self._generation += 1
        self.scanning = True
        self.source.start()

    def stop(self) -> None:
        """Stop looking; a frame being decoded is ignored."""
        self._generation += 1
        self.scanning = False
        self.source.stop()

    def poll(self) -> bool:
        """Hand the newest frame to the decoder if it is idle; return whether one was sent."""
        if not self.scanning or (self._busy is not None and not self._busy.done()):
            return False
        frame = self.source.grab()
        if frame is None:
            return False
        self._busy = self._executor.submit(self._decode, frame, self._generation)
        return True

    def _decode(self, frame: Image.Image, generation: int) -> None:
        reads = [read for read in map(self._parse, decode_frame(frame)) if read is not None]
        if not reads or generation != self._generation or not self.scanning:
            return
        self.scanning = False
        self._on_read(reads[0])

    def close(self) -> None:
        """Stop and end the decoding thread."""
        self.stop()
        self._executor.shutdown(wait=False, cancel_futures=True)
