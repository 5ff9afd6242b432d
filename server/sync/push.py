"""Apply a tablet's batch of mutations exactly once (docs/sync-protocol.md, push)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import marshmallow as ma
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from server.auth.principal import Principal
from server.bulk_insert import insert_rows
from server.db_types import utcnow
from server.devices.models import Device
from server.errors import RETRYABLE_DB_ERRORS, fail
from server.extensions import db
from server.leads.models import Lead
from server.leads.schemas import LeadContactSchema, LeadCreateSchema
from server.leads.service import (
    EDITABLE_FIELDS,
    CapturedLeads,
    LeadRejected,
    edit_fields,
)
from server.ops.logs import describe_error
from server.ops.requestid import current_request_id
from server.sync.decode import decode_create, decode_update
from server.sync.models import MutationReceipt
from server.versioning import is_provisional, reserve_server_versions, stamp_versions

log = logging.getLogger(__name__)

_CREATE_SCHEMA = LeadCreateSchema()
_UPDATE_SCHEMA = LeadContactSchema(partial=True)


class _Rejected(Exception):
    def __init__(self, errors: dict[str, Any]):
        super().__init__("mutation rejected")
        self.errors = errors


# Statements of every push, built once: building a statement and its cache key cost
# more CPU than running it (docs/performance.md).
_LOCK_DEVICE = (
    update(Device.__table__)
    .where(Device.__table__.c.id == bindparam("device_id"))
    .values(last_mutation_id=Device.__table__.c.last_mutation_id)
    .returning(Device.__table__.c.last_mutation_id)
)
_RECORD_LAST_MUTATION = (
    update(Device.__table__)
    .where(Device.__table__.c.id == bindparam("device_id"))
    .values(last_mutation_id=bindparam("new_last"))
)
_LEADS_BY_ID = select(Lead).where(Lead.id.in_(bindparam("lead_ids", expanding=True)))
# What a batch of creates only needs to know of its leads: whether each is stored, whose it
# is and its version. Three columns, not a Lead object of every column (most are not stored).
_LEAD_OWNERS = select(Lead.id, Lead.device_id, Lead.server_version).where(
    Lead.id.in_(bindparam("lead_ids", expanding=True))
)


def _lock_device(device: Device) -> int:
    """Lock the tablet's row for this transaction and return its last mutation id.

    A write as the first statement makes SQLite take its write lock now (not at the
    first insert) and PostgreSQL lock the row, so two pushes from one tablet run
    one after the other and cannot both apply the same mutation.
    """
    return db.session.execute(_LOCK_DEVICE, {"device_id": device.id}).scalar_one()


def _result(mutation: dict[str, Any], outcome: str, **extra: Any) -> dict[str, Any]:
    return {
        "mutation_id": mutation["mutation_id"],
        "lead_id": mutation["lead_id"],
        "outcome": outcome,
        "replayed": False,
        "server_version": None,
        "conflicts": [],
        "errors": {},
        **extra,
    }


# A tablet re-paired as a new device still holds the leads of its earlier pairing; an
# edit to one must not block the rest of its queue, so it is rejected on its own.
FOREIGN_LEAD = (
    "This lead belongs to another tablet (or to this tablet's earlier pairing):"
    " change it on the web pages."
)


def _known_leads(
    device: Device, mutations: list[dict[str, Any]]
) -> tuple[dict[uuid.UUID, Lead], dict[uuid.UUID, int], set[uuid.UUID]]:
    """Look up the batch's stored leads in one query.

    Returns this tablet's leads as objects (only when the batch edits some), the versions
    of this tablet's leads, and the ids of other tablets' leads.
    """
    lead_ids = sorted({mutation["lead_id"] for mutation in mutations})
    if any(mutation["kind"] != "create" for mutation in mutations):
        rows = db.session.scalars(_LEADS_BY_ID, {"lead_ids": lead_ids}).all()
    else:
        rows = db.session.execute(_LEAD_OWNERS, {"lead_ids": lead_ids}).all()
    mine, versions, foreign = {}, {}, set()
    for lead in rows:
        if lead.device_id != device.id:
            foreign.add(lead.id)
            continue
        versions[lead.id] = lead.server_version
        if isinstance(lead, Lead):
            mine[lead.id] = lead
    return mine, versions, foreign


def _load(
    schema: ma.Schema,
    fast: Callable[[dict[str, Any]], dict[str, Any] | None],
    fields: dict[str, Any],
) -> dict[str, Any]:
    """Load a mutation's fields with the fast decoder; the schema words any refusal."""
    loaded = fast(fields)
    if loaded is not None:
        return loaded
    try:
        return schema.load(fields)
    except ma.ValidationError as error:
        raise _Rejected(error.normalized_messages()) from None


