"""Render business cards that look photographed, with the truth of each kept beside it.

The card benchmark (bench/capture_bench.py) and the OCR tests read these: several layouts, the
machine's DejaVu and Liberation fonts, sizes, names and companies with accents (German, French,
Spanish, Nordic), a light rotation and perspective, uneven light, blur, sensor noise and JPEG
compression, on a table-coloured background. Everything is drawn from one seeded generator, so
card N is the same card on every run.
"""

from __future__ import annotations

import io
import random
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers
from PIL import Image, ImageDraw, ImageFilter, ImageFont

# The event's country: national numbers on a card are read in it (sync/card_fields.py).
EVENT_REGION = "DE"

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation")
# (regular, bold) file pairs; those missing on a machine are left out.
FONT_PAIRS = (
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"),
    ("DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf"),
    ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
    ("LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf"),
    ("LiberationSansNarrow-Regular.ttf", "LiberationSansNarrow-Bold.ttf"),
)

PEOPLE = {
    "DE": (
        ("Jürgen", "Anna", "Lukas", "Sören", "Käthe", "Maximilian", "Jörg", "Franziska"),
        ("Müller", "Schäfer", "Weiß", "Köhler", "Groß", "Bäcker", "Hoffmann", "Krüger"),
    ),
    "FR": (
        ("Hélène", "François", "Chloé", "Jérôme", "Amélie", "Noël", "Océane", "Gaël"),
        ("Dubois", "Lefèvre", "Girard", "Bérard", "Mercier", "Fournier", "Lemaître", "Chevalier"),
    ),
    "ES": (
        ("José", "María", "Andrés", "Lucía", "Sebastián", "Inés", "Begoña", "Ramón"),
        ("Núñez", "García", "Martínez", "Ibáñez", "Fernández", "Peña", "Gómez", "Sánchez"),
    ),
    "GB": (
        ("Oliver", "Charlotte", "Harry", "Amelia", "George", "Isla", "Jack", "Sophie"),
        ("Thompson", "Walker", "Wright", "Robinson", "Hughes", "Edwards", "Clarke", "Bennett"),
    ),
    "SE": (
        ("Åsa", "Björn", "Märta", "Örjan", "Ingrid", "Göran", "Linnéa", "Håkan"),
        ("Lindqvist", "Åberg", "Söderström", "Nyström", "Ekström", "Sjöberg", "Holm", "Berg"),
    ),
}
COMPANIES = {
    "DE": (
        ("Nordlicht Technik", "GmbH"),
        ("Bergmann Präzision", "AG"),
        ("Rheinwerk Systeme", "GmbH"),
    ),
    "FR": (("Lumière Industrie", "SAS"), ("Atelier Géode", "SARL"), ("Solvéo Énergie", "SA")),
    "ES": (
        ("Ibérica Logística", "S.L."),
        ("Montaña Azul Datos", "S.A."),
        ("Cañada Robótica", "S.L."),
    ),
    "GB": (("Harbour Analytics", "Ltd"), ("Kestrel Software", "Ltd"), ("Brightwater Labs", "plc")),
    "SE": (("Fjällsjö Automation", "AB"), ("Älvdal Sensor", "AB"), ("Norrsken Data", "AB")),
}
TITLES = {
    "DE": ("Vertriebsleiter", "Leiterin Einkauf", "Geschäftsführer", "Key Account Manager"),
    "FR": ("Directrice Commerciale", "Responsable Achats", "Ingénieur Produit", "Chef de Projet"),
    "ES": ("Directora de Ventas", "Jefe de Compras", "Ingeniero de Producto", "Gerente General"),
    "GB": ("Head of Procurement", "Sales Director", "Operations Manager", "Lead Engineer"),
    "SE": ("Försäljningschef", "Inköpschef", "Product Manager", "CTO"),
}
STREETS = {
    "DE": ("Friedrichstraße {n}, 10117 Berlin", "Königsallee {n}, 40212 Düsseldorf"),
    "FR": ("{n} rue de Rivoli, 75001 Paris", "{n} avenue Jean Médecin, 06000 Nice"),
    "ES": ("Calle de Alcalá {n}, 28014 Madrid", "Passeig de Gràcia {n}, 08008 Barcelona"),
    "GB": ("{n} Canal Street, Manchester M1 3HE", "{n} King's Road, London SW3 4RP"),
    "SE": ("Drottninggatan {n}, 111 51 Stockholm", "Kungsgatan {n}, 411 19 Göteborg"),
}
TLD = {"DE": "de", "FR": "fr", "ES": "es", "GB": "co.uk", "SE": "se"}
PHONE_LABELS = ("Tel.", "Phone", "T", "Mobile", "M", "Tél.", "Móvil", "")
LAYOUTS = ("left", "centered", "split", "band", "dark")


