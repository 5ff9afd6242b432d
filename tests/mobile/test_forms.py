"""The capture form's logic without a window: fields from the event, values to a lead and back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mobile import forms
from sync.store import DeviceStore, LeadInvalid
from tests.helpers import event_body

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
STAFF_ID = 5


@pytest.fixture
def event() -> dict[str, Any]:
    return {
        **event_body(),
        "id": 3,
        "consent_version": 2,
        "server_version": 7,
        "members": [{"user_id": STAFF_ID, "user": {"id": STAFF_ID, "name": "Sam"}}],
    }


@pytest.fixture
def store(tmp_path: Path, event: dict[str, Any]) -> Iterator[DeviceStore]:
    store = DeviceStore(tmp_path / "tablet.sqlite3", clock=lambda: NOW)
    store.set_pairing("http://127.0.0.1:9", 7, 3, "lbd_x", event)
    yield store
    store.close()


@pytest.fixture
def specs(event: dict[str, Any]) -> list[forms.FieldSpec]:
    return forms.form_specs(event)


def filled(specs: list[forms.FieldSpec], **values: Any) -> dict[str, Any]:
    return {**forms.empty_values(specs), **values}


def test_specs_follow_the_event(specs: list[forms.FieldSpec], event: dict[str, Any]) -> None:
    by_key = {spec.key: spec for spec in specs}
    assert [s.key for s in specs if s.group == forms.CONTACT] == [
        "first_name",
        "last_name",
        "email",
        "phone",
        "company",
        "job_title",
        "country",
        "consent",
    ]
    assert by_key["consent"].label == event["consent_text"]
    assert by_key["answers.budget"].kind == forms.YES_NO and by_key["answers.budget"].required
    assert by_key["answers.timeframe"].options == (("Now", "Now"), ("Later", "Later"))
    assert by_key["answers.topics"].kind == forms.MULTI
    assert by_key["answers.seats"].kind == forms.NUMBER
    assert by_key["answers.pain"].kind == forms.MULTILINE
    assert by_key["products"].options == (("scanner", "Scanner"), ("crm", "CRM"))
    assert by_key["rating"].options == forms.RATINGS
    assert by_key["answers.seats"].question_id == "seats"


def test_an_event_without_products_has_no_products_field() -> None:
    keys = [spec.key for spec in forms.form_specs({"questions": []})]
    assert "products" not in keys and "rating" in keys
    assert forms.form_specs(None)[7].label == forms.DEFAULT_CONSENT


def test_a_filled_form_saves_as_a_lead(
    store: DeviceStore, specs: list[forms.FieldSpec], event: dict[str, Any]
) -> None:
    values = filled(
        specs,
        first_name="Ann",
        email="Ann@Example.com",
        phone="030 1234567",
        country="de",
        consent=True,
        **{
            "answers.budget": True,
            "answers.topics": ["A"],
            "answers.seats": " 12 ",
            "answers.pain": "",
        },
        products=["crm"],
        rating="hot",
        follow_up=True,
    )
    fields = forms.to_lead_fields(values, specs, event, now=NOW)
    assert fields["answers"] == {"budget": True, "topics": ["A"], "seats": 12}
    assert fields["consent"] == {"given": True, "version": 2, "at": NOW.isoformat()}
    lead = store.get_lead(store.save_lead({**fields, "captured_by_id": STAFF_ID}))
    assert lead is not None
    assert (lead["email"], lead["phone"], lead["country"]) == (
        "ann@example.com",
        "+49301234567",
        "DE",
    )
    assert lead["products"] == ["crm"] and lead["rating"] == "hot" and lead["follow_up"]
    assert lead["source"] == "manual" and lead["badge_payload"] is None

    # Shown again for editing, nothing has changed.
    again = forms.values_from_lead(lead, specs)
    assert again["answers.seats"] == "12" and again["consent"] is True
    fields = forms.to_lead_fields(
        again, specs, event, now=datetime(2030, 1, 1, tzinfo=UTC), previous_consent=lead["consent"]
    )
    assert forms.changed_fields(lead, fields) == {}
    fields["company"] = "New GmbH"
    assert forms.changed_fields(lead, fields) == {"company": "New GmbH"}


def test_store_errors_land_on_their_fields(
    store: DeviceStore, specs: list[forms.FieldSpec], event: dict[str, Any]
) -> None:
    values = filled(specs, email="nope", **{"answers.seats": "a dozen"})
    fields = forms.to_lead_fields(values, specs, event, now=NOW)
    with pytest.raises(LeadInvalid) as caught:
        store.save_lead({**fields, "captured_by_id": STAFF_ID})
    errors = forms.errors_by_key(caught.value.errors)
    assert set(errors) >= {"email", "answers.seats", "answers.budget"}
    assert all(isinstance(message, str) and message for message in errors.values())

    with pytest.raises(LeadInvalid) as caught:
        store.save_lead(
            forms.to_lead_fields(filled(specs, **{"answers.budget": True}), specs, event, now=NOW)
        )
    errors = forms.errors_by_key(caught.value.errors)
    assert forms.FORM_ERROR in errors  # no staff member, nobody named: not one field's fault


@pytest.mark.parametrize(
    ("key", "value", "bad"),
    [
        ("email", "ann@example.com", False),
        ("email", "ann@", True),
        ("email", "", False),
        ("phone", "030 1234567", False),  # national number, read in the event's country
        ("phone", "12", True),
        ("country", "gb", False),
        ("country", "Germany", True),
        ("answers.seats", "12", False),
        ("answers.seats", "1,5", False),
        ("answers.seats", "twelve", True),
        ("answers.budget", None, False),  # required, but only enforced when saving
        ("first_name", "x" * 50, False),
    ],
)
def test_inline_checks(
    specs: list[forms.FieldSpec], event: dict[str, Any], key: str, value: Any, bad: bool
) -> None:
    spec = next(s for s in specs if s.key == key)
    assert bool(forms.check_field(spec, value, event)) is bad


def test_parse_number() -> None:
    assert forms.parse_number("") is None
    assert forms.parse_number("-3") == -3
    assert forms.parse_number("2.5") == 2.5
    assert forms.parse_number("2,5") == 2.5
    assert forms.parse_number("1 000") == 1000
    assert forms.parse_number("lots") == "lots"


def test_number_answers_show_as_typed(specs: list[forms.FieldSpec]) -> None:
    # JSON from the server may carry 250 as 250.0; staff typed 250.
    lead = {"answers": {"seats": 250.0}, "consent": {"given": False}}
    assert forms.values_from_lead(lead, specs)["answers.seats"] == "250"
    for number, text in ((1234567.0, "1234567"), (2.5, "2.5"), (0.1, "0.1"), (-3, "-3")):
        assert forms.number_text(number) == text
        assert forms.parse_number(text) == number  # an edit saves the same number back
    assert forms.number_text(None) == ""


def test_a_refusal_names_the_fields_as_the_form_does(event: dict[str, Any]) -> None:
    text = forms.rejection_text(
        {
            "answers": {"budget": ["This question must be answered."]},
            "phone": ["This is not a phone number."],
            "consent": {"version": ["Give the version of this event's consent text."]},
        },
        event,
    )
    assert text == (
        "Budget: This question must be answered. Phone: This is not a phone number."
        " Consent: Give the version of this event's consent text."
    )
    assert (
        forms.rejection_text({"captured_by_id": ["This person does not work this event."]}, event)
        == "This person does not work this event."
    )
    assert forms.rejection_text({}, None) == "The server refused this lead."


def test_drafts_restore_only_what_still_fits(specs: list[forms.FieldSpec]) -> None:
    draft = {
        "first_name": "Ann",
        "rating": "scorching",  # not an option any more
        "answers.gone": "an old question",
        "answers.topics": ["A", "Z"],
        "consent": "yes",  # wrong type
        "source": "badge",
        "badge_payload": "EXPO-1",
    }
    values = forms.restore_values(specs, draft)
    assert values["first_name"] == "Ann"
    assert values["rating"] is None and values["answers.topics"] == []
    assert values["consent"] is False and "answers.gone" not in values
    assert (values["source"], values["badge_payload"]) == ("badge", "EXPO-1")
    assert not forms.is_blank(values, specs)
    assert forms.is_blank(forms.empty_values(specs), specs)
    assert forms.restore_values(specs, None) == forms.empty_values(specs)


def test_errors_by_key_shapes() -> None:
    assert forms.errors_by_key(
        {
            "answers": {"budget": ["This question must be answered."]},
            "consent": {"given": ["Say whether..."]},
            "phone": ["This is not a phone number."],
            "_schema": ["Give at least a name, an email, a phone or a badge."],
            "captured_by_id": ["Choose who captured the lead."],
        }
    ) == {
        "answers.budget": "This question must be answered.",
        "consent": "Say whether...",
        "phone": "This is not a phone number.",
        forms.FORM_ERROR: "Give at least a name, an email, a phone or a badge."
        " Choose who captured the lead.",
    }


def test_duplicate_keys() -> None:
    assert forms.duplicate_keys({"email": "", "phone": "030"}) == (None, "030")


# -- consent in several languages --------------------------------------------

TEXTS = [
    {"language": "de", "version": 5, "text": "Sie dürfen mich kontaktieren."},
    {"language": "en", "version": 4, "text": "You may contact me."},
]


@pytest.fixture
def multilingual(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "consent_texts": TEXTS}


def test_consent_texts_add_a_language_choice_and_purposes(multilingual: dict[str, Any]) -> None:
    specs = forms.form_specs(multilingual)
    contact = [s for s in specs if s.group == forms.CONTACT]
    assert [s.key for s in contact][-3:] == ["consent_language", "consent", "consent_purposes"]
    by_key = {spec.key: spec for spec in specs}
    assert by_key["consent_language"].options == (("de", "de"), ("en", "en"))
    assert by_key["consent"].label == "Sie dürfen mich kontaktieren."  # the first language
    assert by_key["consent_purposes"].options == (
        ("sales_follow_up", "Sales may follow up"),
        ("marketing_email", "Marketing emails"),
    )
    blank = forms.empty_values(specs)
    assert blank["consent_language"] == "de" and blank["consent_purposes"] == []
    assert forms.is_blank(blank, specs)


def test_consent_wording_per_language(multilingual: dict[str, Any]) -> None:
    assert forms.consent_languages(multilingual) == ["de", "en"]
    assert forms.consent_wording(multilingual, "en") == ("You may contact me.", 4)
    assert forms.consent_wording(multilingual, "de") == ("Sie dürfen mich kontaktieren.", 5)
    # A language not offered, or an event without texts: the event's own text and version.
    own = (multilingual["consent_text"], 2)
    assert forms.consent_wording(multilingual, "fr") == own
    assert forms.consent_wording({**multilingual, "consent_texts": []}, "de") == own
    assert forms.consent_languages(None) == []


def test_a_lead_saves_the_chosen_language_version_and_purposes(
    store: DeviceStore, multilingual: dict[str, Any]
) -> None:
    specs = forms.form_specs(multilingual)
    values = filled(
        specs,
        first_name="Greta",
        consent=True,
        consent_language="en",
        consent_purposes=["marketing_email"],
        **{"answers.budget": True},
    )
    fields = forms.to_lead_fields(values, specs, multilingual, now=NOW)
    assert fields["consent"] == {
        "given": True,
        "version": 4,
        "at": NOW.isoformat(),
        "language": "en",
        "purposes": ["marketing_email"],
    }
    lead = store.get_lead(store.save_lead({**fields, "captured_by_id": STAFF_ID}))
    assert lead is not None and lead["consent"] == fields["consent"]

    # Shown again for editing: the same choices, and saving changes nothing.
    again = forms.values_from_lead(lead, specs)
    assert again["consent_language"] == "en" and again["consent_purposes"] == ["marketing_email"]
    later = datetime(2030, 1, 1, tzinfo=UTC)
    unchanged = forms.to_lead_fields(
        again, specs, multilingual, now=later, previous_consent=lead["consent"]
    )
    assert forms.changed_fields(lead, unchanged) == {}
    # Agreeing to more is a new agreement: recorded now, with the German text's version.
    more = {**again, "consent_language": "de", "consent_purposes": ["sales_follow_up"]}
    changed = forms.to_lead_fields(
        more, specs, multilingual, now=later, previous_consent=lead["consent"]
    )
    assert changed["consent"] == {
        "given": True,
        "version": 5,
        "at": later.isoformat(),
        "language": "de",
        "purposes": ["sales_follow_up"],
    }


def test_consent_not_given_drops_language_and_purposes(multilingual: dict[str, Any]) -> None:
    specs = forms.form_specs(multilingual)
    values = filled(specs, consent=False, consent_purposes=["marketing_email"])
    fields = forms.to_lead_fields(values, specs, multilingual, now=NOW)
    assert fields["consent"] == {"given": False, "version": None, "at": None}


def test_drafts_keep_only_offered_languages_and_known_purposes(
    multilingual: dict[str, Any],
) -> None:
    specs = forms.form_specs(multilingual)
    values = forms.restore_values(
        specs, {"consent_language": "fr", "consent_purposes": ["selling_my_data"]}
    )
    assert values["consent_language"] == "de" and values["consent_purposes"] == []
    kept = forms.restore_values(
        specs, {"consent_language": "en", "consent_purposes": ["sales_follow_up"]}
    )
    assert kept["consent_language"] == "en" and kept["consent_purposes"] == ["sales_follow_up"]
    assert not forms.is_blank(kept, specs)


def test_an_older_consent_without_language_is_kept_on_edit(multilingual: dict[str, Any]) -> None:
    specs = forms.form_specs(multilingual)
    older = {"given": True, "version": 2, "at": NOW.isoformat()}  # before texts per language
    values = filled(specs, consent=True, consent_purposes=["sales_follow_up"])
    later = datetime(2030, 1, 1, tzinfo=UTC)
    kept = forms.to_lead_fields(values, specs, multilingual, now=later, previous_consent=older)
    assert kept["consent"] == older
