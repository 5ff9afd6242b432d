"""Take leads in from tablets, change their status and owner, and list them."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Set
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from server.alerts import thank_you
from server.alerts.models import AlertKind, Channel
from server.alerts.outbox import alert_rows, insert_new_alerts, targets, write_jobs
from server.attendees.filling import fill_captured
from server.auth.principal import Principal
from server.bulk_insert import insert_rows
from server.crm import outbox as crm_outbox
from server.crm.outbox import CapturedPushes, active_connection_ref
from server.db_types import utcnow
from server.devices.models import Device
from server.errors import fail, fail_validation
from server.events.models import Event
from server.extensions import db
from server.leads.access import visible_leads
from server.leads.lifecycle import TransitionRefused, change_status
from server.leads.merging import (
    DuplicateFinder,
    duplicate_record,
    lead_values,
    merged_changes,
    primary_id,
)
from server.leads.models import Activity, ActivityKind, Lead, LeadStatus
from server.privacy.consent import record_changed_consent, record_consents
from server.privacy.service import flag_recaptures
from server.routing.router import EventPeople, Router, load_people
from server.users.models import Role, User
from server.users.service import require_role
from server.versioning import next_server_version
from sync.contact import ContactError, normalise_email, normalise_phone
from sync.leads import IDENTITY_MESSAGE, lacks_identity
from sync.questions import answer_errors, drop_blank_answers
from sync.scoring import score_lead

PLAIN_COLUMNS = (
    "first_name",
    "last_name",
    "company",
    "job_title",
    "country",
    "region",
    "source",
    "badge_payload",
    "rating",
    "notes",
    "follow_up",
)
# What a tablet (or a manager fixing a typo) may change after capture.
EDITABLE_FIELDS = frozenset(
    {*PLAIN_COLUMNS, "email", "phone", "answers", "products", "consent"} - {"source"}
)


# Edits to these change what the CRM's context note says.
CONTEXT_FIELDS = frozenset({"notes", "answers", "products", "rating"})


class LeadRejected(Exception):
    """A lead that can never be stored as sent; errors are keyed by field."""

    def __init__(self, errors: dict[str, Any]):
        super().__init__("lead rejected")
        self.errors = errors


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


def lead_columns(
    event: Event, fields: dict[str, Any], *, team: Set[int], partial: bool = False
) -> dict[str, Any]:
    """Validate a tablet's lead fields against event; return the column values to store.

    Raises LeadRejected with every problem found, so a tablet can show them all at once.
    """
    errors: dict[str, Any] = {}
    columns = {name: _blank_to_none(fields[name]) for name in PLAIN_COLUMNS if name in fields}
    if "email" in fields:
        email = _blank_to_none(fields["email"])
        try:
            columns["email"] = normalise_email(email) if email else None
        except ContactError as error:
            errors["email"] = [str(error)]
    if "phone" in fields:
        phone = _blank_to_none(fields["phone"])
        try:
            columns["phone"] = normalise_phone(phone, event.country) if phone else None
        except ContactError as error:
            errors["phone"] = [str(error)]
    if "answers" in fields:
        problems = answer_errors(event.questions, fields["answers"])
        if problems:
            errors["answers"] = problems
        columns["answers"] = drop_blank_answers(fields["answers"])
    if "products" in fields:
        offered = {product["id"] for product in event.products}
        unknown = sorted(set(fields["products"]) - offered)
        if unknown:
            errors["products"] = [f"This event has no product {', '.join(unknown)}."]
        columns["products"] = list(dict.fromkeys(fields["products"]))
    if "consent" in fields and "given" not in (fields["consent"] or {}):
        # A PATCH loads the consent object partially: whether it was given must still be said.
        errors["consent"] = {"given": ["Say whether consent was given."]}
    elif "consent" in fields:
        consent = fields["consent"]
        columns["consent_given"] = consent["given"]
        columns["consent_version"] = consent.get("version") if consent["given"] else None
        columns["consent_at"] = consent.get("at") if consent["given"] else None
        version = columns["consent_version"]
        if consent["given"] and not (version and 1 <= version <= event.consent_version):
            errors["consent"] = {"version": ["Give the version of this event's consent text."]}
    if "captured_by_id" in fields and fields["captured_by_id"] not in team:
        errors["captured_by_id"] = ["This person does not work this event."]
    if not partial and lacks_identity(columns):
        errors["_schema"] = [IDENTITY_MESSAGE]
    if errors:
        raise LeadRejected(errors)
    return columns


def _log(lead: Lead, kind: ActivityKind, principal: Principal, **detail: Any) -> None:
    db.session.add(
        Activity(
            lead_id=lead.id,
            kind=kind,
            at=utcnow(),
            actor_user_id=principal.user.id if principal.user else None,
            actor_device_id=principal.device.id if principal.device else None,
            detail=detail,
        )
    )


# Every column a captured lead's row sets, so that a batch of rows shares one shape
# and goes to the database as one multi-row INSERT.
CAPTURED_COLUMNS = (
    *PLAIN_COLUMNS,
    "email",
    "phone",
    "answers",
    "products",
    "consent_given",
    "consent_version",
    "consent_at",
)
_EMPTY = {"answers": dict, "products": list, "consent_given": bool, "follow_up": bool}


def _score_columns(event: Event, answers: dict[str, Any], products: list[str]) -> dict[str, Any]:
    rubric = event.rubric or {}
    score = score_lead(rubric, answers, products)
    return {
        "score_points": score.points,
        "score_band": score.band,
        "score_reasons": score.reasons,
        "rubric_version": rubric.get("version", 0),
    }


class CapturedLeads:
    """Rows of newly captured leads, their first timeline entries and the alerts they owe.

    Each lead is scored and routed as it is queued; everything goes to the database
    in the caller's transaction, so a lead is never stored without its alert jobs.
    """

    def __init__(self, device: Device):
        self.device = device
        self.duplicates = DuplicateFinder(device.event_id)
        # New lead id -> the earlier lead it was merged into, for the push's answer.
        self.merged: dict[uuid.UUID, uuid.UUID] = {}
        self.leads: list[dict[str, Any]] = []
        self.activities: list[dict[str, Any]] = []
        self.alerts: list[dict[str, Any]] = []
        # (lead id, fields, columns) of every lead added, for record_people().
        self.created: list[tuple[uuid.UUID, dict[str, Any], dict[str, Any]]] = []
        # Rep id -> where their new-lead alerts go: the same for every lead of a batch.
        self._alert_targets: dict[int, list[tuple[Channel, str]]] = {}

    @functools.cached_property
    def event(self) -> Event:
        """Return the tablet's event (read once per batch, not once per lead)."""
        return self.device.event

    @functools.cached_property
    def people(self) -> EventPeople:
        """Return the event's team and routing's people, loaded on first use (edits need none)."""
        return load_people(self.event)

    @functools.cached_property
    def crm_pushes(self) -> CapturedPushes:
        """Return the CRM jobs of this push's leads (one look-up of the event's connection)."""
        return CapturedPushes(active_connection_ref(self.device.event_id))

    @functools.cached_property
    def router(self) -> Router:
        """Return the event's router."""
        return Router(self.event, self.people)

    def _activity(
        self, lead_id: uuid.UUID, kind: ActivityKind, at: datetime, **detail: Any
    ) -> None:
        self.activities.append(
            {
                "lead_id": lead_id,
                "kind": kind,
                "at": at,
                "actor_user_id": None,
                "actor_device_id": self.device.id,
                "detail": detail,
            }
        )

    def columns(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Validate a captured lead's fields; return its columns or raise LeadRejected."""
        return lead_columns(self.event, fields, team=self.people.team)

    def add(
        self,
        lead_id: uuid.UUID,
        fields: dict[str, Any],
        version: int,
        columns: dict[str, Any] | None = None,
    ) -> None:
        """Queue a lead captured on the device, at server version; raise LeadRejected.

        columns, when given, are what columns(fields) returned (validated earlier).
        """
        if columns is None:
            columns = self.columns(fields)
        now = utcnow()
        event = self.event
        row = {name: columns.get(name) for name in CAPTURED_COLUMNS}
        for name, empty in _EMPTY.items():
            if name not in columns:
                row[name] = empty()
        # A badge-only capture takes the visitor's details from the event's list.
        filled = fill_captured(event, row) if row.get("badge_payload") else []
        row.update(_score_columns(event, row["answers"], row["products"]))
        row.update(
            id=lead_id,
            event_id=self.device.event_id,
            device_id=self.device.id,
            captured_by_id=fields["captured_by_id"],
            captured_at=fields["captured_at"],
            received_at=now,
            updated_at=now,
            status=LeadStatus.NEW,
            owner_id=None,
            assigned_at=None,
            alerted_at=None,
            acknowledged_at=None,
            first_contact_at=None,
            server_version=version,
            field_versions={},
            consent_by_id=fields["captured_by_id"] if row["consent_given"] else None,
            merged_into_id=None,
        )
        self.leads.append(row)
        self.created.append((lead_id, fields, columns))
        scored = {key: row[key] for key in ("score_points", "score_band", "rubric_version")}
        captured_at = fields["captured_at"].isoformat()
        self._activity(lead_id, ActivityKind.CAPTURED, now, captured_at=captured_at)
        self._activity(lead_id, ActivityKind.RECEIVED, now)
        self._activity(lead_id, ActivityKind.SCORED, now, **scored, reasons=row["score_reasons"])
        if filled:
            self._activity(
                lead_id, ActivityKind.EDITED, now, fields=filled, **{"from": "attendee_list"}
            )
        primary = self.duplicates.find(row)
        if primary is not None:
            # Already captured at this event: no second owner, no second alert.
            self._merge_into(primary, row, now)
            return
        self.duplicates.remember(row)
        decision = self.router.route(row)
        self._activity(
            lead_id,
            ActivityKind.ROUTED,
            now,
            rule=decision.rule,
            to_owner_id=decision.owner_id,
            **decision.detail,
        )
        if decision.owner_id is not None:
            row.update(owner_id=decision.owner_id, status=LeadStatus.ASSIGNED, assigned_at=now)
            owner = self.router.users[decision.owner_id]
            channels = self._alert_targets.get(owner.id)
            if channels is None:
                channels = self._alert_targets[owner.id] = targets(event, owner)
            self.alerts += alert_rows(event, owner, lead_id, AlertKind.NEW_LEAD, now, channels)
        # The visitor's thank-you email, when consented to (server/alerts/thank_you.py).
        purposes = (fields.get("consent") or {}).get("purposes")
        self.alerts += thank_you.rows_for_capture(event, row, purposes, now, self.alerts)
        # The event's CRM, when it has one and consent allows sales follow-up (server/crm/).
        self.crm_pushes.add(row, purposes, now)

    def _merge_into(
        self, primary: Lead | dict[str, Any], row: dict[str, Any], now: datetime
    ) -> None:
        """Mark row as a repeat of primary and fold what it adds into primary."""
        target = primary_id(primary)
        row["merged_into_id"] = self.merged[row["id"]] = target
        self._activity(row["id"], ActivityKind.MERGED, now, into_lead_id=str(target))
        self._activity(target, ActivityKind.MERGED, now, **duplicate_record(row))
        if isinstance(primary, dict):
            changes = merged_changes(primary, row)
            primary.update(changes)
            if {"answers", "products"} & changes.keys():
                primary.update(_score_columns(self.event, primary["answers"], primary["products"]))
            return
        # The CRM record gets this capture's context too (its note lists repeat captures).
        crm_outbox.request_update(primary, note=True)
        changes = merged_changes(lead_values(primary), row)
        if not changes:
            return
        version = next_server_version()
        field_versions = dict(primary.field_versions or {})
        for column, value in changes.items():
            setattr(primary, column, value)
            field_versions[column] = [version, None]
        if {"answers", "products"} & changes.keys():
            for column, value in _score_columns(
                primary.event, primary.answers, primary.products
            ).items():
                setattr(primary, column, value)
        primary.field_versions = field_versions
        primary.server_version = version

    def insert(self) -> None:
        """Insert the queued rows (leads first: activities refer to them)."""
        if self.leads:
            # Core inserts of the tables: ORM bulk inserts cost several times more per row.
            insert_rows(Lead.__table__, self.leads)
            insert_rows(Activity.__table__, self.activities)
        write_jobs(self.alerts)
        if "crm_pushes" in self.__dict__:
            self.crm_pushes.insert()
        self.leads, self.activities, self.alerts = [], [], []
        # Inserted rows are found in the database from now on, where changes to them stick.
        self.duplicates.forget_batch()

    def record_people(self) -> set[uuid.UUID]:
        """After insert(): flag people who asked to be forgotten, write consent records.

        Returns the ids of the flagged leads (server/privacy).
        """
        flagged = flag_recaptures(
            (lead_id, columns.get("email"), columns.get("phone"))
            for lead_id, _fields, columns in self.created
        )
        record_consents(
            self.device,
            (
                (lead_id, fields["consent"], fields["captured_by_id"])
                for lead_id, fields, _columns in self.created
                if fields.get("consent")
            ),
        )
        return flagged


def ingest_lead(device: Device, fields: dict[str, Any]) -> tuple[Lead, bool]:
    """Store a lead a tablet captured; return it and whether it was new.

    Sending the same lead id again returns the stored lead unchanged, so a tablet
    that lost the answer can simply retry.
    """
    existing = db.session.get(Lead, fields["id"])
    if existing is not None:
        if existing.device_id != device.id:
            fail(403, "This lead belongs to another tablet.")
        return existing, False
    captured = CapturedLeads(device)
    try:
        captured.add(fields["id"], fields, next_server_version())
        captured.insert()
        captured.record_people()
        db.session.commit()
    except LeadRejected as rejected:
        db.session.rollback()
        fail_validation(rejected.errors)
    except IntegrityError:
        # The same lead raced in on another connection: answer as for a replay.
        db.session.rollback()
        if db.session.get(Lead, fields["id"]) is None:
            raise
        return ingest_lead(device, fields)
    return db.session.get_one(Lead, fields["id"]), True


# The API field each tablet-editable column belongs to (consent spans three columns).
CONSENT_COLUMNS = ("consent_given", "consent_version", "consent_at")


def _columns_of(field: str) -> tuple[str, ...]:
    return CONSENT_COLUMNS if field == "consent" else (field,)


def _api_value(lead: Lead, field: str) -> Any:
    from server.leads.schemas import LeadSchema

    return LeadSchema(only=[field]).dump(lead)[field]


def edit_fields(
    lead: Lead,
    fields: dict[str, Any],
    version: int,
    principal: Principal,
    *,
    base_version: int | None = None,
    sent: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Change a lead's contact and qualification fields; return the conflicts met.

    With base_version (a tablet's edit), a field that someone else changed after
    base_version keeps the server's value, and the tablet's value is returned as a
    conflict. Raises LeadRejected when the new values are invalid.
    """
    columns = lead_columns(lead.event, fields, partial=True, team=set())
    editor = principal.device.id if principal.device else None
    field_versions = dict(lead.field_versions or {})
    conflicts, changed = [], []
    for field in fields:
        changed_at, changed_by = field_versions.get(field, (0, None))
        if base_version is not None and changed_at > base_version and changed_by != editor:
            conflicts.append(
                {
                    "field": field,
                    "server_value": _api_value(lead, field),
                    "device_value": (sent or {}).get(field),
                }
            )
            continue
        for column in _columns_of(field):
            setattr(lead, column, columns[column])
        field_versions[field] = [version, editor]
        changed.append(field)
    if {"answers", "products"} & set(changed):
        for column, value in _score_columns(lead.event, lead.answers, lead.products).items():
            setattr(lead, column, value)
    if changed:
        lead.field_versions = field_versions
        lead.server_version = version
        _log(lead, ActivityKind.EDITED, principal, fields=changed)
    if "consent" in changed:
        record_changed_consent(lead, fields["consent"], editor)
    if changed:
        # The CRM record follows the edit; a changed note, answers or rating earn a new note.
        crm_outbox.request_update(lead, note=bool(CONTEXT_FIELDS & set(changed)))
    if {"consent", "email"} & set(changed):
        # Consent (or an address) given later: the thank-you is owed now, if never queued.
        purposes = (fields.get("consent") or {}).get("purposes")
        insert_new_alerts(thank_you.rows_for_edit(lead, purposes, utcnow()))
    return conflicts


def _reassign(lead: Lead, principal: Principal, owner_id: int) -> None:
    if not principal.is_manager:
        fail(403, "Only admins and marketers reassign leads.")
    owner: User = require_role(owner_id, "owner_id", Role.REP)
    if owner.id == lead.owner_id:
        return
    kind = ActivityKind.REASSIGNED if lead.owner_id else ActivityKind.ROUTED
    _log(lead, kind, principal, from_owner_id=lead.owner_id, to_owner_id=owner.id, rule="manual")
    lead.owner_id = owner.id
    lead.assigned_at = utcnow()
    crm_outbox.request_update(lead)  # the CRM record's owner follows
    # The new owner hears of it like of a new lead (once: the outbox key is per rep).
    insert_new_alerts(alert_rows(lead.event, owner, lead.id, AlertKind.NEW_LEAD, utcnow()))
    if lead.status == LeadStatus.NEW:
        lead.status = LeadStatus.ASSIGNED


def _change_status(lead: Lead, principal: Principal, changes: dict[str, Any]) -> None:
    try:
        change_status(
            lead,
            changes["status"],
            reason=changes.get("reason"),
            value=changes.get("value"),
            actor_user_id=principal.user.id if principal.user else None,
            actor_device_id=principal.device.id if principal.device else None,
        )
    except TransitionRefused as refused:
        if refused.status == 422:
            fail(422, refused.message, errors={"json": refused.errors})
        fail(refused.status, refused.message)


def change_lead(principal: Principal, lead: Lead, changes: dict[str, Any]) -> Lead:
    """Apply field edits, an owner change and/or a status change, each on the timeline."""
    if principal.device is not None:
        fail(403, "Tablets change leads through sync.")
    version = next_server_version()
    edits = {name: value for name, value in changes.items() if name in EDITABLE_FIELDS}
    if edits:
        try:
            edit_fields(lead, edits, version, principal)
        except LeadRejected as rejected:
            db.session.rollback()
            fail_validation(rejected.errors)
    if "owner_id" in changes:
        _reassign(lead, principal, changes["owner_id"])
    if "status" in changes:
        _change_status(lead, principal, changes)
    lead.server_version = version
    lead_id = lead.id  # read before the commit expires it (reading it after costs a query)
    db.session.commit()
    # The answer shows the lead and its owner, both expired by the commit: one query.
    return db.session.scalars(
        select(Lead).where(Lead.id == lead_id).options(joinedload(Lead.owner))
    ).one()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_leads(principal: Principal, args: dict[str, Any]) -> dict[str, Any]:
    """Return one page of the leads principal may see, filtered as args say."""
    # A capture merged into an earlier lead of the same person is shown on that lead.
    query = visible_leads(principal).where(Lead.merged_into_id.is_(None))
    if "event_id" in args:
        query = query.where(Lead.event_id == args["event_id"])
    if args.get("status"):
        query = query.where(Lead.status.in_(args["status"]))
    if args.get("rating"):
        query = query.where(Lead.rating.in_(args["rating"]))
    if "owner_id" in args:
        query = query.where(Lead.owner_id == args["owner_id"])
    if "captured_from" in args:
        query = query.where(Lead.captured_at >= args["captured_from"])
    if "captured_to" in args:
        query = query.where(Lead.captured_at < args["captured_to"])
    if args.get("q"):
        pattern = f"%{_escape_like(args['q'].lower())}%"
        searched = (Lead.first_name, Lead.last_name, Lead.email, Lead.company)
        query = query.where(
            or_(*(func.lower(column).like(pattern, escape="\\") for column in searched))
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page, size = args["page"], args["page_size"]
    items = db.session.scalars(
        query.order_by(Lead.received_at.desc(), Lead.id).offset((page - 1) * size).limit(size)
    )
    return {"items": list(items), "page": page, "page_size": size, "total": total}


def timeline(lead_id: uuid.UUID) -> list[Activity]:
    """Return a lead's activities in the order they happened on the server."""
    query = select(Activity).where(Activity.lead_id == lead_id).order_by(Activity.id)
    return list(db.session.scalars(query))