@dataclass(frozen=True)
class CardTruth:
    """What a card says, in the forms a lead stores (phone in E.164)."""

    name: str
    company: str
    title: str
    email: str
    phone: str
    website: str
    layout: str
    country: str


@dataclass
class RenderedCard:
    """A photographed-looking card as JPEG bytes, with its truth."""

    number: int
    jpeg: bytes
    truth: CardTruth
    lines: list[str] = field(default_factory=list)


def ascii_fold(text: str) -> str:
    """Return text without accents, as people write them in email addresses (ß as ss)."""
    text = text.replace("ß", "ss").replace("æ", "ae").replace("ø", "o")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _fonts() -> list[tuple[Path, Path]]:
    found = []
    for regular, bold in FONT_PAIRS:
        paths = [
            next((Path(d) / f for d in FONT_DIRS if (Path(d) / f).exists()), None)
            for f in (regular, bold)
        ]
        if all(paths):
            found.append((paths[0], paths[1]))
    if not found:
        raise RuntimeError(
            "no DejaVu or Liberation fonts: install fonts-dejavu-core fonts-liberation"
        )
    return found


def _phone(rng: random.Random, country: str) -> tuple[str, str]:
    """Return a valid (E.164, as printed) number of country; national form only in EVENT_REGION."""
    kind = rng.choice(
        (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
    )
    example = phonenumbers.example_number_for_type(country, kind)
    digits = str(example.national_number)
    for _ in range(200):
        keep = max(2, len(digits) // 3)
        candidate = digits[:keep] + "".join(rng.choice("0123456789") for _ in digits[keep:])
        number = phonenumbers.parse("+" + str(example.country_code) + candidate, None)
        if phonenumbers.is_valid_number(number):
            break
    else:
        number = example
    national = country == EVENT_REGION and rng.random() < 0.6
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if national
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    printed = phonenumbers.format_number(number, style)
    if not national and rng.random() < 0.3:
        printed = printed.replace(" ", ".", 2) if country == "FR" else printed.replace(" ", "-")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), printed


def make_truth(rng: random.Random, number: int) -> tuple[CardTruth, dict[str, str]]:
    """Draw one card's contents; return its truth and the extra lines printed on it."""
    country = ("DE", "FR", "ES", "GB", "SE")[number % 5]
    firsts, lasts = PEOPLE[country]
    first, last = rng.choice(firsts), rng.choice(lasts)
    stem, suffix = rng.choice(COMPANIES[country])
    company = f"{stem} {suffix}"
    domain = ascii_fold(stem).lower().replace(" ", "-") + "." + TLD[country]
    local = rng.choice((f"{first}.{last}", f"{first[0]}.{last}", f"{first}{last[0]}", f"{last}"))
    email = ascii_fold(local).lower() + "@" + domain
    e164, printed = _phone(rng, country)
    label = rng.choice(PHONE_LABELS)
    truth = CardTruth(
        name=f"{first} {last}",
        company=company,
        title=rng.choice(TITLES[country]),
        email=email,
        phone=e164,
        website="www." + domain,
        layout=LAYOUTS[number % len(LAYOUTS)],
        country=country,
    )
    extras = {
        "phone_line": f"{label} {printed}".strip(),
        "address": rng.choice(STREETS[country]).format(n=rng.randint(2, 140)),
    }
    if rng.random() < 0.35:
        # A fax line: a number that must not be taken as the visitor's phone.
        _, fax = _phone(rng, country)
        extras["fax_line"] = f"Fax {fax}"
    return truth, extras


def _text_size(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont
) -> tuple[int, int]:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    return right - left, bottom - top


def _draw_card(rng: random.Random, truth: CardTruth, extras: dict[str, str]) -> Image.Image:
    width, height = 1050, 600
    regular_path, bold_path = rng.choice(_fonts())
    scale = rng.uniform(0.85, 1.15)
    name_font = ImageFont.truetype(str(bold_path), int(52 * scale))
    company_font = ImageFont.truetype(str(bold_path), int(40 * scale))
    body_font = ImageFont.truetype(str(regular_path), int(29 * scale))
    small_font = ImageFont.truetype(str(regular_path), int(26 * scale))
    dark = truth.layout == "dark"
    paper = (
        (28, 36, 48) if dark else rng.choice(((250, 249, 245), (255, 255, 255), (244, 240, 230)))
    )
    ink = (235, 235, 228) if dark else rng.choice(((20, 20, 24), (18, 32, 70), (40, 40, 40)))
    accent = rng.choice(((180, 30, 40), (20, 90, 160), (30, 120, 70)))
    card = Image.new("RGB", (width, height), paper)
    draw = ImageDraw.Draw(card)
    contacts = [extras["phone_line"]]
    if "fax_line" in extras:
        contacts.append(extras["fax_line"])
    contacts += [truth.email, truth.website, extras["address"]]
    rng.shuffle(contacts)
    heading = [(truth.name, name_font, ink), (truth.title, body_font, ink)]
    margin = 60

    def column(lines, x, y, align="left", gap=10):
        for text, font, colour in lines:
            w, h = _text_size(draw, text, font)
            left = {"left": x, "center": x - w // 2, "right": x - w}[align]
            draw.text((left, y), text, font=font, fill=colour)
            y += h + gap + int(font.size * 0.25)
        return y

    body = [(text, small_font, ink) for text in contacts]
    if truth.layout == "left":
        y = column([(truth.company, company_font, accent)], margin, 45)
        y = column(heading, margin, y + 25)
        column(body, margin, max(y + 20, height - 45 - len(body) * int(46 * scale)), gap=6)
    elif truth.layout == "centered":
        y = column(heading, width // 2, 50, "center")
        y = column([(truth.company, company_font, accent)], width // 2, y + 5, "center")
        draw.line((margin, y + 5, width - margin, y + 5), fill=accent, width=3)
        column(body, width // 2, y + 25, "center", gap=4)
    elif truth.layout == "split":
        column(heading + [(truth.company, company_font, accent)], margin, 80)
        draw.line((width * 0.52, 60, width * 0.52, height - 60), fill=accent, width=2)
        column(body, width - margin, 90, "right", gap=6)
    elif truth.layout == "band":
        band = int(130 * scale)
        draw.rectangle((0, 0, width, band), fill=accent)
        column([(truth.company, company_font, (255, 255, 255))], margin, band // 2 - 24)
        y = column(heading, margin, band + 30)
        column(body, margin, y + 10, gap=4)
    else:
        column([(truth.company, company_font, (230, 190, 90))], width - margin, 50, "right")
        y = column(heading, margin, 170)
        column(body, margin, y + 15, gap=4)
    return card


def photograph(rng: random.Random, card: Image.Image) -> bytes:
    """Return card as a phone photo of it on a table: tilted, unevenly lit, blurred, noisy JPEG."""
    table = rng.choice(((120, 95, 70), (90, 90, 95), (150, 140, 120), (60, 70, 60)))
    size = (1600, 1100)
    scene = Image.new("RGB", size, table)
    scene = Image.blend(scene, Image.effect_noise(size, 40).convert("RGB"), 0.12)
    target_width = int(size[0] * rng.uniform(0.74, 0.86))
    card = card.resize((target_width, int(card.height * target_width / card.width)), Image.LANCZOS)
    # Perspective: pull the corners by a few pixels, as a hand-held shot from slightly off-axis.
    w, h = card.size
    jitter = [rng.uniform(-0.025, 0.025) * w for _ in range(8)]
    quad = (
        jitter[0],
        jitter[1],
        jitter[2],
        h + jitter[3],
        w + jitter[4],
        h + jitter[5],
        w + jitter[6],
        jitter[7],
    )
    card = card.transform(card.size, Image.QUAD, quad, Image.BICUBIC, fillcolor=table)
    mask = Image.new("L", card.size, 255).transform(card.size, Image.QUAD, quad, Image.BICUBIC)
    angle = rng.uniform(-4.0, 4.0)
    card = card.rotate(angle, Image.BICUBIC, expand=True, fillcolor=table)
    mask = mask.rotate(angle, Image.BICUBIC, expand=True)
    offset = (
        (size[0] - card.width) // 2 + rng.randint(-30, 30),
        (size[1] - card.height) // 2 + rng.randint(-30, 30),
    )
    scene.paste(card, offset, mask)
    # Uneven light: a gradient from one side, darker by up to a quarter.
    gradient = Image.linear_gradient("L").resize(size).rotate(rng.uniform(0, 360))
    shade = Image.new("RGB", size, (0, 0, 0))
    scene = Image.composite(scene, Image.blend(scene, shade, rng.uniform(0.1, 0.25)), gradient)
    scene = scene.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.3)))
    noise = Image.effect_noise(size, rng.uniform(12, 25)).convert("RGB")
    scene = Image.blend(scene, noise, rng.uniform(0.04, 0.08))
    out = io.BytesIO()
    scene.save(out, "JPEG", quality=rng.randint(70, 88))
    return out.getvalue()


def render_cards(count: int = 60, seed: int = 16) -> list[RenderedCard]:
    """Return count photographed cards, the same ones for the same seed."""
    rng = random.Random(seed)
    cards = []
    for number in range(count):
        truth, extras = make_truth(rng, number)
        image = _draw_card(rng, truth, extras)
        lines = [
            truth.name,
            truth.title,
            truth.company,
            *extras.values(),
            truth.email,
            truth.website,
        ]
        cards.append(RenderedCard(number, photograph(rng, image), truth, lines))
    return cards