class _Batch:
    """The leads a batch touches: loaded ones, and ones captured in this very batch."""

    def __init__(self, device: Device, mutations: list[dict[str, Any]]):
        self.device = device
        self.leads, self.stored_versions, self.foreign = _known_leads(device, mutations)
        self.captured = CapturedLeads(device)
        self.new_versions: dict[uuid.UUID, int] = {}
        self.results: list[dict[str, Any]] = []

    def version_of(self, lead_id: uuid.UUID) -> int | None:
        lead = self.leads.get(lead_id)
        if lead is not None:
            return lead.server_version
        stored = self.stored_versions.get(lead_id)
        return stored if stored is not None else self.new_versions.get(lead_id)

    def lead(self, lead_id: uuid.UUID) -> Lead | None:
        """Return a lead as an ORM object, inserting queued new leads first if needed."""
        if lead_id in self.new_versions and lead_id not in self.leads:
            self.captured.insert()
            self.leads[lead_id] = db.session.get_one(Lead, lead_id)
        return self.leads.get(lead_id)


Checked = tuple[dict[str, Any], dict[str, Any]] | _Rejected


def _check_create(batch: _Batch, mutation: dict[str, Any]) -> Checked:
    """Validate a create's fields; return (fields, columns), or the rejection.

    Done for the whole batch before the people in it are locked (server/leads/merging.py),
    so the pure-Python work of validating holds no lock.
    """
    try:
        fields = _load(
            _CREATE_SCHEMA, decode_create, {**mutation["fields"], "id": str(mutation["lead_id"])}
        )
        return fields, batch.captured.columns(fields)
    except LeadRejected as rejected:
        return _Rejected(rejected.errors)
    except _Rejected as rejected:
        return rejected


def _valid_columns(checks: Iterable[Checked]) -> Iterator[dict[str, Any]]:
    for check in checks:
        if not isinstance(check, _Rejected):
            yield check[1]


def _apply_create(
    batch: _Batch, mutation: dict[str, Any], version: int, checked: Checked
) -> dict[str, Any]:
    known_version = batch.version_of(mutation["lead_id"])
    if known_version is not None:
        # The lead is already here: a create sent again under a new id is a replay.
        return _result(mutation, "applied", server_version=known_version)
    if isinstance(checked, _Rejected):
        raise checked
    fields, columns = checked
    try:
        batch.captured.add(mutation["lead_id"], fields, version, columns)
    except LeadRejected as rejected:
        raise _Rejected(rejected.errors) from None
    batch.new_versions[mutation["lead_id"]] = version
    return _result(mutation, "applied", server_version=version)


def _apply_update(batch: _Batch, mutation: dict[str, Any], version: int) -> dict[str, Any]:
    device = batch.device
    lead = batch.lead(mutation["lead_id"])
    if lead is None:
        raise _Rejected({"lead_id": ["The server has no such lead; send it as a create."]})
    not_editable = sorted(set(mutation["fields"]) - EDITABLE_FIELDS)
    if not_editable:
        raise _Rejected(
            {name: ["This field cannot be changed after capture."] for name in not_editable}
        )
    fields = _load(_UPDATE_SCHEMA, decode_update, mutation["fields"])
    if not fields:
        raise _Rejected({"fields": ["Give at least one field to change."]})
    try:
        conflicts = edit_fields(
            lead,
            fields,
            version,
            Principal(device=device),
            base_version=mutation.get("base_version") or 0,
            sent=mutation["fields"],
        )
    except LeadRejected as rejected:
        raise _Rejected(rejected.errors) from None
    return _result(mutation, "applied", server_version=lead.server_version, conflicts=conflicts)


