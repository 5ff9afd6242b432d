"""JSON columns are encoded by msgspec: what reads back is what json.dumps would have stored."""

from __future__ import annotations

import json

from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from server.config import encode_json_column
from server.extensions import db
from server.leads.models import Activity
from tests.helpers import ApiHelper, Booth

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_every_json_value_reads_back_as_json_dumps_would_have_stored_it(value: object) -> None:
    assert json.loads(encode_json_column(value)) == json.loads(json.dumps(value))


def test_the_engine_writes_json_columns_with_it(app: Flask, api: ApiHelper, booth: Booth) -> None:
    lead = api.capture(booth.tablet, booth.staff, notes="Café crème")
    with app.app_context():
        assert db.engine.dialect._json_serializer is encode_json_column
        details = db.session.scalars(select(Activity.detail)).all()
        assert details and all(isinstance(detail, dict) for detail in details)
    assert lead["notes"] == "Café crème"
