"""Business-card reading: how many fields of 60 photographed cards come out right, and how fast.

    python bench/cards.py [--cards 60] [--baseline]

Renders the cards itself (bench/cardset.py), reads each with the server's OCR engine
(sync/card_ocr.py, RapidOCR) and turns the text into fields (sync/card_fields.py), then compares
with the truth kept beside each card. A field is right when it equals the truth exactly, accents
and all (case and runs of spaces aside); the phone is compared in E.164. --baseline also reads the
same cards with Tesseract (Debian's tesseract-ocr with deu, fra and spa data, through pytesseract)
and prints its figures first. bench/capture_bench.py prints these figures on its last line; run
alone, the last line is:
cards=N fields_right_pct=P ocr_p50_ms=N
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cardset import EVENT_REGION, CardTruth, render_cards  # noqa: E402
from bench.percentiles import percentile  # noqa: E402
from sync import card_ocr  # noqa: E402
from sync.card_fields import OcrLine, extract_fields  # noqa: E402

SCORED = ("name", "email", "phone", "company", "job_title", "website")
TARGETS = {"email": 90, "phone": 90, "name": 80, "company": 80}


def _same(got: str | None, want: str) -> bool:
    return " ".join((got or "").split()).casefold() == " ".join(want.split()).casefold()


def score(fields: dict[str, str], truth: CardTruth) -> dict[str, bool]:
    """Tell, field by field, whether what was read equals the card's truth."""
    name = " ".join(filter(None, (fields.get("first_name"), fields.get("last_name"))))
    return {
        "name": _same(name, truth.name),
        "email": _same(fields.get("email"), truth.email),
        "phone": _same(fields.get("phone"), truth.phone),
        "company": _same(fields.get("company"), truth.company),
        "job_title": _same(fields.get("job_title"), truth.title),
        "website": _same(fields.get("website"), truth.website),
    }


def tesseract_lines(image: bytes) -> list[OcrLine]:
    """Read image with Tesseract, one OcrLine per line of its page layout."""
    import pytesseract
    from PIL import Image

    picture = Image.open(io.BytesIO(image)).convert("L")
    data = pytesseract.image_to_data(
        picture, lang="eng+deu+fra+spa", output_type=pytesseract.Output.DICT
    )
    groups: dict[tuple[int, int, int], list[tuple[int, str, int]]] = {}
    for index, word in enumerate(data["text"]):
        if word.strip() and float(data["conf"][index]) >= 0:
            key = (data["block_num"][index], data["par_num"][index], data["line_num"][index])
            groups.setdefault(key, []).append((data["left"][index], word, data["height"][index]))
    lines = []
    for key in sorted(groups):
        words = sorted(groups[key])
        heights = sorted(height for _, _, height in words)
        lines.append(OcrLine(" ".join(word for _, word, _ in words), heights[len(heights) // 2]))
    return lines


def measure(reader: Callable[[bytes], list[OcrLine]], cards: list) -> dict[str, float]:
    """Read every card with reader; return per-field percentages right, overall and OCR p50."""
    right = dict.fromkeys(SCORED, 0)
    times, cpu = [], []
    for card in cards:
        started, started_cpu = time.perf_counter(), time.process_time()
        lines = reader(card.jpeg)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        for field, ok in score(extract_fields(lines, EVENT_REGION), card.truth).items():
            right[field] += ok
    figures = {field: 100 * count / len(cards) for field, count in right.items()}
    figures["fields_right_pct"] = sum(right.values()) * 100 / (len(cards) * len(SCORED))
    figures["ocr_p50_ms"] = percentile(times, 0.5) * 1000
    # CPU of this process (Tesseract's runs in its own: see docs/business-cards.md).
    figures["cpu_p50_ms"] = percentile(cpu, 0.5) * 1000
    return figures


def describe(engine: str, figures: dict[str, float]) -> str:
    """Return one line of an engine's per-field figures."""
    fields = " ".join(f"{field}={figures[field]:.0f}%" for field in SCORED)
    return (
        f"{engine}: {fields} ocr_p50_ms={figures['ocr_p50_ms']:.0f}"
        f" cpu_p50_ms={figures['cpu_p50_ms']:.0f}"
    )


def card_figures(count: int = 60, baseline: bool = False, out=sys.stdout) -> dict[str, float]:
    """Render count cards, print each engine's figures and return RapidOCR's."""
    started = time.perf_counter()
    cards = render_cards(count)
    print(f"rendered {count} cards in {time.perf_counter() - started:.1f} s", file=out)
    if baseline:
        try:
            import pytesseract

            pytesseract.get_tesseract_version()
        except Exception as error:  # missing module or binary: say so, measure the rest
            print(f"tesseract baseline skipped: {error}", file=out)
        else:
            print(describe("tesseract", measure(tesseract_lines, cards)), file=out)
    card_ocr.read_lines(cards[0].jpeg)  # load the models outside the timed reads
    figures = measure(card_ocr.read_lines, cards)
    print(describe("rapidocr", figures), file=out)
    missed = [f"{field} {figures[field]:.0f}% < {want}%" for field, want in TARGETS.items()
              if figures[field] < want]  # fmt: skip
    print("targets: " + ("; ".join(missed) if missed else "met"), file=out)
    print(f"load average (1 min) {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", file=out)
    return figures


def main() -> None:
    """Run the card benchmark alone and print its figures last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=60)
    parser.add_argument("--baseline", action="store_true", help="also measure Tesseract")
    args = parser.parse_args()
    figures = card_figures(args.cards, args.baseline)
    print(
        f"cards={args.cards} fields_right_pct={figures['fields_right_pct']:.1f} "
        f"ocr_p50_ms={figures['ocr_p50_ms']:.0f}"
    )


if __name__ == "__main__":
    main()
