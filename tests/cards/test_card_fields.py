"""Card text to lead fields, on what the OCR engine really read off rendered cards."""

from __future__ import annotations

import pytest

from bench.cardset import EVENT_REGION, RenderedCard
from sync import card_ocr
from sync.card_fields import OcrLine, extract_fields, split_name

needs_ocr = pytest.mark.skipif(not card_ocr.available(), reason="rapidocr is not installed")

# What RapidOCR and Tesseract read off rendered cards (bench/cardset.py), as they read it.
RAPIDOCR_SPLIT_CARD = [
    OcrLine("Móvil +34-810-38-31-12", 40),
    OcrLine("www.iberica-logistica.es", 40),
    OcrLine("Andrés Fernández", 66),
    OcrLine("Passeig de Gràcia 120, 08008 Barcelona", 40),
    OcrLine("Directora de Ventas", 40),
    OcrLine("a.fernandez@iberica-logistica.es", 40),
    OcrLine("Ibérica Logística S.L.", 55),
]
TESSERACT_BAND_CARD = [
    OcrLine("Kestrel Software Ltd", 38),
    OcrLine("Jack Thompson", 46),
    OcrLine("Sales Director", 28),
    OcrLine("Www.kestrel-software.co.uk", 26),
    OcrLine("Jackt@kestrel-software.co, uk", 26),
    OcrLine("+44-7401-147387", 26),
    OcrLine("22 King's Road, London sw3 4Rp", 26),
]
TESSERACT_FAX_CARD = [
    OcrLine("Fjällsjö Automation AB", 40),
    OcrLine("Märta Nyström", 48),
    OcrLine("Inköpschef", 28),
    OcrLine("martan@fjallsjo-automation.se", 26),
    OcrLine("Kungsgatan 46, 411 19 Göteborg", 26),
    OcrLine("www. fjallsjo-automation.se", 26),
    OcrLine("Fax +46-8-11-54-12", 26),
    OcrLine("Tel. +46 8 19 98 37", 26),
]


def test_reads_every_field_of_a_two_column_card() -> None:
    fields = extract_fields(RAPIDOCR_SPLIT_CARD, "DE")
    assert fields == {
        "first_name": "Andrés",
        "last_name": "Fernández",
        "email": "a.fernandez@iberica-logistica.es",
        "phone": "+34810383112",
        "company": "Ibérica Logística S.L.",
        "job_title": "Directora de Ventas",
        "website": "www.iberica-logistica.es",
    }


def test_repairs_ocr_slips_in_addresses() -> None:
    fields = extract_fields(TESSERACT_BAND_CARD, "DE")
    assert fields["email"] == "jackt@kestrel-software.co.uk"  # "co, uk" and a capital J
    assert fields["website"] == "www.kestrel-software.co.uk"
    assert fields["phone"] == "+447401147387"
    assert (fields["first_name"], fields["last_name"]) == ("Jack", "Thompson")
    assert fields["company"] == "Kestrel Software Ltd"


def test_a_fax_number_is_not_the_visitors_phone() -> None:
    fields = extract_fields(TESSERACT_FAX_CARD, "DE")
    assert fields["phone"] == "+468199837"
    assert fields["website"] == "www.fjallsjo-automation.se"
    assert fields["company"] == "Fjällsjö Automation AB"
    assert fields["first_name"] == "Märta"


def test_national_numbers_are_read_in_the_events_country() -> None:
    lines = [OcrLine("Anna Köhler", 50), OcrLine("Tel. 030 1234567", 25)]
    assert extract_fields(lines, "DE")["phone"] == "+49301234567"
    assert "phone" not in extract_fields(lines, None)  # no country: a national number is unsure


def test_nothing_is_invented_from_an_empty_or_unreadable_card() -> None:
    assert extract_fields([], "DE") == {}
    assert extract_fields([OcrLine("~~ ## 12", 10), OcrLine("x@", 10)], "DE") == {}


def test_split_name_keeps_the_last_word_as_last_name() -> None:
    assert split_name("Jean Pierre Dubois") == ("Jean Pierre", "Dubois")
    assert split_name("Madonna") == ("Madonna", "")


@needs_ocr
def test_ocr_of_rendered_cards_gives_their_fields(rendered: list[RenderedCard]) -> None:
    for card in rendered:
        fields = extract_fields(card_ocr.read_lines(card.jpeg), EVENT_REGION)
        truth = card.truth
        assert fields.get("email") == truth.email, card.number
        assert fields.get("phone") == truth.phone, card.number
        assert f"{fields.get('first_name')} {fields.get('last_name')}" == truth.name, card.number
        assert fields.get("company") == truth.company, card.number


@needs_ocr
def test_the_engine_needs_no_download_at_run_time() -> None:
    from pathlib import Path

    import rapidocr

    models = Path(rapidocr.__file__).parent / "models"
    shipped = {path.name for path in models.glob("*.onnx")}
    assert {"PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx"} <= shipped