def _receipt(device: Device, mutation: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """Return the receipt row a replay of mutation will be answered from."""
    return {
        "device_id": device.id,
        "mutation_id": mutation["mutation_id"],
        "lead_id": mutation["lead_id"],
        "kind": mutation["kind"],
        "outcome": result["outcome"],
        "payload": json.dumps(mutation["fields"], default=str),
        "result": json.dumps(
            {"errors": result["errors"], "conflicts": result["conflicts"]}, default=str
        ),
        "created_at": utcnow(),
    }


def _write_receipts(rows: list[dict[str, Any]]) -> None:
    if rows:
        insert_rows(MutationReceipt.__table__, rows)


def _replay(device: Device, mutations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Answer already-handled mutations again with their original outcome."""
    if not mutations:
        return []
    ids = [mutation["mutation_id"] for mutation in mutations]
    receipts = {
        receipt.mutation_id: receipt
        for receipt in db.session.scalars(
            select(MutationReceipt).where(
                MutationReceipt.device_id == device.id, MutationReceipt.mutation_id.in_(ids)
            )
        )
    }
    lead_ids = {mutation["lead_id"] for mutation in mutations}
    stored = {
        row.id: row
        for row in db.session.execute(
            select(Lead.id, Lead.server_version, Lead.merged_into_id).where(Lead.id.in_(lead_ids))
        )
    }
    results = []
    for mutation in mutations:
        receipt = receipts.get(mutation["mutation_id"])
        answer = json.loads(receipt.result) if receipt else {}
        outcome = receipt.outcome if receipt else "applied"
        lead = stored.get(mutation["lead_id"])
        result = _result(
            mutation,
            outcome,
            replayed=True,
            server_version=lead.server_version if lead and outcome == "applied" else None,
            conflicts=answer.get("conflicts", []),
            errors=answer.get("errors", {}),
        )
        if lead and lead.merged_into_id and mutation["kind"] == "create":
            result["merged_into_id"] = lead.merged_into_id  # as the first answer said
        results.append(result)
    return results


def _apply(device: Device, mutations: list[dict[str, Any]], first_version: int) -> _Batch:
    """Apply consecutive fresh mutations as one batch; return it, with their results.

    Validation raises no exception out of here: a mutation that can never be valid is
    answered as rejected. Anything else that escapes is unexpected (see _apply_isolated).
    """
    batch = _Batch(device, mutations)
    checked = {
        m["mutation_id"]: _check_create(batch, m) for m in mutations if m["kind"] == "create"
    }
    # One query for the earlier captures of every person in the batch, with those people
    # locked until commit, so a concurrent push of the same person waits and then sees this.
    batch.captured.duplicates.prefetch([columns for columns in _valid_columns(checked.values())])
    results, receipts = batch.results, []
    # Every rejection is raised before anything is queued, so a rejected mutation needs
    # no savepoint to undo it. No autoflush: the whole batch goes in at the end, as
    # multi-row INSERTs.
    with db.session.no_autoflush:
        for offset, mutation in enumerate(mutations):
            version = first_version + offset
            try:
                if mutation["lead_id"] in batch.foreign:
                    raise _Rejected({"lead_id": [FOREIGN_LEAD]})
                if mutation["kind"] == "create":
                    result = _apply_create(
                        batch, mutation, version, checked[mutation["mutation_id"]]
                    )
                else:
                    result = _apply_update(batch, mutation, version)
            except _Rejected as rejected:
                result = _result(mutation, "rejected", errors=rejected.errors)
            if result["outcome"] == "rejected" or result["conflicts"]:
                receipts.append(_receipt(device, mutation, result))
            results.append(result)
    _write_receipts(receipts)
    batch.captured.insert()
    # A person who asked to be forgotten, captured again, is flagged (server/privacy).
    flagged = batch.captured.record_people()
    for result in results:
        if result["lead_id"] in flagged:
            result["previously_erased"] = True
        if result["lead_id"] in batch.captured.merged:
            result["merged_into_id"] = batch.captured.merged[result["lead_id"]]
    return batch


# What a tablet is told of a mutation that failed for a reason of the server's own
# (docs/sync-protocol.md): "_schema" is the key tablets show above the whole form.
UNEXPECTED = (
    "The server could not store this change, for a reason of its own (not what was typed)."
    " It is kept for an administrator to look into."
)
UNEXPECTED_ERRORS = {"_schema": [UNEXPECTED]}


def _unexpected(device: Device, mutation: dict[str, Any], error: Exception) -> dict[str, Any]:
    """Log an unexpected failure of one mutation, record it as rejected, return the result."""
    # The request id and mutation id only (with the kind of error and where it was
    # raised): an exception's message may quote the lead it choked on.
    log.error(
        "Mutation %d of device %d rejected: unexpected %s",
        mutation["mutation_id"],
        device.id,
        describe_error(error),
        extra={"request_id": current_request_id(), "device_id": device.id},
    )
    result = _result(mutation, "rejected", errors=UNEXPECTED_ERRORS)
    _write_receipts([_receipt(device, mutation, result)])
    return result


def apply_isolated(
    device: Device, mutations: list[dict[str, Any]], first_version: int
) -> tuple[list[dict[str, Any]], list[_Batch]]:
    """Apply the batch so that an unexpected error in one mutation rejects only that one.

    The whole batch goes first, in one savepoint (the fast path: one pass, multi-row
    INSERTs). Should anything unexpected escape it, that savepoint is rolled back and
    each mutation is applied again alone, in a savepoint of its own: the failing ones
    are rejected with a generic reason and their payloads kept; the rest are applied.
    Returns the results in mutation order, and the batches applied: keep those until
    the versions are stamped, they hold the leads changed (see push).
    """
    try:
        with db.session.begin_nested():
            batch = _apply(device, mutations, first_version)
        return batch.results, [batch]
    except RETRYABLE_DB_ERRORS:
        raise
    except Exception:  # noqa: BLE001 - found again, and logged, mutation by mutation below
        pass
    results, batches = [], []
    for offset, mutation in enumerate(mutations):
        try:
            with db.session.begin_nested():
                # Kept aside until the savepoint is released: that flush may fail too.
                applied = _apply(device, [mutation], first_version + offset)
            results += applied.results
            batches.append(applied)
        except RETRYABLE_DB_ERRORS:
            raise
        except Exception as error:  # noqa: BLE001 - whatever it is, it fails this one alone
            results.append(_unexpected(device, mutation, error))
    return results, batches


def push(device: Device, mutations: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply a batch in one transaction; answer 409 at a hole in the mutation ids."""
    last = _lock_device(device)
    handled = [m for m in mutations if m["mutation_id"] <= last]
    fresh = [m for m in mutations if m["mutation_id"] > last]
    results = _replay(device, handled)
    following = []
    for mutation in fresh:
        if mutation["mutation_id"] != last + 1 + len(following):
            break
        following.append(mutation)
    if following:
        first_version = reserve_server_versions(len(following))
        # Held until stamp_versions below: it gives real versions to the leads the
        # session still holds, and the session holds only the objects referenced.
        applied, batches = apply_isolated(device, following, first_version)
        results += applied
    new_last = last + len(following)
    if new_last != last:
        # Core, not the ORM's flush: one prepared UPDATE, on the row locked above.
        db.session.execute(_RECORD_LAST_MUTATION, {"device_id": device.id, "new_last": new_last})
    set_committed_value(device, "last_mutation_id", new_last)
    # The versions taken above are provisional until now (server/versioning.py).
    shift = stamp_versions()
    for result in results:
        if is_provisional(result["server_version"]):
            result["server_version"] += shift
    db.session.commit()
    if len(following) < len(fresh):
        fail(
            409,
            f"Mutation ids must follow on without a hole: the server needs {new_last + 1} next.",
            errors={"expected_mutation_id": new_last + 1},
        )
    return {"results": results, "last_mutation_id": new_last}
