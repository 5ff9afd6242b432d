"""Read the text lines off a business-card photo with RapidOCR (models shipped in its wheel).

One engine per process, made on first use and shared by threads behind a lock (ONNX Runtime
sessions are safe to share, the engine's Python pre- and post-processing is not documented as
such). The engine reads the card at most 800 pixels on its long side for text detection: card
text stays legible there and detection, the costlier half, takes a third of the time it takes
at full size (docs/business-cards.md has the measurements).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sync.card_fields import OcrLine

DETECTION_SIDE = 800

_lock = threading.Lock()
_engine: Any = None


class OcrUnavailable(RuntimeError):
    """The OCR engine is not installed in this environment."""


def _make_engine() -> Any:
    try:
        from rapidocr import RapidOCR
    except ImportError as error:  # the tablet's Android build does not ship it
        raise OcrUnavailable("rapidocr is not installed") from error
    engine = RapidOCR(
        params={
            "Global.log_level": "error",
            # Cards are photographed upright; the 180-degree classifier only costs time.
            "Global.use_cls": False,
            "Det.limit_type": "max",
            "Det.limit_side_len": DETECTION_SIDE,
            # One thread per reading: ONNX Runtime's pool spins while it waits, which doubled
            # the CPU a card costs; a busy server reads several cards at once instead.
            "EngineConfig.onnxruntime.intra_op_num_threads": 1,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
    )
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    return engine


def available() -> bool:
    """Tell whether the OCR engine can run here."""
    try:
        import rapidocr  # noqa: F401
    except ImportError:
        return False
    return True


def read_lines(image: bytes) -> list[OcrLine]:
    """Return the text lines found in an encoded image (JPEG or PNG), top to bottom."""
    global _engine
    with _lock:
        if _engine is None:
            _engine = _make_engine()
        result = _engine(image)
    if result.txts is None:
        return []
    lines = []
    for box, text in zip(result.boxes, result.txts, strict=True):
        ys = [point[1] for point in box]
        lines.append((min(ys), OcrLine(str(text), float(max(ys) - min(ys)))))
    return [line for _, line in sorted(lines, key=lambda pair: pair[0])]
