"""Code frames: decoding QR codes made with segno, through the frame sources and the readers."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
import segno
from PIL import Image

from mobile.scanning import (
    BadgeRead,
    CodeReader,
    ImageFileSource,
    QueueFrameSource,
    decode_frame,
    read_badge,
)
from sync.pairing_link import PairingLink, pairing_link, parse_pairing_link

VCARD = "BEGIN:VCARD\nVERSION:3.0\nN:Example;Ann;;;\nEMAIL:ann@example.com\nEND:VCARD"


def qr(payload: str, size: tuple[int, int] = (640, 480)) -> Image.Image:
    buffer = io.BytesIO()
    segno.make(payload, error="m").save(buffer, kind="png", scale=5, border=4)
    buffer.seek(0)
    code = Image.open(buffer).convert("L")
    frame = Image.new("RGB", size, (190, 190, 190))
    frame.paste(code.convert("RGB"), (40, 40))
    return frame


def test_decode_frame_reads_a_code_in_a_bigger_picture() -> None:
    assert decode_frame(qr(VCARD)) == [VCARD]
    assert decode_frame(Image.new("L", (320, 240), 128)) == []


def test_read_badge_parses_with_sync_badge() -> None:
    read = read_badge(VCARD)
    assert read.format == "vcard"
    assert read.fields["first_name"] == "Ann" and read.fields["source"] == "badge"


def test_queue_source_hands_out_frames_only_while_started(tmp_path: Path) -> None:
    source = QueueFrameSource()
    path = tmp_path / "badge.png"
    qr("EXPO-1").save(path)
    source.put(path)
    assert source.grab() is None
    source.start()
    frame = source.grab()
    assert isinstance(frame, Image.Image) and decode_frame(frame) == ["EXPO-1"]
    assert source.grab() is None
    source.stop()


def test_image_file_source_cycles_through_a_folder(tmp_path: Path) -> None:
    for name in ("a", "b"):
        qr(f"EXPO-{name}").save(tmp_path / f"{name}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    source = ImageFileSource(tmp_path)
    texts = []
    for _ in range(3):
        source.start()
        texts += decode_frame(source.grab())
    assert texts == ["EXPO-a", "EXPO-b", "EXPO-a"]


def test_reader_skips_empty_frames_and_reports_one_badge() -> None:
    source = QueueFrameSource()
    found: list[BadgeRead] = []
    done = threading.Event()

    def on_badge(read: BadgeRead) -> None:
        found.append(read)
        done.set()

    reader = CodeReader(source, read_badge, on_badge)
    try:
        assert not reader.poll()  # not scanning yet
        reader.start()
        source.put(Image.new("L", (320, 240), 200))
        source.put(qr("MECARD:N:Doe,John;EMAIL:j@x.com;;"))
        source.put(qr("EXPO-2"))
        for _ in range(200):
            reader.poll()
            if done.wait(0.02):
                break
        assert found and found[0].format == "mecard"
        assert found[0].fields["last_name"] == "Doe"
        assert not reader.scanning
        assert not reader.poll()  # one badge per start
    finally:
        reader.close()
    assert len(found) == 1


@pytest.mark.parametrize("payload", ["EXPO-2026-000123", "https://example.com/b/1"])
def test_non_contact_codes_keep_only_the_payload(payload: str) -> None:
    read = read_badge(payload)
    assert read.fields == {"source": "badge", "badge_payload": payload}


def test_a_pairing_reader_passes_over_other_codes() -> None:
    source = QueueFrameSource()
    found: list[PairingLink] = []
    done = threading.Event()

    def on_link(link: PairingLink) -> None:
        found.append(link)
        done.set()

    reader = CodeReader(source, parse_pairing_link, on_link)
    try:
        reader.start()
        source.put(qr("MECARD:N:Doe,John;EMAIL:j@x.com;;"))  # a badge: not for this screen
        source.put(qr(pairing_link("https://leads.example.com", "K7Q2A-9XPAB")))
        for _ in range(200):
            reader.poll()
            if done.wait(0.02):
                break
    finally:
        reader.close()
    assert found == [PairingLink("https://leads.example.com", "K7Q2A-9XPAB")]


@pytest.mark.parametrize(
    "text",
    [
        "EXPO-1",
        "https://leads.example.com/?code=X",
        "leadbridge://pair?server=ftp://x&code=A",
        "leadbridge://pair?server=https://x",
        "leadbridge://other?server=https://x&code=A",
    ],
)
def test_other_texts_are_no_pairing_link(text: str) -> None:
    assert parse_pairing_link(text) is None


def test_a_pairing_link_round_trips() -> None:
    link = pairing_link("http://10.0.0.5:5000/", "AB12C-DE34F")
    assert parse_pairing_link(link) == PairingLink("http://10.0.0.5:5000", "AB12C-DE34F")
