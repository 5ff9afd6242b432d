"""What the UI scenarios type and scan, and what the tests expect back (no Kivy here)."""

from __future__ import annotations

# What the first lead is typed as, and what the server must hold afterwards.
FIRST_LEAD = {
    "first_name": "Ann",
    "last_name": "Example",
    "email": "Ann.Example@Example.COM",
    "phone": "030 1234567",
    "company": "Example GmbH",
    "job_title": "CTO",
    "country": "de",
    "answers.seats": "12",
    "answers.pain": "Slow badge scans",
    "notes": "Wants a demo in March.",
}
# The server may route a lead to a rep at once: both states mean it arrived.
SERVER_HAS_IT = ("Uploaded", "With sales")
OFFLINE_LEADS = [("Bo", "One"), ("Cy", "Two"), ("Di", "Three")]

BADGES = {
    "vcard3": (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Müller;Jürgen;;;\r\nFN:Jürgen Müller\r\n"
        "ORG:Beispiel AG;Vertrieb\r\nTITLE:Head of Sales\r\n"
        "TEL;TYPE=WORK,VOICE:+49 30 1234567\r\nEMAIL;TYPE=INTERNET:j.mueller@beispiel.de\r\n"
        "ADR;TYPE=WORK:;;Hauptstr. 1;Berlin;;10115;DE\r\nEND:VCARD"
    ),
    "vcard4": (
        "BEGIN:VCARD\nVERSION:4.0\nFN:Grace Hopper\nN:Hopper;Grace;;;\n"
        'TEL;VALUE=uri;TYPE="work,voice":tel:+44-20-7946-0958\nEMAIL;TYPE=work:grace@navy.example\n'
        "ORG:Navy Labs\nTITLE:Rear Admiral\nADR;TYPE=work:;;1 Main St;London;;SW1A 1AA;GB\n"
        "END:VCARD"
    ),
    "mecard": "MECARD:N:Lovelace,Ada;TEL:+441632960961;EMAIL:ada@engine.example;"
    "ORG:Analytical\\; Engines;TITLE:Programmer\\: first;;",
    "plain": "EXPO26-000123",
}
EXPECTED_BADGES = {
    "vcard3": {
        "first_name": "Jürgen",
        "last_name": "Müller",
        "email": "j.mueller@beispiel.de",
        "phone": "+49 30 1234567",
        "company": "Beispiel AG",
        "job_title": "Head of Sales",
        "country": "DE",
    },
    "vcard4": {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@navy.example",
        "phone": "+44-20-7946-0958",
        "company": "Navy Labs",
        "job_title": "Rear Admiral",
        "country": "GB",
    },
    "mecard": {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@engine.example",
        "phone": "+441632960961",
        "company": "Analytical; Engines",
        "job_title": "Programmer: first",
        "country": "",
    },
    "plain": {"first_name": "", "last_name": "", "email": "", "company": ""},
}
