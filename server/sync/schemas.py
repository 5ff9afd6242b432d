"""Request and response schemas of the sync protocol (docs/sync-protocol.md)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from server.attachments.suggestions import card_data
from server.attendees.pull import attendee_data
from server.events.schemas import EventSchema, MemberSchema
from server.fields import Schema
from server.leads.schemas import LeadSchema
from server.privacy.consent import current_texts
from server.privacy.tombstones import erasure_data

MAX_MUTATIONS = 100
MAX_PULL_LIMIT = 1000
MAX_BIG = 2**63 - 1


class MutationSchema(Schema):
    """One change a tablet made; its fields are validated one mutation at a time."""

    mutation_id = ma.fields.Integer(strict=True, required=True, validate=validate.Range(1, MAX_BIG))
    kind = ma.fields.String(required=True, validate=validate.OneOf(("create", "update")))
    lead_id = ma.fields.UUID(required=True)
    base_version = ma.fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(0, MAX_BIG)
    )
    fields = ma.fields.Dict(required=True, metadata={"description": "The lead's fields."})


class PushSchema(Schema):
    """A batch of mutations in increasing mutation id order."""

    mutations = ma.fields.List(
        ma.fields.Nested(MutationSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_MUTATIONS),
    )

    @ma.validates_schema  # runs only once every mutation has parsed
    def _increasing(self, data: dict[str, Any], **kwargs: Any) -> None:
        ids = [mutation["mutation_id"] for mutation in data["mutations"]]
        if any(later <= earlier for earlier, later in zip(ids, ids[1:], strict=False)):
            raise ma.ValidationError("Mutation ids must increase within a batch.", "mutations")


class ConflictSchema(Schema):
    """A field both sides changed: the server's value was kept."""

    field = ma.fields.String()
    server_value = ma.fields.Raw(allow_none=True)
    device_value = ma.fields.Raw(allow_none=True)


class MutationResultSchema(Schema):
    """What became of one mutation."""

    mutation_id = ma.fields.Integer()
    lead_id = ma.fields.UUID()
    outcome = ma.fields.String(validate=validate.OneOf(("applied", "rejected")))
    replayed = ma.fields.Boolean()
    server_version = ma.fields.Integer(allow_none=True)
    conflicts = ma.fields.List(ma.fields.Nested(ConflictSchema))
    errors = ma.fields.Dict()
    previously_erased = ma.fields.Boolean(
        metadata={"description": "Present (true) when the lead's person asked to be forgotten."}
    )
    merged_into_id = ma.fields.UUID(
        metadata={"description": "Present when the person was already captured at the event."}
    )


class PushResultSchema(Schema):
    """The outcome of every mutation in the batch."""

    results = ma.fields.List(ma.fields.Nested(MutationResultSchema))
    last_mutation_id = ma.fields.Integer()
    booth_leads_total = ma.fields.Integer(
        metadata={"description": "Leads of the event, all tablets."}
    )
    booth_leads_today = ma.fields.Integer(metadata={"description": "Of those, today (event time)."})


class PullArgsSchema(Schema):
    """Where to continue reading, and how much."""

    cursor = ma.fields.Integer(load_default=0, validate=validate.Range(0, MAX_BIG))
    limit = ma.fields.Integer(load_default=200, validate=validate.Range(1, MAX_PULL_LIMIT))


class SyncedEventSchema(EventSchema):
    """The event's configuration with the team a tablet offers as 'captured by'."""

    members = ma.fields.List(
        ma.fields.Nested(MemberSchema), attribute="active_members", dump_only=True
    )
    # The newest wording per language (server/privacy/consent.py).
    consent_texts = ma.fields.Function(current_texts, dump_only=True)


class ChangeSchema(Schema):
    """One changed row: the event's configuration, a lead, an erased lead, an attendee, a card."""

    kind = ma.fields.String(
        validate=validate.OneOf(("event", "lead", "erasure", "attendee", "card"))
    )
    version = ma.fields.Integer()
    data = ma.fields.Function(lambda change: change_data(change))


def change_data(change: dict[str, Any]) -> Any:
    """Return a change's data: built already (a pulled lead's Core row), or dumped from its row."""
    if "data" in change:
        return change["data"]
    if change["kind"] == "attendee":
        return attendee_data(change["row"])
    if change["kind"] == "erasure":
        return erasure_data(change["row"])
    if change["kind"] == "card":
        return card_data(change["row"])
    if change["kind"] == "event":
        return _EVENT_SCHEMA.dump(change["row"])
    data = _LEAD_SCHEMA.dump(change["row"])
    agreed = change.get("consent")
    if agreed is not None and data.get("consent"):
        # What the visitor agreed to, so a tablet that pulls the lead keeps it.
        data["consent"] |= agreed
    return data


# Built once: constructing a schema per row would cost more than dumping the row.
_EVENT_SCHEMA = SyncedEventSchema()
_LEAD_SCHEMA = LeadSchema()


class PullResultSchema(Schema):
    """A page of changes in server-version order."""

    changes = ma.fields.List(ma.fields.Nested(ChangeSchema))
    next_cursor = ma.fields.Integer()
    has_more = ma.fields.Boolean()
    server_time = ma.fields.AwareDateTime()


class StatusSchema(Schema):
    """What a tablet checks before syncing."""

    server_time = ma.fields.AwareDateTime()
    protocol_versions = ma.fields.List(ma.fields.Integer())
    device_id = ma.fields.Integer()
    device_name = ma.fields.String(metadata={"description": "The name the tablet is listed by."})
    event_id = ma.fields.Integer()
    last_mutation_id = ma.fields.Integer()
    booth_leads_total = ma.fields.Integer(
        metadata={"description": "The event's leads, all tablets."}
    )
    booth_leads_today = ma.fields.Integer(metadata={"description": "Of those, today (event time)."})
